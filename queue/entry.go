package queue

import (
	"fmt"
	"maps"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// entryState is where an Entry is in its life.
type entryState int

const (
	waiting entryState = iota // in its queue (or waiting for its agent), maybe ringing one
	bridged                   // accepted by an agent; Finished not yet called
	over                      // done: outcome delivered, left, or finished
)

// Entry is one caller's wait, made by Enqueue (a queue member) or Ring (a
// direct call to one agent). It is safe for concurrent use.
type Entry struct {
	m         *Manager
	q         *queueState // nil for a Ring entry
	queueSID  string
	queueName string
	agentID   string // Ring: the agent rung
	caller    Caller
	seq       uint64
	outcome   chan Outcome

	// Guarded by m.mu.
	state      entryState
	enqueued   time.Time
	left       time.Time
	offer      *offer
	rejectedBy map[string]bool // agents that rejected this caller
	bridgedTo  *AgentSession
	// acceptedOffer is the ID of the offer the agent accepted.
	acceptedOffer string
	stopAfter     func() bool // the Caller.Timeout timer
}

// Enqueue puts a caller at its place in the named queue (created on demand)
// and starts routing it to agents. maxSize, when positive, is the size
// limit for this arrival (<Enqueue maxQueueSize>); 0 uses the queue's.
// A full queue gives ErrQueueFull.
func (m *Manager) Enqueue(queue string, c Caller, maxSize int) (*Entry, error) {
	if queue == "" {
		return nil, fmt.Errorf("queue: enqueue %s: empty queue name", c.CallSID)
	}
	var resolvedSID string
	var resolvedMax int
	if m.cfg.Resolve != nil {
		var err error
		resolvedSID, resolvedMax, err = m.cfg.Resolve(queue)
		if err != nil {
			return nil, fmt.Errorf("queue: resolve %q: %w", queue, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	q := m.queueNamed(queue, resolvedSID, resolvedMax)
	limit := q.maxSize
	if maxSize > 0 {
		limit = maxSize
	}
	if len(q.members) >= limit {
		return nil, fmt.Errorf("queue %q (%d of %d): %w", queue, len(q.members), limit, ErrQueueFull)
	}
	e := m.newEntry(c)
	e.q, e.queueSID, e.queueName = q, q.sid, q.name
	q.insert(e)
	m.queueChanged(q)
	if ch := m.arrivals[queue]; ch != nil {
		close(ch)
		delete(m.arrivals, queue)
	}
	m.dispatch()
	return e, nil
}

// Ring offers a caller straight to one signed-in agent (<Dial><Client>).
// The agent's availability switch is ignored (a registered softphone
// rings), but a busy agent (ringing, bridged or in wrap-up) is offered the
// call only once free, so the dialler bounds the wait with Caller.Timeout
// or Leave. Accept delivers Outcome Bridged; a reject, an expired offer
// or the agent signing out delivers Outcome TimedOut (no-answer). An
// agent who is not signed in gives ErrNoAgent.
func (m *Manager) Ring(agentID string, c Caller) (*Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.agents[agentID] == nil {
		return nil, fmt.Errorf("queue: ring %q: %w", agentID, ErrNoAgent)
	}
	e := m.newEntry(c)
	e.agentID = agentID
	m.direct[agentID] = append(m.direct[agentID], e)
	m.dispatch()
	return e, nil
}

// newEntry makes a waiting entry for c and starts its Caller.Timeout.
func (m *Manager) newEntry(c Caller) *Entry {
	m.seq++
	if c.Attributes != nil {
		c.Attributes = maps.Clone(c.Attributes)
	}
	e := &Entry{m: m, caller: c, seq: m.seq, outcome: make(chan Outcome, 1), enqueued: m.clock.Now()}
	if c.Timeout > 0 {
		e.stopAfter = m.clock.AfterFunc(c.Timeout, func() { m.callerTimedOut(e) })
	}
	return e
}

// queueNamed returns the named queue, creating it, and applies what
// Resolve said about it (sid "" and size 0 when Resolve is nil).
func (m *Manager) queueNamed(name, resolvedSID string, resolvedMax int) *queueState {
	q := m.queues[name]
	if q == nil {
		q = &queueState{name: name, sid: resolvedSID}
		if q.sid == "" {
			q.sid = sid.New(sid.Queue)
		}
		m.queues[name] = q
		m.bySID[q.sid] = q
	} else if resolvedSID != "" && resolvedSID != q.sid && len(q.members) == 0 {
		// The store recreated the queue: follow it while nobody waits.
		delete(m.bySID, q.sid)
		q.sid = resolvedSID
		m.bySID[q.sid] = q
	}
	switch {
	case resolvedMax > 0:
		q.maxSize = resolvedMax
	case q.maxSize == 0:
		q.maxSize = m.cfg.DefaultMaxSize
	}
	return q
}

// QueueSID is the SID of the entry's queue ("" for a Ring entry).
func (e *Entry) QueueSID() string { return e.queueSID }

// QueueName is the name of the entry's queue ("" for a Ring entry).
func (e *Entry) QueueName() string { return e.queueName }

// Info describes the caller now: its 1-based position while it waits in a
// queue (0 once it left, or for a Ring entry) and its wait so far (frozen
// when it left).
func (e *Entry) Info() MemberInfo {
	m := e.m
	m.mu.Lock()
	defer m.mu.Unlock()
	pos := 0
	if e.state == waiting && e.q != nil {
		pos = e.q.position(e)
	}
	return e.info(pos, m.clock.Now())
}

// info describes e at position pos.
func (e *Entry) info(pos int, now time.Time) MemberInfo {
	end := now
	if e.state != waiting {
		end = e.left
	}
	mi := MemberInfo{
		CallSID:    e.caller.CallSID,
		QueueSID:   e.queueSID,
		From:       e.caller.From,
		Position:   pos,
		Enqueued:   e.enqueued,
		Wait:       end.Sub(e.enqueued),
		Priority:   e.caller.Priority,
		Attributes: e.caller.Attributes,
	}
	if e.offer != nil {
		mi.OfferedTo = e.offer.session.agent.ID
	}
	return mi
}

// Outcome receives how the wait ended, exactly once, unless Leave came
// first (then never). The channel is buffered and never closed.
func (e *Entry) Outcome() <-chan Outcome { return e.outcome }

// Leave ends the wait because the caller is gone (hung up, <Leave>,
// redirected): it leaves its queue and any offer for it is withdrawn. On
// an entry already bridged to an agent it acts as Finished. Idempotent.
func (e *Entry) Leave() {
	m := e.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	switch e.state {
	case waiting:
		m.remove(e)
		e.state = over
	case bridged:
		m.finishBridge(e)
	}
	m.dispatch()
}

// Finished says the bridge that followed a Bridged outcome is over: the
// agent is told (CallEnded) and starts wrap-up, after which it can be
// offered callers again. Nothing happens for other entries. Idempotent.
func (e *Entry) Finished() {
	m := e.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || e.state != bridged {
		return
	}
	m.finishBridge(e)
	m.dispatch()
}

// finishBridge ends e's bridge with its agent.
func (m *Manager) finishBridge(e *Entry) {
	e.state = over
	s := e.bridgedTo
	e.bridgedTo = nil
	if s == nil || s.ended || s.bridged != e {
		return
	}
	s.bridged = nil
	m.startWrapUp(s)
	m.sendCritical(s, AgentEvent{Kind: CallEnded, Offer: offerView(e, e.acceptedOffer, time.Time{}, m.clock.Now())})
}

// finish ends a waiting entry with out.
func (m *Manager) finish(e *Entry, out Outcome) {
	if e.state != waiting {
		return
	}
	m.remove(e)
	e.state = over
	e.outcome <- out // buffered, and this is the only send
}

// remove takes a waiting entry out of its queue or agent list, stops its
// timer and withdraws its offer. The caller sets e.state.
func (m *Manager) remove(e *Entry) {
	e.left = m.clock.Now()
	e.stopTimer()
	if e.q != nil {
		if e.q.remove(e) {
			m.queueChanged(e.q)
		}
	} else {
		m.removeDirect(e)
	}
	if o := e.offer; o != nil {
		m.dropOffer(o)
		m.sendCritical(o.session, AgentEvent{Kind: OfferWithdrawn, Offer: o.view(m.clock.Now())})
	}
}

// removeDirect takes a Ring entry off its agent's list.
func (m *Manager) removeDirect(e *Entry) {
	list := m.direct[e.agentID]
	for i, x := range list {
		if x == e {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.direct, e.agentID)
	} else {
		m.direct[e.agentID] = list
	}
}

// callerTimedOut ends e's wait when its Caller.Timeout passes.
func (m *Manager) callerTimedOut(e *Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || e.state != waiting {
		return
	}
	m.log.Debug("queue: caller wait timed out", "call_sid", e.caller.CallSID, "queue", e.queueName)
	m.finish(e, Outcome{Kind: TimedOut})
	m.dispatch()
}

// stopTimer cancels the Caller.Timeout timer.
func (e *Entry) stopTimer() {
	if e.stopAfter != nil {
		e.stopAfter()
		e.stopAfter = nil
	}
}

// markRejected remembers that agentID turned e down.
func (e *Entry) markRejected(agentID string) {
	if e.rejectedBy == nil {
		e.rejectedBy = map[string]bool{}
	}
	e.rejectedBy[agentID] = true
}
