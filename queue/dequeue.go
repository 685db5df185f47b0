package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/voxgate/voxgate/media"
)

// Front names the head of a queue in Redirect, as in Twilio's Members
// resource.
const Front = "Front"

// TakeFront hands the caller at the front of the named queue to a
// <Dial><Queue> call: its wait ends with Outcome{Bridged, Leg: leg,
// DequeuerSID: dequeuerSID}, any offer for it is withdrawn, and the
// returned MemberInfo describes it as it was (position 1). An empty or
// unknown queue gives ErrNoCaller. Finished on that entry does nothing:
// the bridge is between two calls, not an agent's.
func (m *Manager) TakeFront(queue string, dequeuerSID string, leg media.Leg) (MemberInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.takeFront(queue, dequeuerSID, leg)
}

// TakeFrontWait is TakeFront that waits for a caller to arrive (an empty
// <Dial><Queue> waits up to the Dial timeout) until ctx ends or the
// Manager closes.
func (m *Manager) TakeFrontWait(ctx context.Context, queue string, dequeuerSID string, leg media.Leg) (MemberInfo, error) {
	for {
		m.mu.Lock()
		mi, err := m.takeFront(queue, dequeuerSID, leg)
		if err == nil || m.closed || !isNoCaller(err) {
			m.mu.Unlock()
			return mi, err
		}
		arrived := m.arrivals[queue]
		if arrived == nil {
			arrived = make(chan struct{})
			m.arrivals[queue] = arrived
		}
		m.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return MemberInfo{}, fmt.Errorf("queue %q: waiting for a caller: %w", queue, ctx.Err())
		case <-m.done:
			return MemberInfo{}, ErrClosed
		}
	}
}

// takeFront is TakeFront under the lock.
func (m *Manager) takeFront(queue, dequeuerSID string, leg media.Leg) (MemberInfo, error) {
	if m.closed {
		return MemberInfo{}, ErrClosed
	}
	q := m.queues[queue]
	if q == nil || len(q.members) == 0 {
		return MemberInfo{}, fmt.Errorf("queue %q: take front: %w", queue, ErrNoCaller)
	}
	e := q.members[0]
	mi := e.info(1, m.clock.Now())
	m.finish(e, Outcome{Kind: Bridged, Leg: leg, DequeuerSID: dequeuerSID})
	m.dispatch()
	return mi, nil
}

// Redirect moves a waiting caller, named by call SID or Front, to another
// TwiML document (REST Members update): its wait ends with
// Outcome{Dequeued, URL, Method} (Method defaults to POST) and the
// returned MemberInfo describes it as it was. An unknown queue or a caller
// not waiting there gives ErrNoCaller.
func (m *Manager) Redirect(queueSID, callSID string, url, method string) (MemberInfo, error) {
	if method == "" {
		method = http.MethodPost
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return MemberInfo{}, ErrClosed
	}
	q := m.bySID[queueSID]
	if q == nil {
		return MemberInfo{}, fmt.Errorf("queue %s: redirect %s: %w", queueSID, callSID, ErrNoCaller)
	}
	pos := 0
	for i, e := range q.members {
		if (callSID == Front && i == 0) || e.caller.CallSID == callSID {
			pos = i + 1
			break
		}
	}
	if pos == 0 {
		return MemberInfo{}, fmt.Errorf("queue %s: redirect %s: %w", queueSID, callSID, ErrNoCaller)
	}
	e := q.members[pos-1]
	mi := e.info(pos, m.clock.Now())
	m.finish(e, Outcome{Kind: Dequeued, URL: url, Method: method})
	m.dispatch()
	return mi, nil
}

// isNoCaller reports whether err is ErrNoCaller.
func isNoCaller(err error) bool { return errors.Is(err, ErrNoCaller) }
