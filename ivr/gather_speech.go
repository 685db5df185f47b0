package ivr

import (
	"context"
	"errors"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/speech"
	"github.com/voxgate/voxgate/twiml"
)

func init() {
	registerVerbWhen(func(g *twiml.Gather) bool { return g.Input.Speech() },
		func(g *twiml.Gather) verb { return &gatherSpeechVerb{g: g} })
}

// gatherSpeechVerb runs <Gather input="speech"> and "dtmf speech"
// (twiml-voice.md §2.4): the prompts play while the caller's audio goes to
// the gateway's speech recognizer (Config.Services); speech (with bargeIn)
// or a key stops the prompts; timeout runs after the prompts until speech
// starts; speechTimeout (or auto) of silence, or maxSpeechTime, ends it.
// Whichever input comes first wins. The action gets SpeechResult and
// Confidence, or Digits as the DTMF <Gather> sends them.
type gatherSpeechVerb struct {
	g             *twiml.Gather
	digits        []byte
	finishedOnKey string
	partials      int
	partialsSent  <-chan struct{}
}

func (v *gatherSpeechVerb) run(s *session) (next, error) {
	g := v.g
	rec, ok := service[speech.Recognizer](s)
	if !ok {
		return next{}, &verbError{code: 12200, err: errors.New(`<Gather input="speech">: no speech recognizer is configured on this gateway`)}
	}
	sess, err := rec.Start(s.ctx, speech.Options{Language: g.Language, Hints: g.Hints, Model: g.SpeechModel,
		ProfanityFilter: g.ProfanityFilter, CallSID: s.info.SID})
	if err != nil {
		if !g.Input.DTMF() {
			return next{}, &verbError{code: 12200, err: err}
		}
		s.log.Error("ivr: speech recognizer unavailable; collecting DTMF only", "error", err)
		dtmfOnly := *g
		dtmfOnly.Input = twiml.InputDTMF
		return (&gatherVerb{g: &dtmfOnly}).run(s)
	}
	l := speech.NewListener(sess, speech.ListenerConfig{SpeechTimeout: v.speechTimeout(), MaxSpeechTime: time.Duration(g.MaxSpeechTime) * time.Second})
	stopTap, err := s.fork(l, nil)
	if err != nil {
		sess.Close()
		return next{}, err
	}
	s.drainDigits()
	heard, err := v.collect(s, l)
	_ = stopTap()
	if err != nil {
		sess.Close()
		return next{}, err
	}
	extra := map[string]string{"msg": "Gather End"}
	switch {
	case heard:
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		res, err := l.Result(ctx)
		cancel()
		if errors.Is(err, speech.ErrNoSpeech) || (err == nil && res.Text == "") {
			return v.empty(s, extra)
		}
		if err != nil {
			s.log.Error("ivr: speech recognition failed", "error", err)
			return v.empty(s, extra)
		}
		for k, vals := range speech.ActionParams(res) {
			extra[k] = vals[0]
		}
		s.log.Info("ivr: gather heard speech", "speech_result", res.Text, "dropped_frames", res.DroppedFrames)
	case len(v.digits) > 0 || v.finishedOnKey != "":
		sess.Close()
		extra["Digits"], extra["FinishedOnKey"] = string(v.digits), v.finishedOnKey
		if len(v.digits) == 0 {
			return v.empty(s, extra)
		}
	default:
		sess.Close()
		return v.empty(s, extra)
	}
	return s.action(g.Action, g.Method, extra)
}

func (v *gatherSpeechVerb) speechTimeout() time.Duration {
	if v.g.SpeechTimeoutAuto {
		return 0 // speech.AutoSpeechTimeout
	}
	return time.Duration(v.g.SpeechTimeout) * time.Second
}

// empty ends a gather with no input: the next verb, or the action when
// actionOnEmptyResult.
func (v *gatherSpeechVerb) empty(s *session, extra map[string]string) (next, error) {
	if !v.g.ActionOnEmptyResult {
		return s.goOn()
	}
	return s.action(v.g.Action, v.g.Method, extra)
}

// collect plays the prompts and waits for speech or keys. It reports
// whether the caller spoke (the result is then the listener's).
func (v *gatherSpeechVerb) collect(s *session, l *speech.Listener) (bool, error) {
	g := v.g
	promptCtx, stopPrompts := context.WithCancel(s.ctx)
	finished := make(chan error, 1)
	go func() { finished <- prompts(promptCtx, s, g.Children) }()
	promptsDone := finished
	defer func() {
		stopPrompts()
		if promptsDone != nil {
			<-promptsDone
		}
	}()
	timeout := time.Duration(g.Timeout) * time.Second
	var timer, speechCap <-chan time.Time // cap: a wall-clock bound on speech, should the caller's RTP stop
	prompting, speaking := true, false
	started, partials := l.Started(), l.Partials()
	var digits <-chan media.Digit
	if g.Input.DTMF() {
		digits = s.leg().DTMF()
	}
	for {
		select {
		case <-s.ctx.Done():
			return false, s.stopped()
		case err := <-promptsDone:
			promptsDone, prompting = nil, false
			if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
				return false, err
			}
			if !speaking {
				timer = s.after(timeout)
			}
		case <-timer:
			return false, nil
		case <-started:
			started, speaking, timer, digits = nil, true, nil, nil // speech first: keys are ignored
			speechCap = s.after(time.Duration(g.MaxSpeechTime)*time.Second + v.speechTimeout() + speech.AutoSpeechTimeout)
			if prompting && g.BargeIn {
				stopPrompts()
			}
		case <-l.Ended():
			v.drainPartials(s, partials)
			return true, nil // it ends only after speech (maybe before started was seen)
		case <-speechCap:
			return true, nil
		case p, ok := <-partials:
			if !ok {
				partials = nil
				continue
			}
			v.partial(s, p)
		case d := <-digits:
			if prompting {
				stopPrompts()
			}
			if g.FinishOnKey != "" && string(d.Key) == g.FinishOnKey {
				v.finishedOnKey = g.FinishOnKey
				return false, nil
			}
			v.digits = append(v.digits, d.Key)
			if g.NumDigits > 0 && len(v.digits) >= g.NumDigits {
				return false, nil
			}
			timer = s.after(timeout)
		}
	}
}

// drainPartials sends the interim results already delivered when speech
// ended.
func (v *gatherSpeechVerb) drainPartials(s *session, partials <-chan speech.Partial) {
	for partials != nil {
		select {
		case p, ok := <-partials:
			if !ok {
				return
			}
			v.partial(s, p)
		default:
			return
		}
	}
}

// partial sends partialResultCallback (fire-and-forget, in order).
func (v *gatherSpeechVerb) partial(s *session, p speech.Partial) {
	if v.g.PartialResultCallback == "" {
		return
	}
	target, err := s.resolve(v.g.PartialResultCallback)
	if err != nil {
		s.log.Warn("ivr: partialResultCallback", "error", err)
		return
	}
	v.partials++
	params := s.params(speech.PartialParams(p, v.partials))
	v.partialsSent = s.e.sendCallbackAfter(s.web, webhook.Request{URL: target, Method: v.g.PartialResultCallbackMethod, Params: params}, v.partialsSent)
}
