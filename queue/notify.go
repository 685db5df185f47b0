package queue

// queueChanged notes that q's membership changed: the agents serving it
// get a QueuesChanged event at the next flush.
func (m *Manager) queueChanged(q *queueState) {
	marked := false
	for _, s := range m.agents {
		if s.serves(q.name) {
			s.queuesDirty = true
			marked = true
		}
	}
	if marked {
		m.scheduleFlush()
	}
}

// scheduleFlush arranges a flush after NotifyInterval unless one is
// pending, so changes within an interval coalesce into one event.
func (m *Manager) scheduleFlush() {
	if m.closed || m.flushStop != nil {
		return
	}
	m.flushStop = m.clock.AfterFunc(m.cfg.NotifyInterval, m.flush)
}

// flush sends QueuesChanged to agents whose queues changed. An agent with
// many unread events is skipped (its flag stays set) and retried at the
// next interval.
func (m *Manager) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.flushStop = nil
	retry := false
	for _, s := range m.agents {
		if !s.queuesDirty {
			continue
		}
		if len(s.events) >= queuesChangedRoom {
			retry = true
			continue
		}
		s.queuesDirty = false
		s.events <- AgentEvent{Kind: QueuesChanged, Queues: m.queuesOf(s)}
	}
	if retry {
		m.scheduleFlush()
	}
}

// queuesOf describes the queues s serves, in its order. A queue nobody has
// used yet has no SID and is empty.
func (m *Manager) queuesOf(s *AgentSession) []QueueInfo {
	now := m.clock.Now()
	out := make([]QueueInfo, 0, len(s.agent.Queues))
	for _, name := range s.agent.Queues {
		if q := m.queues[name]; q != nil {
			out = append(out, q.info(now))
		} else {
			out = append(out, QueueInfo{Name: name, MaxSize: m.cfg.DefaultMaxSize})
		}
	}
	return out
}
