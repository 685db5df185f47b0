package media

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// constSource gives endless frames of one sample value.
type constSource struct{ v int16 }

func (s constSource) ReadFrame(p []int16) (int, error) {
	for i := range p {
		p[i] = s.v
	}
	return len(p), nil
}

// sumSink adds up the samples written to it.
type sumSink struct {
	mu  sync.Mutex
	sum int
}

func (s *sumSink) WriteFrame(p []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range p {
		s.sum += int(v)
	}
	return nil
}

func (s *sumSink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

// TestTapForksBothDirections: a fork hears what is played on the tap and
// what the leg receives, until it is stopped.
func TestTapForksBothDirections(t *testing.T) {
	leg := newMemLeg(0)
	tap := NewTap(leg)
	in, out := &sumSink{}, &sumSink{}
	stop := tap.Fork(in, out)
	ctx, cancel := context.WithCancel(context.Background())
	played := make(chan error, 1)
	go func() { played <- tap.Play(ctx, constSource{3}) }()
	for deadline := time.Now().Add(2 * time.Second); !leg.Attached(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fork's Record and the Play never started")
		}
	}
	leg.Step(t)
	leg.Step(t)
	leg.Feed(t, make([]int16, FrameSamples))
	frame := make([]int16, FrameSamples)
	frame[0] = 5
	leg.Feed(t, frame)
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	leg.Step(t) // after stop: nobody listens
	leg.Feed(t, frame)
	cancel()
	if err := <-played; !errors.Is(err, context.Canceled) {
		t.Errorf("Play: %v", err)
	}
	if got, want := out.total(), 2*FrameSamples*3; got != want {
		t.Errorf("the fork heard %d of what was played, want %d", got, want)
	}
	if got := in.total(); got != 5 {
		t.Errorf("the fork heard %d of what was received, want 5", got)
	}
}

// TestTapTeeDoesNotAllocate: a frame through the tee to two listeners
// allocates nothing.
func TestTapTeeDoesNotAllocate(t *testing.T) {
	tap := NewTap(newMemLeg(0))
	stopA, stopB := tap.Fork(nil, &sumSink{}), tap.Fork(nil, &sumSink{})
	defer stopA()
	defer stopB()
	tee := &teeSource{src: constSource{1}, tap: tap}
	frame := make([]int16, FrameSamples)
	if allocs := testing.AllocsPerRun(500, func() { _, _ = tee.ReadFrame(frame) }); allocs != 0 {
		t.Errorf("%.1f allocations per frame, want 0", allocs)
	}
}
