package mediastream

import (
	"context"
	"errors"

	"github.com/voxgate/voxgate/media"
)

// sinkFunc adapts a frame consumer to media.Sink.
type sinkFunc func(p []int16)

func (f sinkFunc) WriteFrame(p []int16) error { f(p); return nil }

// Connect runs <Connect><Stream> on leg: Start (bidirectional), then
// Serve. A stream that cannot be opened returns its *Error at once;
// otherwise Connect returns when the stream has ended, with the stream
// (its Err says why) and the leg's error if the leg failed.
func Connect(ctx context.Context, leg media.Leg, cfg Config) (*Stream, error) {
	cfg.Bidirectional = true
	s, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return s, s.Serve(ctx, leg)
}

// Serve connects a bidirectional stream to leg until the stream ends —
// the server closed it (Err is ErrServerClosed), it failed (an *Error),
// or ctx ended (the call hung up) —, then stops it: it streams what the
// caller says, sends their keypresses (taken from leg.DTMF() meanwhile),
// and plays what the server sends. The engine then requests <Connect
// action> or runs the next verb. It returns the leg's error, if the leg
// failed other than by closing.
func (s *Stream) Serve(ctx context.Context, leg media.Leg) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.Done():
		case <-leg.Done():
		case <-ctx.Done():
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
	err := leg.Play(ctx, s)
	cancel()
	<-recorded
	<-digitsDone
	s.Stop()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, media.ErrLegClosed) {
		return err
	}
	return nil
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

// InboundSink is the stream's inbound track as a media.Sink (for a tap
// on the call's audio), nil when the track is not streamed. Sinks are
// pointers, so taps can compare them.
func (s *Stream) InboundSink() media.Sink {
	if s.in == nil {
		return nil
	}
	return &trackSink{s: s, t: s.in}
}

// OutboundSink is the stream's outbound track as a media.Sink (what the
// gateway plays to the caller), nil when the track is not streamed.
func (s *Stream) OutboundSink() media.Sink {
	if s.outb == nil {
		return nil
	}
	return &trackSink{s: s, t: s.outb}
}

// trackSink feeds one track of a stream.
type trackSink struct {
	s *Stream
	t *trackClock
}

func (k *trackSink) WriteFrame(p []int16) error {
	k.s.writeTrack(k.t, p)
	return nil
}
