package queue

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/clock"
)

// ErrClosed is returned by Manager methods after Close.
var ErrClosed = errors.New("queue: manager closed")

// Manager owns every queue, waiting caller and signed-in agent. All of its
// state sits behind one mutex, taken by each exported method (of the
// Manager, Entry and AgentSession) and by its timers; nothing it calls
// while holding the lock blocks (sends go to buffered channels with room).
// It starts no goroutines of its own: its timers run on Config.Clock.
//
// Routing: each queue orders its callers by Priority (higher first), then
// by arrival. Whenever something changes, every free agent (signed in,
// available, not ringing, not bridged, not in wrap-up) is matched with the
// best waiting caller of the queues it serves, taking callers in priority
// then arrival order across queues and giving each one to the eligible
// agent idle longest (idle since SignIn, SetAvailable(true) or the end of
// its last wrap-up). Each caller has at most one outstanding offer and
// each agent at most one. An offer that rings out makes the agent
// unavailable, so an absent agent does not ring again; a rejected caller
// goes to another free agent when there is one. Direct Ring calls take
// precedence over queue callers for their agent.
type Manager struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed by Close
	seq      uint64        // arrival order of entries
	idleSeq  uint64        // order in which agents became idle
	queues   map[string]*queueState
	bySID    map[string]*queueState
	agents   map[string]*AgentSession
	direct   map[string][]*Entry // Ring entries by agent ID, oldest first
	arrivals map[string]chan struct{}
	// flushStop cancels the pending QueuesChanged flush; nil when none is
	// pending.
	flushStop func() bool
}

// queueState is one named queue.
type queueState struct {
	sid, name string
	maxSize   int
	members   []*Entry // front first
}

// NewManager returns a Manager with cfg's zero fields defaulted.
func NewManager(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	return &Manager{
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		done:     make(chan struct{}),
		queues:   map[string]*queueState{},
		bySID:    map[string]*queueState{},
		agents:   map[string]*AgentSession{},
		direct:   map[string][]*Entry{},
		arrivals: map[string]chan struct{}{},
	}
}

// Close stops every timer the Manager owns, ends every agent session
// (closing its Events channel) and wakes TakeFrontWait callers with
// ErrClosed. Waiting entries receive no Outcome: their calls are expected
// to end with the gateway. Later calls fail with ErrClosed or do nothing.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	for _, q := range m.queues {
		for _, e := range q.members {
			e.stopTimer()
		}
	}
	for _, list := range m.direct {
		for _, e := range list {
			e.stopTimer()
		}
	}
	for _, s := range m.agents {
		if s.offer != nil {
			s.offer.stop()
		}
		s.stopWrapUp()
		s.ended = true
		close(s.events)
	}
	clear(m.agents)
	if m.flushStop != nil {
		m.flushStop()
		m.flushStop = nil
	}
	close(m.done)
}

// Queues describes every queue the Manager has seen, by name.
func (m *Manager) Queues() []QueueInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	out := make([]QueueInfo, 0, len(m.queues))
	for _, q := range m.queues {
		out = append(out, q.info(now))
	}
	slices.SortFunc(out, func(a, b QueueInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// QueueBySID describes the queue with that SID, if the Manager has seen it.
func (m *Manager) QueueBySID(sid string) (QueueInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.bySID[sid]
	if q == nil {
		return QueueInfo{}, false
	}
	return q.info(m.clock.Now()), true
}

// QueueByName describes the named queue, if the Manager has seen it.
func (m *Manager) QueueByName(name string) (QueueInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[name]
	if q == nil {
		return QueueInfo{}, false
	}
	return q.info(m.clock.Now()), true
}

// Members describes the callers waiting in the queue, front first (nil for
// an unknown queue). Callers ringing an agent are still members.
func (m *Manager) Members(queueSID string) []MemberInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.bySID[queueSID]
	if q == nil {
		return nil
	}
	now := m.clock.Now()
	out := make([]MemberInfo, len(q.members))
	for i, e := range q.members {
		out[i] = e.info(i+1, now)
	}
	return out
}

// info describes q at now.
func (q *queueState) info(now time.Time) QueueInfo {
	qi := QueueInfo{SID: q.sid, Name: q.name, Size: len(q.members), MaxSize: q.maxSize}
	if len(q.members) > 0 {
		var total time.Duration
		for _, e := range q.members {
			total += now.Sub(e.enqueued)
		}
		qi.AverageWait = total / time.Duration(len(q.members))
	}
	return qi
}

// insert places e by priority, then arrival.
func (q *queueState) insert(e *Entry) {
	i, _ := slices.BinarySearchFunc(q.members, e, compareEntries)
	q.members = slices.Insert(q.members, i, e)
}

// remove takes e out of the queue; it reports whether e was there.
func (q *queueState) remove(e *Entry) bool {
	i := slices.Index(q.members, e)
	if i < 0 {
		return false
	}
	q.members = slices.Delete(q.members, i, i+1)
	return true
}

// position is e's 1-based place in the queue, 0 if absent.
func (q *queueState) position(e *Entry) int {
	return slices.Index(q.members, e) + 1
}

// compareEntries orders callers: higher priority first, then arrival.
func compareEntries(a, b *Entry) int {
	if a.caller.Priority != b.caller.Priority {
		if a.caller.Priority > b.caller.Priority {
			return -1
		}
		return 1
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}
