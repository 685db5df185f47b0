package media

import (
	"context"
	"sync"
	"sync/atomic"
)

// Tap is a Leg decorator that lets others listen to a call's audio in both
// directions, as a recording or a media stream does, while the call runs
// on the Tap as on the leg itself. What the far end sends reaches a
// listener through the leg's own Record; what is sent to the far end is
// read through a tee in Play, so everything played on the Tap (prompts,
// hold music, ringback, a bridged party) is heard. Listeners come and go
// while audio flows; the tee takes no lock and allocates nothing per
// frame.
type Tap struct {
	Leg
	out atomic.Pointer[[]*Sink] // listeners of sent audio; replaced, never changed
	mu  sync.Mutex              // serialises changes of out
}

// NewTap returns leg with a tap.
func NewTap(leg Leg) *Tap { return &Tap{Leg: leg} }

// Play implements Leg: src is played through a tee to the listeners of
// sent audio.
func (t *Tap) Play(ctx context.Context, src Source) error {
	return t.Leg.Play(ctx, &teeSource{src: src, tap: t})
}

// Fork hands the call's audio to in (each frame the far end sends) and to
// out (each frame sent to the far end, short frames padded with silence,
// on the sending leg's pacer); either may be nil. A listener must not
// block or keep the frame; what it returns is ignored. stop ends both and
// waits until neither is called any more; it returns how the leg's Record
// for in ended (nil, or ErrLegClosed when the leg ended first).
func (t *Tap) Fork(in, out Sink) (stop func() error) {
	var o *Sink // out's place in the listeners
	if out != nil {
		o = &out
		t.listen(o, true)
	}
	var cancel context.CancelFunc
	var done chan error
	if in != nil {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() { done <- t.Leg.Record(ctx, in) }()
	}
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			if o != nil {
				t.listen(o, false)
			}
			if in != nil {
				cancel()
				err = <-done
			}
		})
		return err
	}
}

// listen adds (on) or removes s from the listeners of sent audio.
func (t *Tap) listen(s *Sink, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var next []*Sink
	if cur := t.out.Load(); cur != nil {
		for _, x := range *cur {
			if x != s {
				next = append(next, x)
			}
		}
	}
	if on {
		next = append(next, s)
	}
	t.out.Store(&next)
}

// teeSource hands each frame its source gives to the tap's listeners.
type teeSource struct {
	src Source
	tap *Tap
}

// ReadFrame implements Source.
func (s *teeSource) ReadFrame(p []int16) (int, error) {
	n, err := s.src.ReadFrame(p)
	if n > 0 {
		if ls := s.tap.out.Load(); ls != nil && len(*ls) > 0 {
			if n < len(p) {
				clear(p[n:]) // the leg pads a short frame with silence too
			}
			for _, l := range *ls {
				_ = (*l).WriteFrame(p)
			}
		}
	}
	return n, err
}
