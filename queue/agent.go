package queue

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Agent event buffering. Events is buffered (eventBuffer) and the Manager
// never blocks on it. QueuesChanged events are only sent while fewer than
// queuesChangedRoom events are unread (otherwise they wait, coalesced, for
// the next flush), so half the buffer is kept for OfferMade,
// OfferWithdrawn, OfferExpired and CallEnded, which are never dropped. An
// agent has at most one offer at a time, so a reader that keeps up sees
// only a handful of events between two reads; a buffer full of them means
// the reader is stuck, and the session is then signed out (its channel is
// closed after the events it holds) rather than losing an event.
const (
	eventBuffer       = 64
	queuesChangedRoom = eventBuffer / 2
)

// AgentSession is one signed-in agent: its presence, its offer and its
// events. It is safe for concurrent use.
type AgentSession struct {
	m      *Manager
	agent  Agent
	events chan AgentEvent

	// Guarded by m.mu.
	ended       bool
	available   bool
	offer       *offer
	bridged     *Entry
	wrapping    bool
	stopWrap    func() bool
	idleSince   time.Time
	idleSeq     uint64
	queuesDirty bool
}

// SignIn starts a session for a. It starts unavailable (SetAvailable(true)
// to receive queue callers) and receives at once a QueuesChanged event
// describing its queues. A session already signed in with the same ID is
// signed out first; direct Ring calls waiting for that ID move to the new
// session.
func (m *Manager) SignIn(a Agent) (*AgentSession, error) {
	if a.ID == "" {
		return nil, errors.New("queue: sign in: empty agent ID")
	}
	a.Queues = slices.Clone(a.Queues)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if old := m.agents[a.ID]; old != nil {
		m.endSession(old, true)
	}
	s := &AgentSession{m: m, agent: a, events: make(chan AgentEvent, eventBuffer)}
	m.markIdle(s)
	m.agents[a.ID] = s
	s.events <- AgentEvent{Kind: QueuesChanged, Queues: m.queuesOf(s)}
	m.log.Debug("queue: agent signed in", "agent", a.ID, "queues", a.Queues)
	m.dispatch()
	return s, nil
}

// Agent returns the agent's identity as signed in.
func (s *AgentSession) Agent() Agent {
	a := s.agent
	a.Queues = slices.Clone(a.Queues)
	return a
}

// Events delivers what happens to the agent, in order. It holds up to 64
// unread events and the Manager never blocks on it: QueuesChanged is
// coalesced and held back while 32 or more events are unread, and the
// other kinds are never dropped. A reader that leaves the buffer full is
// taken for dead and signed out. The channel is closed, after the events
// it holds, when the session ends: SignOut, a new SignIn with the same
// ID, Manager.Close, or that full buffer.
func (s *AgentSession) Events() <-chan AgentEvent { return s.events }

// SetAvailable switches whether the agent takes queue callers. Becoming
// available restarts its idle time; becoming unavailable while a queue
// caller rings withdraws that offer (OfferWithdrawn) and re-routes the
// caller. A bridged or wrapping agent keeps the switch for later.
func (s *AgentSession) SetAvailable(available bool) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.ended || s.available == available {
		return
	}
	s.available = available
	if available {
		m.markIdle(s)
	} else if o := s.offer; o != nil && o.entry.q != nil {
		m.dropOffer(o)
		m.sendCritical(s, AgentEvent{Kind: OfferWithdrawn, Offer: o.view(m.clock.Now())})
	}
	m.dispatch()
}

// Accept takes the offered caller: its wait ends with Outcome{Bridged,
// Leg: leg, AgentID} and the agent is busy until the entry is Finished.
// leg is the agent's audio (the web layer negotiated it). An offer that
// expired, was withdrawn or is not this agent's gives ErrOfferGone; the
// leg was then not handed to anyone, and the caller of Accept closes it.
func (s *AgentSession) Accept(offerID string, leg media.Leg) error {
	if leg == nil {
		return fmt.Errorf("queue: accept %s: no audio leg", offerID)
	}
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	o := s.offer
	if s.ended || o == nil || o.id != offerID {
		return fmt.Errorf("queue: accept %s: %w", offerID, ErrOfferGone)
	}
	e := o.entry
	m.log.Debug("queue: offer accepted", "offer", o.id, "agent", s.agent.ID, "call_sid", e.caller.CallSID)
	m.dropOffer(o)
	m.finish(e, Outcome{Kind: Bridged, Leg: leg, AgentID: s.agent.ID})
	e.state, e.bridgedTo, e.acceptedOffer = bridged, s, o.id
	s.bridged = e
	m.dispatch()
	return nil
}

