package ivr

// The session API: what verbs use to run against the call.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/twiml"
)

// leg is the call's audio. Everything played on it can be heard by the
// listeners of the call's tap (see fork).
func (s *session) leg() media.Leg { return s.call.Leg() }

// fork hands the call's audio to listeners until stop: what the caller
// sends to in, what is played to the caller to out (see media.Tap.Fork);
// either may be nil. It fails before an outbound call is answered.
func (s *session) fork(in, out media.Sink) (stop func() error, err error) {
	s.mu.Lock()
	tap := s.tap
	s.mu.Unlock()
	if tap == nil {
		return nil, errors.New("ivr: the call has no audio yet")
	}
	return tap.Fork(in, out), nil
}

// recorder makes recordings (the engine's service; nil without one).
func (s *session) recorder() *recording.Recorder { return s.cfg.Recorder }

// over reports whether the call has ended.
func (s *session) over() bool { return s.callCtx.Err() != nil }

// stopped is the error for a verb whose context ended: the call is over,
// or a redirect interrupted the document.
func (s *session) stopped() error {
	if s.over() {
		return errHangup
	}
	return errInterrupted
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

// now is the engine clock's time.
func (s *session) now() time.Time { return s.cfg.Clock.Now() }

// after is the engine clock's timer.
func (s *session) after(d time.Duration) <-chan time.Time { return s.cfg.Clock.After(d) }

// service returns the first of the engine's Config.Services that is a T:
// how a verb in a file of its own reaches a service the composition root
// passes in, without a Config field of its own.
func service[T any](s *session) (T, bool) {
	for _, svc := range s.cfg.Services {
		if t, ok := svc.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// answer answers the call if it is not answered yet.
func (s *session) answer() error {
	if s.answered {
		return nil
	}
	if err := s.call.Answer(s.callCtx); err != nil {
		s.log.Warn("ivr: answer failed", "error", err)
		return errHangup
	}
	s.answered = true
	s.answeredAt = s.cfg.Clock.Now()
	s.status = "in-progress"
	s.answeredRecordings()
	s.answeredStreams()
	s.notifyStatus("answered")
	s.emit("in-progress", 0)
	return nil
}

// hangup ends the call from our side (once).
func (s *session) hangup() {
	if s.hungUp || s.call == nil {
		return
	}
	s.hungUp = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), 5*time.Second)
	defer cancel()
	if err := s.call.Hangup(ctx); err != nil {
		s.log.Warn("ivr: hangup failed", "error", err)
	}
	if s.final == "" {
		s.final = "completed"
		if !s.answered {
			s.final = "canceled"
		}
	}
}

// reject refuses the unanswered call: busy (486) or declined (603).
func (s *session) reject(busy bool) {
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
}

// params are the standard parameters with the current status, plus extra.
func (s *session) params(extra url.Values) url.Values {
	return merge(standardParams(s.cfg.AccountSID, s.info, s.status), extra)
}

// resolve makes ref absolute against the current document.
func (s *session) resolve(ref string) (string, error) {
	return webhook.ResolveURL(s.docURL, ref)
}

// fetch requests a document and parses it; the response URL becomes the
// base for relative URLs.
func (s *session) fetch(req webhook.Request) (*twiml.Response, error) {
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	if err := s.fetches.next(s.now()); err != nil {
		return nil, err
	}
	s.log.Debug("ivr: fetching TwiML", "url", req.URL, "method", req.Method)
	res, err := s.web.Fetch(s.ctx, req)
	if err != nil {
		return nil, err
	}
	s.fetches.arrived(s.now())
	s.docURL = res.URL
	switch res.Kind {
	case webhook.Audio:
		// An audio response is played, then the call hangs up.
		pcm, err := audio.Decode(res.Body, res.ContentType)
		if err != nil {
			return nil, &verbError{code: 12300, err: fmt.Errorf("audio response from %s: %w", res.URL, err)}
		}
		return &twiml.Response{Verbs: []twiml.Verb{&decodedPlay{pcm: pcm}}}, nil
	case webhook.PlainText:
		doc, _, perr := twiml.Parse(res.Body)
		if perr == nil {
			return doc, nil
		}
		text := strings.TrimSpace(string(res.Body))
		return &twiml.Response{Verbs: []twiml.Verb{&twiml.Say{Text: text, Loop: 1}}}, nil
	}
	doc, warnings, err := twiml.Parse(res.Body)
	for _, w := range warnings {
		s.log.Warn("ivr: TwiML warning", "error_code", w.Code, "line", w.Line, "verb", w.Verb, "message", w.Message, "url", res.URL)
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
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

// action ends a verb with its action URL: the next document, with extra
// parameters. When the call is already over the action is still requested
// (CallStatus=completed) but its TwiML is ignored.
func (s *session) action(action, method string, extra map[string]string) (next, error) {
	if s.over() {
		s.informAction(action, method, extra)
		return next{}, errHangup
	}
	req, err := s.actionRequest(action, method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// goOn ends a verb that has no action URL: the document goes on with its
// next verb unless the call is over or a redirect interrupted it.
func (s *session) goOn() (next, error) {
	if s.ctx.Err() != nil {
		return next{}, s.stopped()
	}
	return next{}, nil
}

// informAction requests a verb's action URL only to tell the application
// (the call has left the verb by hanging up or being redirected): its
// TwiML is ignored.
func (s *session) informAction(action, method string, extra map[string]string) {
	if s.over() {
		s.status = "completed"
	}
	req, err := s.actionRequest(action, method, extra)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), s.cfg.WebhookTimeout)
	defer cancel()
	if _, err := s.web.Fetch(ctx, *req); err != nil {
		s.log.Warn("ivr: action request failed", "error_code", errorCode(err), "url", req.URL, "error", err)
	}
}

// say speaks text loop times until ctx ends (loop 0 is capped by the
// parser).
func (s *session) say(ctx context.Context, text, voice, language string, loop int) error {
	if loop <= 0 {
		loop = 1
	}
	pcm, warning, err := s.cfg.Speaker.Render(ctx, text, voice, language)
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

// play runs a <Play> until ctx ends: a media URL, or DTMF digits.
func (s *session) play(ctx context.Context, v *twiml.Play) error {
	if v.Digits != "" {
		if err := s.leg().SendDTMF(ctx, v.Digits); err != nil {
			return s.mediaErr(err)
		}
		return nil
	}
	target, err := s.resolve(v.URL)
	if err != nil {
		return err
	}
	pcm, err := s.cfg.Audio.Fetch(ctx, target)
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

// playPCM plays decoded audio loop times until ctx ends.
func (s *session) playPCM(ctx context.Context, pcm []int16, loop int) error {
	if loop <= 0 {
		loop = 1
	}
	if err := s.leg().Play(ctx, audio.NewPCMSource(pcm, loop)); err != nil {
		return s.mediaErr(err)
	}
	return nil
}

// wait keeps the call silent for d (the leg sends silence when idle).
func (s *session) wait(d time.Duration) error {
	select {
	case <-s.cfg.Clock.After(d):
		return nil
	case <-s.ctx.Done():
		return s.stopped()
	}
}

// drainDigits drops the keys pressed before a verb started listening: no
// type-ahead.
func (s *session) drainDigits() {
	for {
		select {
		case <-s.leg().DTMF():
		default:
			return
		}
	}
}
