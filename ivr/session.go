package ivr

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/twiml"
)

// session is one call being run: the interpreter's state (the document,
// a pending live redirect) and what every verb needs (the call, its
// parameters and status). Verbs use it through the methods of verbapi.go;
// state that only one verb needs lives in that verb's own value.
type session struct {
	e    *Engine
	cfg  *Config // the engine's configuration and services
	info CallInfo
	call Call
	app  App
	log  *slog.Logger
	web  *webhook.Client

	callCtx context.Context // ends when the call ends
	ctx     context.Context // the current document's: also ends on a live redirect
	// within is the kind of document the session runs: twiml.Main for a
	// call's own documents, or the context of a document nested in a verb
	// (twiml.Whisper, twiml.EnqueueWait, twiml.QueueURL), whose end returns
	// to that verb instead of hanging up.
	within twiml.Context
	// state is what verbs keep for the rest of the call (see perCall).
	state *callState

	mu            sync.Mutex
	docCancel     context.CancelFunc
	pending       *next              // a live redirect waiting to run
	cancelRinging context.CancelFunc // cancels an outbound call that still rings (RunOutbound)
	tap           *media.Tap         // the call's leg, forkable (see attach; nil until there is a call)
	recordings    *recording.Call    // the call's whole-call recordings (main session; nil until there is a call)
	rang          bool               // the ringing event was reported

	docURL     string // URL of the current document: base for relative URLs
	status     string // CallStatus sent with requests
	answered   bool
	hungUp     bool // we ended the call (hangup or reject)
	startedAt  time.Time
	answeredAt time.Time
	final      string // final status once known

	seq map[string]int // status callback sequence numbers by URL

	fetches fetchLimit // quiet documents in a row (fetchlimit.go)
}

func (e *Engine) newSession(info CallInfo, call Call, app App) *session {
	log := e.log.With("call_sid", info.SID)
	s := &session{
		e:    e,
		cfg:  &e.cfg,
		info: info,
		call: call,
		app:  app,
		log:  log,
		web: webhook.NewClient(webhook.Options{
			AuthToken:  e.cfg.AuthToken,
			Timeout:    e.cfg.WebhookTimeout,
			HTTPClient: e.cfg.HTTPClient,
			UserAgent:  e.cfg.UserAgent,
			Logger:     log,
			Observe:    e.cfg.WebhookObserve,
		}),
		state:     newCallState(),
		status:    "ringing",
		startedAt: e.cfg.Clock.Now(),
		seq:       map[string]int{},
	}
	if info.Direction != Inbound {
		s.answered, s.answeredAt, s.status = true, s.startedAt, "in-progress"
	}
	return s
}

// nested returns a session for documents a verb of s runs inside itself
// (a Dial's whisper on the called party, an Enqueue's wait music, a Queue
// announcement): on call, described by info, of kind within, until ctx
// ends. The call is answered; the end of such a document returns to the
// verb.
func (s *session) nested(info CallInfo, call Call, within twiml.Context, ctx context.Context) *session {
	n := s.e.newSession(info, call, App{})
	n.within = within
	n.answered, n.status = true, "in-progress"
	n.callCtx, n.ctx = s.callCtx, ctx
	n.docURL = s.docURL
	if info.SID == s.info.SID {
		n.state = s.state // the same call
	}
	return n
}

// runNested fetches req and runs it as a nested document (see nested).
// The document may use only the verbs its context allows.
func (s *session) runNested(req webhook.Request) (next, error) {
	doc, err := s.fetch(req)
	if err == nil {
		err = doc.Allowed(s.within)
	}
	if err != nil {
		return next{}, err
	}
	return s.execute(doc)
}

// interrupt replaces the running document with n (a live redirect).
func (s *session) interrupt(n next) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = &n
	if s.docCancel != nil {
		s.docCancel()
	}
}

// beginDocument gives the next document a fresh context, or returns a
// pending redirect to run first.
func (s *session) beginDocument() *next {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docCancel != nil {
		s.docCancel()
	}
	s.ctx, s.docCancel = context.WithCancel(s.callCtx)
	p := s.pending
	s.pending = nil
	return p
}

// takePending moves a pending live redirect into cur.
func (s *session) takePending(cur *next) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil || s.over() {
		return false
	}
	*cur = *s.pending
	s.pending = nil
	return true
}

// run reports the call's start, runs its documents one after another
// until the call ends, and reports its end.
func (s *session) run() {
	if !s.answered {
		s.notifyStatus("initiated")
		if err := s.call.Ringing(); err != nil {
			s.log.Warn("ivr: ringing failed", "error", err)
		}
		s.notifyStatus("ringing")
		s.emit("ringing", 0)
	} else {
		s.emit("in-progress", 0)
	}
	cur := next{req: &webhook.Request{URL: s.app.VoiceURL, Method: s.app.VoiceMethod, Params: s.params(nil)}}
	if s.app.Twiml != "" {
		doc, _, err := twiml.Parse([]byte(s.app.Twiml))
		if err != nil {
			s.log.Error("ivr: inline TwiML is invalid", "error_code", errorCode(err), "error", err)
			s.applicationError(err)
			s.end()
			return
		}
		cur = next{doc: doc}
	}
	s.loop(cur)
	s.end()
}

