package media

// Bridge design
//
// A bridge connects two legs through the Leg interface only, so it joins
// SIP/RTP and WebRTC legs alike. Each direction is a JitterBuffer: the
// sending leg's Record delivers received frames into it on that leg's
// receive goroutine, and the other leg's Play reads it on that leg's 20 ms
// pacer. The buffer never ends the Play (it gives silence while empty), so
// each leg's own clock drives its output and the buffer absorbs jitter and
// clock drift between the two. Bridge runs the four calls (two Records,
// two Plays) on goroutines of its own, waits for the end, cancels them and
// waits for all four before it returns.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The values of BridgeResult.Ended.
const (
	BridgeCancelled = 0 // the context was cancelled
	BridgeLegAEnded = 1 // leg a ended (or failed)
	BridgeLegBEnded = 2 // leg b ended (or failed)
)

// BridgeResult says how a bridge ended.
type BridgeResult struct {
	// Ended is BridgeCancelled, BridgeLegAEnded or BridgeLegBEnded. When
	// a leg's Play or Record failed, it names that leg.
	Ended int
	// Duration is how long the bridge lasted.
	Duration time.Duration
}

// BridgeOptions tunes a bridge. The zero value is the default.
type BridgeOptions struct {
	// TapA, when set, receives a's audio as it is sent to b, one frame per
	// 20 ms of b's clock (silence included), for recording; TapB likewise
	// gets b's audio as sent to a. A tap runs inside the Play that sends
	// its audio (TapA on b's pacer, TapB on a's: two goroutines), so it
	// must not block and must not keep the frame; a caller wanting one
	// mixed recording mixes the two. A tap that fails gets no more frames;
	// the bridge goes on.
	TapA, TapB Sink
	// JitterFrames is the target depth of each direction's jitter buffer
	// in 20 ms frames: DefaultJitterFrames (60 ms) when zero, at most
	// MaxJitterFrames.
	JitterFrames int
}

// Bridge sends a's received audio to b and b's to a until ctx is cancelled
// or either leg ends (Done). It does not close the legs: the caller
// decides (<Dial> hangs up the child, the caller's call continues to the
// action URL). Options may be nil.
//
// While the bridge runs it holds both legs' Play: a Play already running
// on a leg delays the audio to that leg until it ends, so the caller stops
// hold music and prompts first. Bridge does not read DTMF: the legs' DTMF
// channels stay with the caller (hangupOnStar, for one). Every goroutine
// Bridge starts has ended when it returns.
//
// It returns an error when a leg's Play or Record fails other than by the
// leg ending (Ended then names that leg), or, with a valid result, when a
// tap failed.
func Bridge(ctx context.Context, a, b Leg, opts *BridgeOptions) (BridgeResult, error) {
	if a == nil || b == nil {
		return BridgeResult{}, errors.New("media: bridge: nil leg")
	}
	var o BridgeOptions
	if opts != nil {
		o = *opts
	}
	start := time.Now()
	aToB := &bridgeSource{buf: NewJitterBuffer(o.JitterFrames), tap: o.TapA}
	bToA := &bridgeSource{buf: NewJitterBuffer(o.JitterFrames), tap: o.TapB}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ops := [...]bridgeOp{
		{leg: BridgeLegAEnded, name: "record leg a", run: func() error { return a.Record(runCtx, aToB.buf) }},
		{leg: BridgeLegBEnded, name: "play leg b", run: func() error { return b.Play(runCtx, aToB) }},
		{leg: BridgeLegBEnded, name: "record leg b", run: func() error { return b.Record(runCtx, bToA.buf) }},
		{leg: BridgeLegAEnded, name: "play leg a", run: func() error { return a.Play(runCtx, bToA) }},
	}
	ended := make(chan bridgeOpEnd, len(ops)) // room for all: senders never block
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Go(func() { ended <- bridgeOpEnd{op: op, err: op.run()} })
	}

	res, err := waitBridgeEnd(ctx, a, b, ended)
	res.Duration = time.Since(start)
	cancel()
	wg.Wait()
	// The Plays have returned, so the legs no longer touch the sources.
	if err == nil {
		err = errors.Join(aToB.tapError("a"), bToA.tapError("b"))
	}
	return res, err
}

// bridgeOp is one of the four blocking calls a bridge runs.
type bridgeOp struct {
	leg  int    // BridgeLegAEnded or BridgeLegBEnded: the leg it runs on
	name string // for errors
	run  func() error
}

// bridgeOpEnd is how a bridgeOp returned.
type bridgeOpEnd struct {
	op  bridgeOp
	err error
}

// waitBridgeEnd waits until ctx is cancelled, a leg ends, or one of the
// bridge's calls returns, and says why the bridge ends. A leg that has
// ended is the answer over a cancelled context when both are seen at once.
func waitBridgeEnd(ctx context.Context, a, b Leg, ended <-chan bridgeOpEnd) (BridgeResult, error) {
	var end bridgeOpEnd
	var opEnded bool
	select {
	case <-ctx.Done():
	case <-a.Done():
	case <-b.Done():
	case end = <-ended:
		opEnded = true
	}
	switch {
	case isDone(a.Done()):
		return BridgeResult{Ended: BridgeLegAEnded}, nil
	case isDone(b.Done()):
		return BridgeResult{Ended: BridgeLegBEnded}, nil
	case ctx.Err() != nil || !opEnded:
		return BridgeResult{Ended: BridgeCancelled}, nil
	case errors.Is(end.err, ErrLegClosed):
		// The leg says it ended, though Done was not closed yet.
		return BridgeResult{Ended: end.op.leg}, nil
	case end.err == nil:
		return BridgeResult{Ended: end.op.leg}, fmt.Errorf("media: bridge: %s returned early", end.op.name)
	default:
		return BridgeResult{Ended: end.op.leg}, fmt.Errorf("media: bridge: %s: %w", end.op.name, end.err)
	}
}

// isDone reports whether done is closed.
func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// bridgeSource is what one direction's receiving leg plays: the jitter
// buffer's audio, copied to the tap. Only that leg's Play uses it, on one
// goroutine at a time.
type bridgeSource struct {
	buf    *JitterBuffer
	tap    Sink
	tapErr error // the tap's failure; it gets no frames after it
}

// ReadFrame fills p from the jitter buffer. It never returns io.EOF, so
// the Play lasts as long as the bridge.
func (s *bridgeSource) ReadFrame(p []int16) (int, error) {
	n, _ := s.buf.ReadFrame(p) // never fails
	if s.tap != nil && s.tapErr == nil {
		if err := s.tap.WriteFrame(p[:n]); err != nil {
			s.tapErr = err
		}
	}
	return n, nil
}

// tapError is the tap's failure, wrapped, or nil. Call it once the Play
// reading s has returned.
func (s *bridgeSource) tapError(leg string) error {
	if s.tapErr == nil {
		return nil
	}
	return fmt.Errorf("media: bridge: tap %s: %w", leg, s.tapErr)
}
