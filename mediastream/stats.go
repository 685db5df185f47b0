package mediastream

import (
	"sync"
	"sync/atomic"
)

// Stats are counters shared by a gateway's streams, read by /metrics. A
// nil *Stats counts nothing.
type Stats struct {
	Active        atomic.Int64  // streams running
	Started       atomic.Uint64 // streams that connected
	FramesSent    atomic.Uint64 // media frames written to servers
	FramesDropped atomic.Uint64 // frames and control messages dropped because a server was behind
	PlayoutLost   atomic.Uint64 // bytes of server audio discarded (more than MaxPlayout queued)

	mu       sync.Mutex
	failures map[int]uint64 // streams ended by an error, by Twilio code
	warnings map[int]uint64 // warnings by Twilio code
}

func (s *Stats) started() {
	if s != nil {
		s.Started.Add(1)
		s.Active.Add(1)
	}
}

func (s *Stats) ended() {
	if s != nil {
		s.Active.Add(-1)
	}
}

func (s *Stats) sent() {
	if s != nil {
		s.FramesSent.Add(1)
	}
}

func (s *Stats) dropped() {
	if s != nil {
		s.FramesDropped.Add(1)
	}
}

func (s *Stats) discarded(n int) {
	if s != nil {
		s.PlayoutLost.Add(uint64(n))
	}
}

func (s *Stats) failed(code int) {
	if s != nil {
		s.count(&s.failures, code)
	}
}

func (s *Stats) warned(code int) {
	if s != nil {
		s.count(&s.warnings, code)
	}
}

func (s *Stats) count(m *map[int]uint64, code int) {
	s.mu.Lock()
	if *m == nil {
		*m = map[int]uint64{}
	}
	(*m)[code]++
	s.mu.Unlock()
}

// Failures returns a copy of the failure counts by error code.
func (s *Stats) Failures() map[int]uint64 { return s.snapshot(&s.failures) }

// Warnings returns a copy of the warning counts by code.
func (s *Stats) Warnings() map[int]uint64 { return s.snapshot(&s.warnings) }

func (s *Stats) snapshot(m *map[int]uint64) map[int]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]uint64, len(*m))
	for k, v := range *m {
		out[k] = v
	}
	return out
}
