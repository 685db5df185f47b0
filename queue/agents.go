package queue

import "sort"

// AgentInfo describes a signed-in agent now, for live boards.
type AgentInfo struct {
	ID, Name string
	Queues   []string
	// Activity is "offline" (signed in, not available), "available",
	// "offered" (an offer is ringing), "on-call" or "wrap-up".
	Activity string
	// CallSID and From name the caller of the agent's current task (the
	// offer or the bridged call), "" when there is none.
	CallSID, From string
	// Queue is the queue the current task came from.
	Queue string
}

// Agents describes the signed-in agents, ordered by ID.
func (m *Manager) Agents() []AgentInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]AgentInfo, 0, len(m.agents))
	for _, s := range m.agents {
		a := AgentInfo{ID: s.agent.ID, Name: s.agent.Name, Queues: append([]string(nil), s.agent.Queues...), Activity: "offline"}
		var task *Entry
		switch {
		case s.bridged != nil:
			a.Activity, task = "on-call", s.bridged
		case s.offer != nil:
			a.Activity, task = "offered", s.offer.entry
		case s.wrapping:
			a.Activity = "wrap-up"
		case s.available:
			a.Activity = "available"
		}
		if task != nil {
			a.CallSID, a.From, a.Queue = task.caller.CallSID, task.caller.From, task.queueName
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
