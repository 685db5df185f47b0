package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/twiml"
)

// decodedPlay plays audio that is already decoded: an audio/* webhook
// response.
type decodedPlay struct{ pcm []int16 }

func (*decodedPlay) Name() string { return "Play" }
func (*decodedPlay) Line() int    { return 1 }

// execute runs a document's verbs in order. It returns the next document
// to fetch, or errHangup when the call is over, or an error for the
// application-error path.
func (s *session) execute(doc *twiml.Response) (next, error) {
	for i, v := range doc.Verbs {
		if s.ctx.Err() != nil {
			return next{}, s.stopped()
		}
		if !s.answered {
			switch v := v.(type) {
			case *twiml.Reject:
				return next{}, s.reject(v, i == 0)
			case *twiml.Pause:
				// A leading Pause delays the answer.
				if err := s.wait(time.Duration(v.Length) * time.Second); err != nil {
					return next{}, err
				}
				if err := s.answer(); err != nil {
					return next{}, err
				}
				continue
			}
			if err := s.answer(); err != nil {
				return next{}, err
			}
		}
		nxt, err := s.verb(v)
		if err != nil || nxt.req != nil {
			return nxt, err
		}
	}
	if s.whisperMode {
		return next{}, nil // the whisper is over: back to the Dial
	}
	// The end of the document hangs up; an empty document still answers first.
	if err := s.answer(); err != nil {
		return next{}, err
	}
	s.hangup()
	return next{}, errHangup
}

// verb runs one verb.
func (s *session) verb(v twiml.Verb) (next, error) {
	log := s.log.With("verb", v.Name(), "line", v.Line())
	switch v := v.(type) {
	case *twiml.Say:
		return next{}, s.say(v.Text, v.Voice, v.Language, v.Loop)
	case *twiml.Play:
		return next{}, s.play(v)
	case *decodedPlay:
		if err := s.playPCM(s.ctx, v.pcm, 1); err != nil {
			return next{}, err
		}
		s.hangup()
		return next{}, errHangup
	case *twiml.Pause:
		return next{}, s.wait(time.Duration(v.Length) * time.Second)
	case *twiml.Redirect:
		target, err := s.resolve(v.URL)
		if err != nil {
			return next{}, err
		}
		return next{req: &webhook.Request{URL: target, Method: v.Method, Params: s.params(nil)}}, nil
	case *twiml.Hangup:
		s.hangup()
		return next{}, errHangup
	case *twiml.Reject:
		return next{}, s.reject(v, false)
	case *twiml.Gather:
		return s.gather(v)
	case *twiml.Record:
		return s.record(v)
	case *twiml.Dial:
		return s.dial(v)
	case *twiml.Enqueue:
		return s.enqueue(v)
	case *twiml.Leave:
		if s.queueEntry != nil {
			return next{}, errLeave
		}
		log.Warn("ivr: <Leave> outside a queue's wait document does nothing")
		return next{}, nil
	default:
		log.Error("ivr: verb not supported by this gateway yet", "error_code", 12200)
		return next{}, &verbError{code: 12200, err: fmt.Errorf("<%s> (line %d) is not supported by Voxgate yet", v.Name(), v.Line())}
	}
}

// reject refuses the call. Only as the first verb does it leave the call
// unanswered; later it just ends it.
func (s *session) reject(v *twiml.Reject, first bool) error {
	busy := v.Reason == "busy"
	if !s.answered && first {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
		defer cancel()
		s.hungUp = true
		if err := s.call.Reject(ctx, busy); err != nil {
			s.log.Warn("ivr: reject failed", "error", err)
		}
		s.final = "no-answer"
		if busy {
			s.final = "busy"
		}
		return errHangup
	}
	s.hangup()
	return errHangup
}

// say speaks text loop times (loop 0 is capped by the parser).
func (s *session) say(text, voice, language string, loop int) error {
	return s.sayCtx(s.ctx, text, voice, language, loop)
}

// sayCtx is say until ctx ends (barge-in).
func (s *session) sayCtx(ctx context.Context, text, voice, language string, loop int) error {
	if loop <= 0 {
		loop = 1
	}
	pcm, warning, err := s.e.cfg.Speaker.Render(ctx, text, voice, language)
	if warning != "" {
		s.log.Warn("ivr: <Say> voice", "error_code", 13511, "warning", warning)
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return errHangup
		}
		// A broken TTS must not leave the caller in silence forever.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Error("ivr: <Say> failed", "error_code", 12400, "error", err)
		return nil
	}
	return s.playPCM(ctx, pcm, loop)
}

// play runs <Play>: a media URL, or DTMF digits.
func (s *session) play(v *twiml.Play) error { return s.playCtx(s.ctx, v) }

// playCtx is play until ctx ends (barge-in).
func (s *session) playCtx(ctx context.Context, v *twiml.Play) error {
	if v.Digits != "" {
		if err := s.call.Leg().SendDTMF(ctx, v.Digits); err != nil {
			return s.mediaErr(err)
		}
		return nil
	}
	target, err := s.resolve(v.URL)
	if err != nil {
		return err
	}
	pcm, err := s.e.cfg.Audio.Fetch(ctx, target)
	if err != nil {
		if ctx.Err() != nil {
			return s.ctxErr(ctx)
		}
		// Twilio logs the failure and goes on with the next verb.
		code := 11200
		if errors.Is(err, audio.ErrUnsupported) {
			code = 13420
		}
		s.log.Error("ivr: <Play> media failed; skipping", "error_code", code, "url", target, "error", err)
		return nil
	}
	return s.playPCM(ctx, pcm, v.Loop)
}

// playPCM plays decoded audio loop times.
func (s *session) playPCM(ctx context.Context, pcm []int16, loop int) error {
	if loop <= 0 {
		loop = 1
	}
	if err := s.call.Leg().Play(ctx, audio.NewPCMSource(pcm, loop)); err != nil {
		return s.mediaErr(err)
	}
	return nil
}

// mediaErr maps a leg error: a closed leg or a cancelled call ends the
// document; anything else is logged and the document goes on.
func (s *session) mediaErr(err error) error {
	if errors.Is(err, media.ErrLegClosed) || s.over() {
		return errHangup
	}
	if s.ctx.Err() != nil {
		return errInterrupted
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	s.log.Warn("ivr: media error", "error", err)
	return nil
}

// wait keeps the call silent for d (the leg sends silence when idle).
func (s *session) wait(d time.Duration) error {
	select {
	case <-s.e.cfg.Clock.After(d):
		return nil
	case <-s.ctx.Done():
		return s.stopped()
	}
}

// ctxErr maps the end of ctx: the call is over, the document was
// interrupted, or only ctx itself ended (a Gather's barge-in).
func (s *session) ctxErr(ctx context.Context) error {
	switch {
	case s.over():
		return errHangup
	case s.ctx.Err() != nil:
		return errInterrupted
	}
	return ctx.Err()
}

// actionRequest builds the request for a verb's action URL: the current
// document when action is empty (Twilio's default for Gather and Record).
func (s *session) actionRequest(action, method string, extra map[string]string) (*webhook.Request, error) {
	target := s.docURL
	if action != "" {
		var err error
		if target, err = s.resolve(action); err != nil {
			return nil, err
		}
	}
	if target == "" {
		return nil, &verbError{code: 11100, err: errors.New("no action URL and no current document URL to default to")}
	}
	if method == "" {
		method = http.MethodPost
	}
	p := s.params(nil)
	for k, v := range extra {
		p.Set(k, v)
	}
	return &webhook.Request{URL: target, Method: method, Params: p}, nil
}
