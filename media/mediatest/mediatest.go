// Package mediatest has helpers for tests of code that plays and records
// audio through media.Leg, as net/http/httptest has for HTTP.
package mediatest

import (
	"sync"

	"github.com/voxgate/voxgate/media"
)

// CollectSink is a media.Sink that keeps every sample written to it. It
// is safe for a leg's goroutine to write while a test reads Samples.
type CollectSink struct {
	mu      sync.Mutex
	samples []int16
}

var _ media.Sink = (*CollectSink)(nil)

// WriteFrame appends p.
func (s *CollectSink) WriteFrame(p []int16) error {
	s.mu.Lock()
	s.samples = append(s.samples, p...)
	s.mu.Unlock()
	return nil
}

// Samples returns a copy of what has been written so far.
func (s *CollectSink) Samples() []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.samples...)
}