// Reject turns the offer down: a queued caller keeps its place and is
// offered to another available agent (this one again only when nobody
// else can take it); a Ring caller gets Outcome TimedOut. Unknown or
// stale offer IDs are ignored.
func (s *AgentSession) Reject(offerID string) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	o := s.offer
	if m.closed || s.ended || o == nil || o.id != offerID {
		return
	}
	m.log.Debug("queue: offer rejected", "offer", o.id, "agent", s.agent.ID)
	m.dropOffer(o)
	o.entry.markRejected(s.agent.ID)
	if o.entry.q == nil {
		m.finish(o.entry, Outcome{Kind: TimedOut})
	}
	m.dispatch()
}

// SignOut ends the session (the agent left or its connection dropped): a
// queued caller ringing it keeps its place and is offered again; Ring
// calls for it end with TimedOut; a bridge in progress is not touched
// (the call's own Finished still ends it). Events is closed. Idempotent.
func (s *AgentSession) SignOut() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || s.ended {
		return
	}
	m.endSession(s, false)
	m.dispatch()
}

// endSession signs s out. keepDirect keeps Ring calls waiting for its ID
// (a new session with that ID takes them).
func (m *Manager) endSession(s *AgentSession, keepDirect bool) {
	if s.ended {
		return
	}
	s.ended = true
	if m.agents[s.agent.ID] == s {
		delete(m.agents, s.agent.ID)
	}
	if o := s.offer; o != nil {
		m.dropOffer(o)
		if s.hasRoom() {
			s.events <- AgentEvent{Kind: OfferWithdrawn, Offer: o.view(m.clock.Now())}
		}
		if o.entry.q == nil && !keepDirect {
			m.finish(o.entry, Outcome{Kind: TimedOut})
		}
	}
	if !keepDirect {
		for _, e := range slices.Clone(m.direct[s.agent.ID]) {
			m.finish(e, Outcome{Kind: TimedOut})
		}
	}
	s.stopWrapUp()
	close(s.events)
	m.log.Debug("queue: agent signed out", "agent", s.agent.ID)
}

// sendCritical delivers an event that must not be lost; if s's buffer is
// full its reader is stuck and s is signed out instead.
func (m *Manager) sendCritical(s *AgentSession, ev AgentEvent) {
	if s.ended {
		return
	}
	if !s.hasRoom() {
		m.log.Warn("queue: agent's events are not being read; signing it out", "agent", s.agent.ID)
		m.endSession(s, false)
		return
	}
	s.events <- ev
}

// hasRoom reports whether an event can be sent without blocking. Only the
// Manager sends, under its lock, so the answer holds until it sends.
func (s *AgentSession) hasRoom() bool { return len(s.events) < cap(s.events) }

// free reports whether s could be offered a caller now, availability
// aside.
func (s *AgentSession) free() bool {
	return !s.ended && s.offer == nil && s.bridged == nil && !s.wrapping
}

// serves reports whether s takes callers of the named queue.
func (s *AgentSession) serves(queue string) bool { return slices.Contains(s.agent.Queues, queue) }

// markIdle records that s became idle now.
func (m *Manager) markIdle(s *AgentSession) {
	m.idleSeq++
	s.idleSince, s.idleSeq = m.clock.Now(), m.idleSeq
}

// startWrapUp makes s busy for the wrap-up time after a call.
func (m *Manager) startWrapUp(s *AgentSession) {
	if m.cfg.WrapUp <= 0 {
		m.markIdle(s)
		return
	}
	s.wrapping = true
	var stop func() bool
	stop = m.clock.AfterFunc(m.cfg.WrapUp, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || s.ended || !s.wrapping || s.stopWrap == nil {
			return
		}
		s.wrapping, s.stopWrap = false, nil
		m.markIdle(s)
		m.dispatch()
	})
	s.stopWrap = stop
}

// stopWrapUp cancels a wrap-up in progress.
func (s *AgentSession) stopWrapUp() {
	if s.stopWrap != nil {
		s.stopWrap()
		s.stopWrap = nil
	}
	s.wrapping = false
}
