package mediatest

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Leg is an in-memory media.Leg for tests of code that drives calls. Play
// reads its source at once, with no pacing, and counts the samples each
// Play read; Record hands every sink the frames set with SetRecordFrames,
// then waits; Press injects DTMF digits; SendDTMF notes what was sent.
// Close ends it, as the far end hanging up would. The zero value is not
// usable: make one with NewLeg.
type Leg struct {
	dtmf chan media.Digit
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	played  []int // samples read by each Play
	sent    []string
	onPlay  func(n int)
	blockOn int // the Play that blocks until its context ends (-1: none)
	frames  [][]int16
}

var _ media.Leg = (*Leg)(nil)

// NewLeg returns a leg that is up.
func NewLeg() *Leg {
	return &Leg{dtmf: make(chan media.Digit, 32), done: make(chan struct{}), blockOn: -1}
}

// SetRecordFrames sets the frames every later Record delivers, as if the
// far end had sent them, before it waits for its end.
func (l *Leg) SetRecordFrames(frames [][]int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames = frames
}

// SetOnPlay makes f run before each Play starts, with the Play's number
// (from 0).
func (l *Leg) SetOnPlay(f func(n int)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onPlay = f
}

// BlockPlay makes Play number n (from 0) read nothing and block until its
// context ends or the leg closes, as a long prompt would.
func (l *Leg) BlockPlay(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blockOn = n
}

// Play implements media.Leg.
func (l *Leg) Play(ctx context.Context, src media.Source) error {
	l.mu.Lock()
	n := len(l.played)
	l.played = append(l.played, 0)
	hook, block := l.onPlay, l.blockOn == n
	l.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return media.ErrLegClosed
		}
	}
	frame := make([]int16, media.FrameSamples)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-l.done:
			return media.ErrLegClosed
		default:
		}
		k, err := src.ReadFrame(frame)
		l.mu.Lock()
		l.played[n] += k
		long := l.played[n] > 100*media.FrameSamples
		l.mu.Unlock()
		if long {
			time.Sleep(time.Millisecond) // endless sources (bridges, ringback) must not spin
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Record implements media.Leg.
func (l *Leg) Record(ctx context.Context, sink media.Sink) error {
	l.mu.Lock()
	frames := l.frames
	l.mu.Unlock()
	for _, f := range frames {
		if ctx.Err() != nil {
			return nil
		}
		if err := sink.WriteFrame(f); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-l.done:
		return media.ErrLegClosed
	}
}

// DTMF implements media.Leg.
func (l *Leg) DTMF() <-chan media.Digit { return l.dtmf }

// SendDTMF implements media.Leg: it notes digits.
func (l *Leg) SendDTMF(ctx context.Context, digits string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, digits)
	return nil
}

// Done implements media.Leg.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Close implements media.Leg.
func (l *Leg) Close(string) error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Press injects keys as digits the far end pressed (RFC 4733).
func (l *Leg) Press(keys string) {
	for i := 0; i < len(keys); i++ {
		l.dtmf <- media.Digit{Key: keys[i], Via: media.ViaRFC4733, At: time.Now()}
	}
}

// Plays returns how many samples each Play has read so far.
func (l *Leg) Plays() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.played)
}

// Sent returns the digits SendDTMF was asked to send, one string a call.
func (l *Leg) Sent() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}
