package queue

import (
	"cmp"
	"slices"
)

// dispatch makes every offer that can be made now. It runs, under the
// lock, at the end of each operation that may free an agent or add a
// caller.
//
// Ring calls come first: a free agent is offered the oldest call meant for
// it, available or not. Then queue callers, best first across the queues
// that available agents serve (priority, then arrival), each going to the
// eligible agent idle longest. A caller is not offered again to an agent
// that rejected it while another eligible agent is free, and such an
// agent gets the next caller it has not rejected instead; a second pass
// allows a rejected pairing, so no agent stays idle next to a caller it
// serves. (An agent that let an offer ring out is unavailable, so it is
// not excluded this way: once back it may get the same caller.)
func (m *Manager) dispatch() {
	if m.closed {
		return
	}
	for id := range m.direct {
		s := m.agents[id]
		if s == nil || !s.free() {
			continue
		}
		for _, e := range m.direct[id] {
			if e.offer == nil {
				m.makeOffer(s, e)
				break
			}
		}
	}

	var agents []*AgentSession
	for _, s := range m.agents {
		if s.available && s.free() {
			agents = append(agents, s)
		}
	}
	if len(agents) == 0 {
		return
	}
	slices.SortFunc(agents, func(a, b *AgentSession) int {
		if c := a.idleSince.Compare(b.idleSince); c != 0 {
			return c
		}
		return cmp.Compare(a.idleSeq, b.idleSeq)
	})

	var callers []*Entry
	seen := map[*queueState]bool{}
	for _, s := range agents {
		for _, name := range s.agent.Queues {
			q := m.queues[name]
			if q == nil || seen[q] {
				continue
			}
			seen[q] = true
			for _, e := range q.members {
				if e.offer == nil {
					callers = append(callers, e)
				}
			}
		}
	}
	slices.SortFunc(callers, compareEntries)

	for _, again := range []bool{false, true} {
		for _, e := range callers {
			if len(agents) == 0 {
				return
			}
			if e.state != waiting || e.offer != nil {
				continue
			}
			for {
				i := slices.IndexFunc(agents, func(s *AgentSession) bool {
					return s.serves(e.queueName) && (again || !e.rejectedBy[s.agent.ID])
				})
				if i < 0 {
					break
				}
				s := agents[i]
				agents = slices.Delete(agents, i, i+1)
				if m.makeOffer(s, e) {
					break
				}
			}
		}
	}
}
