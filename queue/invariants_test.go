package queue

import (
	"fmt"
	"slices"
)

// checkInvariants verifies the Manager's bookkeeping: queues sorted and
// holding only waiting entries, offers linked both ways, at most one offer
// per caller and per agent, and no free available agent left next to an
// un-offered caller it serves (routing is work-conserving).
func (m *Manager) checkInvariants() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	for name, q := range m.queues {
		if q.name != name || m.bySID[q.sid] != q {
			return fmt.Errorf("queue %q: indexes disagree", name)
		}
		if !slices.IsSortedFunc(q.members, compareEntries) {
			return fmt.Errorf("queue %q: members out of order", name)
		}
		for _, e := range q.members {
			if e.state != waiting || e.q != q {
				return fmt.Errorf("queue %q: member %s in state %d", name, e.caller.CallSID, e.state)
			}
			if err := m.checkOffer(e); err != nil {
				return err
			}
		}
	}
	for id, list := range m.direct {
		if len(list) == 0 {
			return fmt.Errorf("agent %s: empty direct list kept", id)
		}
		for _, e := range list {
			if e.state != waiting || e.q != nil || e.agentID != id {
				return fmt.Errorf("agent %s: bad direct entry %s", id, e.caller.CallSID)
			}
			if err := m.checkOffer(e); err != nil {
				return err
			}
		}
	}
	for id, s := range m.agents {
		if s.ended || s.agent.ID != id {
			return fmt.Errorf("agent %s: ended or misfiled session", id)
		}
		if o := s.offer; o != nil {
			if o.session != s || o.entry.offer != o || o.entry.state != waiting {
				return fmt.Errorf("agent %s: offer %s not linked", id, o.id)
			}
			if s.bridged != nil || s.wrapping {
				return fmt.Errorf("agent %s: ringing while busy", id)
			}
		}
		if s.bridged != nil && (s.bridged.state != bridged || s.bridged.bridgedTo != s) {
			return fmt.Errorf("agent %s: bridge not linked", id)
		}
		if !s.free() {
			continue
		}
		for _, e := range m.direct[id] {
			if e.offer == nil {
				return fmt.Errorf("agent %s: free but not offered its ring %s", id, e.caller.CallSID)
			}
		}
		if !s.available {
			continue
		}
		for _, name := range s.agent.Queues {
			if q := m.queues[name]; q != nil {
				for _, e := range q.members {
					if e.offer == nil {
						return fmt.Errorf("agent %s: free and available, but caller %s waits un-offered in %q", id, e.caller.CallSID, name)
					}
				}
			}
		}
	}
	return nil
}

// checkOffer verifies e's offer, if any, is linked to a live session.
func (m *Manager) checkOffer(e *Entry) error {
	o := e.offer
	if o == nil {
		return nil
	}
	if o.entry != e || o.session.offer != o || o.session.ended || m.agents[o.session.agent.ID] != o.session {
		return fmt.Errorf("call %s: offer %s not linked", e.caller.CallSID, o.id)
	}
	return nil
}