// loop runs documents, starting with cur, until one ends the call.
func (s *session) loop(cur next) {
	fallback := true
	for (cur.req != nil || cur.doc != nil || cur.hangup) && !s.over() {
		if p := s.beginDocument(); p != nil {
			cur = *p
		}
		if cur.hangup {
			s.hangup()
			return
		}
		if cur.req != nil && cur.req.Params == nil {
			cur.req.Params = s.params(nil)
		}
		doc := cur.doc
		if doc == nil {
			var err error
			if doc, err = s.fetch(*cur.req); err != nil {
				if s.takePending(&cur) {
					continue
				}
				if doc = s.recover(err, cur.req, &fallback); doc == nil {
					return
				}
			}
		} else {
			s.docURL = "" // inline TwiML has no base URL
		}
		nxt, err := s.execute(doc)
		if s.takePending(&cur) {
			continue
		}
		if err != nil {
			if nxt, err = s.afterFailure(err, cur.req, &fallback); err != nil {
				if s.takePending(&cur) {
					continue
				}
				return
			}
		}
		cur = nxt
		fallback = true
	}
}

// afterFailure handles a document that ended with err: the end of the
// call, or a failure that runs the fallback document (once) or the
// application-error message. A non-nil error ends the call's documents.
func (s *session) afterFailure(err error, failed *webhook.Request, fallback *bool) (next, error) {
	if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
		return next{}, err
	}
	if failed == nil {
		failed = &webhook.Request{URL: "(inline TwiML)"}
	}
	doc := s.recover(err, failed, fallback)
	if doc == nil {
		return next{}, errHangup
	}
	nxt, err := s.execute(doc)
	if err != nil && !errors.Is(err, errHangup) && !errors.Is(err, errInterrupted) {
		s.applicationError(err)
	}
	return nxt, err
}

// recover handles a failed document: it logs the Twilio error code, then
// tries the fallback URL once. It returns the fallback's document, or nil
// after playing the application-error message and hanging up.
func (s *session) recover(err error, failed *webhook.Request, fallbackLeft *bool) *twiml.Response {
	if s.over() {
		return nil
	}
	code := errorCode(err)
	s.log.Error("ivr: application error", "error_code", code, "url", failed.URL, "error", err)
	if *fallbackLeft && s.app.FallbackURL != "" {
		*fallbackLeft = false
		extra := url.Values{"ErrorCode": {strconv.Itoa(code)}, "ErrorUrl": {failed.URL}}
		doc, ferr := s.fetch(webhook.Request{URL: s.app.FallbackURL, Method: s.app.FallbackMethod, Params: s.params(extra)})
		if ferr == nil {
			s.log.Info("ivr: running fallback URL", "url", s.app.FallbackURL)
			return doc
		}
		s.log.Error("ivr: fallback URL failed too", "error_code", errorCode(ferr), "url", s.app.FallbackURL, "error", ferr)
	}
	s.applicationError(err)
	return nil
}

// applicationError plays the error message and hangs up.
func (s *session) applicationError(error) {
	if s.over() {
		return
	}
	if err := s.answer(); err != nil {
		return
	}
	_ = s.say(s.ctx, s.cfg.ErrorMessage, "", "", 1)
	s.hangup()
}

// execute runs a document's verbs in order. It returns the next document
// to fetch, or errHangup when the call is over, or an error for the
// application-error path.
func (s *session) execute(doc *twiml.Response) (next, error) {
	for i, tv := range doc.Verbs {
		if s.ctx.Err() != nil {
			return next{}, s.stopped()
		}
		v, err := newVerb(tv)
		if err != nil {
			s.log.Error("ivr: verb not supported by this gateway yet", "verb", tv.Name(), "line", tv.Line(), "error_code", errorCode(err))
		}
		var nxt next
		switch ev, early := v.(earlyVerb); {
		case !s.answered && early:
			nxt, err = ev.runUnanswered(s, i == 0)
		case err == nil || !s.answered:
			if aerr := s.answer(); aerr != nil {
				return next{}, aerr
			}
			if err == nil {
				nxt, err = v.run(s)
			}
		}
		if err != nil || nxt.req != nil {
			return nxt, err
		}
	}
	if s.within != twiml.Main {
		return next{}, nil // the nested document is over: back to its verb
	}
	// The end of the document hangs up; an empty document still answers first.
	if err := s.answer(); err != nil {
		return next{}, err
	}
	s.hangup()
	return next{}, errHangup
}

// end reports the final status once the call is over.
func (s *session) end() {
	if !s.over() {
		s.hangup()
	}
	if !s.hungUp && s.final == "" && s.answered {
		s.final = "completed" // the caller hung up
	}
	final := s.final
	if final == "" {
		if s.answered {
			final = "completed"
		} else {
			final = "canceled" // the caller gave up while it rang
		}
	}
	s.status = final
	s.state.end()
	recordingParams := s.finishCallRecordings()
	var dur time.Duration
	if s.answered {
		dur = s.cfg.Clock.Now().Sub(s.answeredAt)
	}
	extra := append([]string{"CallDuration", strconv.Itoa(int(dur.Round(time.Second) / time.Second))}, recordingParams...)
	s.notifyStatus("completed", extra...)
	s.emit(final, dur)
}

func (s *session) emit(status string, dur time.Duration) {
	if s.cfg.Events != nil {
		s.cfg.Events(Event{Info: s.info, Status: status, At: s.cfg.Clock.Now(), Duration: dur})
	}
}
