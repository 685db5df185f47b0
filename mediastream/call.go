package mediastream

import (
	"context"
	"errors"

	"github.com/voxgate/voxgate/media"
)

// sinkFunc adapts a frame consumer to media.Sink.
type sinkFunc func(p []int16)

func (f sinkFunc) WriteFrame(p []int16) error { f(p); return nil }

// Connect runs <Connect><Stream> on leg: it dials the server, streams what
// the caller says, sends their keypresses, plays what the server sends
// back, and returns when the stream ends — the server closed it (Err is
// ErrServerClosed), it failed (an *Error), or ctx ended (the call hung up).
// The engine then requests <Connect action> or runs the next verb. A
// stream that cannot be opened returns its *Error at once.
//
// cfg.Bidirectional is forced on. The caller's digits are taken from
// leg.DTMF() for the duration.
func Connect(ctx context.Context, leg media.Leg, cfg Config) (*Stream, error) {
	cfg.Bidirectional = true
	s, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.Done():
		case <-leg.Done():
		}
		cancel()
	}()
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		_ = leg.Record(ctx, sinkFunc(s.WriteInbound))
	}()
	digitsDone := make(chan struct{})
	go func() {
		defer close(digitsDone)
		for {
			select {
			case d := <-leg.DTMF():
				s.DTMF(d.Key)
			case <-ctx.Done():
				return
			}
		}
	}()
	err = leg.Play(ctx, s)
	cancel()
	<-recorded
	<-digitsDone
	s.Stop()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, media.ErrLegClosed) {
		return s, err
	}
	return s, nil
}

// Fork runs a one-way stream (<Start><Stream>, the REST API) of leg's
// inbound audio beside whatever else the call does, until the stream is
// stopped, fails, or ctx ends. The outbound track is not heard on the leg:
// the engine's output tap feeds it with WriteOutbound.
func Fork(ctx context.Context, leg media.Leg, cfg Config) (*Stream, error) {
	cfg.Bidirectional = false
	s, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if s.in != nil {
		go func() {
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-s.Done():
				case <-rctx.Done():
				}
				cancel()
			}()
			_ = leg.Record(rctx, sinkFunc(s.WriteInbound))
		}()
	}
	return s, nil
}
