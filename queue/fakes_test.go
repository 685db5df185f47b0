package queue

import (
	"testing"
	"time"

	"github.com/voxgate/voxgate/clock/clocktest"
)

func newFakeClock() *clocktest.Fake {
	return clocktest.NewFake(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
}

// harness is a Manager on a fake clock.
type harness struct {
	t     *testing.T
	m     *Manager
	clock *clocktest.Fake
}

const (
	testOfferTimeout = 20 * time.Second
	testWrapUp       = 3 * time.Second
)

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := newFakeClock()
	cfg.Clock = clock
	if cfg.OfferTimeout == 0 {
		cfg.OfferTimeout = testOfferTimeout
	}
	if cfg.WrapUp == 0 {
		cfg.WrapUp = testWrapUp
	}
	m := NewManager(cfg)
	t.Cleanup(func() {
		if err := m.checkInvariants(); err != nil {
			t.Errorf("invariants at the end: %v", err)
		}
		m.Close()
	})
	return &harness{t: t, m: m, clock: clock}
}

// enqueue adds a caller and fails the test on error.
func (h *harness) enqueue(queue string, c Caller) *Entry {
	h.t.Helper()
	e, err := h.m.Enqueue(queue, c, 0)
	if err != nil {
		h.t.Fatalf("Enqueue(%q, %s): %v", queue, c.CallSID, err)
	}
	h.check()
	return e
}

// signIn signs an agent in, optionally available.
func (h *harness) signIn(id string, available bool, queues ...string) *AgentSession {
	h.t.Helper()
	s, err := h.m.SignIn(Agent{ID: id, Name: id, Queues: queues})
	if err != nil {
		h.t.Fatalf("SignIn(%s): %v", id, err)
	}
	if available {
		s.SetAvailable(true)
	}
	h.check()
	return s
}

// check fails the test if the Manager's invariants do not hold.
func (h *harness) check() {
	h.t.Helper()
	if err := h.m.checkInvariants(); err != nil {
		h.t.Fatal(err)
	}
}

// event returns s's next event other than QueuesChanged, failing if none
// is waiting.
func (h *harness) event(s *AgentSession) AgentEvent {
	h.t.Helper()
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				h.t.Fatalf("agent %s: events closed, want an event", s.agent.ID)
			}
			if ev.Kind == QueuesChanged {
				continue
			}
			return ev
		default:
			h.t.Fatalf("agent %s: no event waiting", s.agent.ID)
			return AgentEvent{}
		}
	}
}

// offerFor expects an OfferMade for callSID on s and returns it.
func (h *harness) offerFor(s *AgentSession, callSID string) Offer {
	h.t.Helper()
	ev := h.event(s)
	if ev.Kind != OfferMade || ev.Offer.CallSID != callSID {
		h.t.Fatalf("agent %s: got event %v for %q, want OfferMade for %q", s.agent.ID, ev.Kind, ev.Offer.CallSID, callSID)
	}
	return ev.Offer
}

// expectKind expects the next non-QueuesChanged event of s to be kind.
func (h *harness) expectKind(s *AgentSession, kind AgentEventKind) AgentEvent {
	h.t.Helper()
	ev := h.event(s)
	if ev.Kind != kind {
		h.t.Fatalf("agent %s: got event %v (call %q), want %v", s.agent.ID, ev.Kind, ev.Offer.CallSID, kind)
	}
	return ev
}

// quiet fails if s has an event other than QueuesChanged waiting.
func (h *harness) quiet(s *AgentSession) {
	h.t.Helper()
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return
			}
			if ev.Kind != QueuesChanged {
				h.t.Fatalf("agent %s: unexpected event %v (call %q)", s.agent.ID, ev.Kind, ev.Offer.CallSID)
			}
		default:
			return
		}
	}
}

// outcome returns e's outcome, failing if there is none yet.
func (h *harness) outcome(e *Entry) Outcome {
	h.t.Helper()
	select {
	case o := <-e.Outcome():
		return o
	default:
		h.t.Fatalf("call %s: no outcome", e.caller.CallSID)
		return Outcome{}
	}
}

// noOutcome fails if e has an outcome.
func (h *harness) noOutcome(e *Entry) {
	h.t.Helper()
	select {
	case o := <-e.Outcome():
		h.t.Fatalf("call %s: unexpected outcome %+v", e.caller.CallSID, o)
	default:
	}
}
