package ivr

import (
	"context"
	"sync"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// EarlyMediaCall is a Call that can send audio to its caller before it is
// answered (SIP: 183 Session Progress with SDP, reliably when the caller
// supports 100rel). sip.InboundCall implements it. <Dial
// answerOnBridge="true"> uses it: the caller hears the called party's
// early media, or the ringback tone, until the bridge answers the call.
type EarlyMediaCall interface {
	Call
	// EarlyMedia opens the early media path; an error means the call
	// cannot have early media (it keeps ringing with 180).
	EarlyMedia(ctx context.Context) error
}

// startEarlyMedia opens early media on a call not answered yet, when the
// call can have it. It reports whether it is open.
func (s *session) startEarlyMedia() bool {
	call := s.call
	if tc, ok := call.(*tappedCall); ok {
		call = tc.Call // the tap only forks the leg's audio
	}
	em, ok := call.(EarlyMediaCall)
	if !ok || s.answered {
		return false
	}
	if err := em.EarlyMedia(s.ctx); err != nil {
		s.log.Info("ivr: no early media; the caller hears the 180", "error", err)
		return false
	}
	return true
}

// earlyLegs collects the called parties' early media legs while a <Dial>
// rings: the first is relayed to the caller.
type earlyLegs struct {
	ch chan media.Leg
}

func newEarlyLegs(n int) *earlyLegs { return &earlyLegs{ch: make(chan media.Leg, n)} }

// offer is DialRequest.OnEarlyMedia: it must not block.
func (e *earlyLegs) offer(l media.Leg) {
	select {
	case e.ch <- l:
	default:
	}
}

// playEarly plays to the caller until ctx ends: the ringback tone until a
// called party's early media starts, then that party's audio (relayed,
// one way) while its leg lasts; back to the tone when it ends (that
// party failed) until another one's starts.
func playEarly(ctx context.Context, caller media.Leg, tone []int16, legs *earlyLegs) {
	for ctx.Err() == nil {
		toneCtx, stopTone := context.WithCancel(ctx)
		played := make(chan struct{})
		go func() {
			defer close(played)
			_ = caller.Play(toneCtx, audio.NewPCMSource(tone, 0))
		}()
		var party media.Leg
		select {
		case <-ctx.Done():
		case party = <-legs.ch:
		}
		stopTone()
		<-played
		if party == nil {
			return
		}
		relayOneWay(ctx, party, caller)
	}
}

// relayOneWay plays from's received audio to to until ctx ends or from's
// leg ends.
func relayOneWay(ctx context.Context, from, to media.Leg) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	buf := media.NewJitterBuffer(0)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = from.Record(ctx, buf)
		cancel() // its leg ended: stop playing it
	})
	wg.Go(func() { _ = to.Play(ctx, buf) })
	wg.Wait()
}

// runUnanswered runs a <Dial> on a call not answered yet. With
// answerOnBridge the call stays unanswered while the parties ring (the
// caller hears early media when its call can have it, else the 180) and
// is answered when one of them answers (connect); without it the call is
// answered first, as for any verb.
func (v *dialVerb) runUnanswered(s *session, _ bool) (next, error) {
	if !v.d.AnswerOnBridge {
		if err := s.answer(); err != nil {
			return next{}, err
		}
	}
	return v.run(s)
}
