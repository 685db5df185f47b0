package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/twiml"
)

// DefaultErrorMessage is what callers hear when the application fails and
// there is no fallback, as on Twilio.
const DefaultErrorMessage = "We're sorry, an application error has occurred. Goodbye."

// Speaker renders <Say> text to 8 kHz audio (media/tts implements it).
type Speaker interface {
	Render(ctx context.Context, text, voice, language string) (pcm []int16, warning string, err error)
}

// AudioFetcher fetches and decodes <Play> media (AudioCache implements it).
type AudioFetcher interface {
	Fetch(ctx context.Context, url string) ([]int16, error)
}

// Config holds what an Engine needs.
type Config struct {
	AccountSID string
	AuthToken  string // signs every request (X-Twilio-Signature)
	Speaker    Speaker
	Audio      AudioFetcher
	// ErrorMessage is spoken when the application fails with no fallback
	// (default DefaultErrorMessage).
	ErrorMessage string
	// WebhookTimeout bounds each TwiML request (default 15 s).
	WebhookTimeout time.Duration
	// HTTPClient is the base client for webhooks (optional).
	HTTPClient *http.Client
	UserAgent  string
	Clock      Clock
	Logger     *slog.Logger
	// Events, when set, is told about call progress (for CDRs and metrics).
	Events func(Event)
	// RecordingsDir is where <Record> saves WAV files.
	RecordingsDir string
	// PublicURL is this gateway's HTTP base URL; RecordingUrl is built on it.
	PublicURL string
	// RecordingSaved, when set, is told about every finished recording.
	RecordingSaved func(Recording)
}

// Event reports a call's progress to the rest of the gateway.
type Event struct {
	CallSID  string
	Status   string // ringing, in-progress, completed, busy, no-answer, failed, canceled
	At       time.Time
	Duration time.Duration // answered time, on the final event
}

// Engine runs calls. It is safe for concurrent use; each call runs in the
// goroutine that calls Run.
type Engine struct {
	cfg Config
	log *slog.Logger

	callbacks sync.WaitGroup // status callbacks in flight
	closed    chan struct{}
	closeOnce sync.Once
}

// NewEngine returns an engine with cfg's defaults filled in.
func NewEngine(cfg Config) *Engine {
	if cfg.ErrorMessage == "" {
		cfg.ErrorMessage = DefaultErrorMessage
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 15 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Engine{cfg: cfg, log: cfg.Logger, closed: make(chan struct{})}
}

// Close waits for status callbacks in flight to finish.
func (e *Engine) Close() {
	e.closeOnce.Do(func() { close(e.closed) })
	e.callbacks.Wait()
}

// Run executes app for call until the call ends. It returns once the call
// has been hung up (or rejected) and its final status reported.
func (e *Engine) Run(ctx context.Context, info CallInfo, call Call, app App) {
	if info.Direction == "" {
		info.Direction = Inbound
	}
	s := &session{
		e:    e,
		info: info,
		call: call,
		app:  app,
		log:  e.log.With("call_sid", info.SID),
		web: webhook.NewClient(webhook.Options{
			AuthToken:  e.cfg.AuthToken,
			Timeout:    e.cfg.WebhookTimeout,
			HTTPClient: e.cfg.HTTPClient,
			UserAgent:  e.cfg.UserAgent,
			Logger:     e.log.With("call_sid", info.SID),
		}),
		status:    "ringing",
		startedAt: e.cfg.Clock.Now(),
		seq:       map[string]int{},
	}
	// The call's own context: it ends when the caller hangs up.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-call.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	s.ctx = ctx
	s.run()
}

// session is the state of one call being run.
type session struct {
	e    *Engine
	info CallInfo
	call Call
	app  App
	log  *slog.Logger
	web  *webhook.Client
	ctx  context.Context

	docURL     string // URL of the current document: base for relative URLs
	status     string // CallStatus sent with requests
	answered   bool
	hungUp     bool // we ended the call (hangup or reject)
	startedAt  time.Time
	answeredAt time.Time
	final      string // final status once known

	seq map[string]int // status callback sequence numbers by URL
}

// errHangup ends the document: the call is over (hung up, rejected, gone).
var errHangup = errors.New("ivr: call over")

// next is what a verb asks the interpreter to do after it.
type next struct {
	req *webhook.Request // fetch and run this document instead of going on
}

func (s *session) run() {
	s.notifyStatus("initiated")
	if err := s.call.Ringing(); err != nil {
		s.log.Warn("ivr: ringing failed", "error", err)
	}
	s.notifyStatus("ringing")
	s.emit("ringing", 0)

	req := &webhook.Request{URL: s.app.VoiceURL, Method: s.app.VoiceMethod, Params: s.params(nil)}
	fallback := true
	for req != nil && s.ctx.Err() == nil {
		doc, err := s.fetch(*req)
		if err != nil {
			doc = s.recover(err, req, &fallback)
			if doc == nil {
				break
			}
		}
		nxt, err := s.execute(doc)
		if err != nil {
			if errors.Is(err, errHangup) {
				break
			}
			doc = s.recover(err, req, &fallback)
			if doc == nil {
				break
			}
			if nxt, err = s.execute(doc); err != nil {
				if !errors.Is(err, errHangup) {
					s.applicationError(err)
				}
				break
			}
		}
		req = nxt.req
		fallback = true
	}
	s.end()
}

// recover handles a failed document: it logs the Twilio error code, then
// tries the fallback URL once. It returns the fallback's document, or nil
// after playing the application-error message and hanging up.
func (s *session) recover(err error, failed *webhook.Request, fallbackLeft *bool) *twiml.Response {
	if s.ctx.Err() != nil {
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
	if s.ctx.Err() != nil {
		return
	}
	if err := s.answer(); err != nil {
		return
	}
	_ = s.say(s.e.cfg.ErrorMessage, "", "", 1)
	s.hangup()
}

// errorCode extracts the Twilio error code of err (12400 if it has none).
func errorCode(err error) int {
	var we *webhook.Error
	if errors.As(err, &we) {
		return we.Code
	}
	var te *twiml.Error
	if errors.As(err, &te) {
		return te.Code
	}
	var ve *verbError
	if errors.As(err, &ve) {
		return ve.code
	}
	return 12400
}

// verbError is a failure while running a verb, with its Twilio code.
type verbError struct {
	code int
	err  error
}

func (e *verbError) Error() string { return fmt.Sprintf("%d: %v", e.code, e.err) }
func (e *verbError) Unwrap() error { return e.err }

// fetch requests a document and parses it; the response URL becomes the
// base for relative URLs.
func (s *session) fetch(req webhook.Request) (*twiml.Response, error) {
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	s.log.Debug("ivr: fetching TwiML", "url", req.URL, "method", req.Method)
	res, err := s.web.Fetch(s.ctx, req)
	if err != nil {
		return nil, err
	}
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

// params are the standard parameters with the current status, plus extra.
func (s *session) params(extra url.Values) url.Values {
	return merge(standardParams(s.e.cfg.AccountSID, s.info, s.status), extra)
}

// resolve makes ref absolute against the current document.
func (s *session) resolve(ref string) (string, error) {
	u, err := webhook.ResolveURL(s.docURL, ref)
	if err != nil {
		return "", err
	}
	return u, nil
}

// answer answers the call if it is not answered yet.
func (s *session) answer() error {
	if s.answered {
		return nil
	}
	if err := s.call.Answer(s.ctx); err != nil {
		s.log.Warn("ivr: answer failed", "error", err)
		return errHangup
	}
	s.answered = true
	s.answeredAt = s.e.cfg.Clock.Now()
	s.status = "in-progress"
	s.notifyStatus("answered")
	s.emit("in-progress", 0)
	return nil
}

// hangup ends the call from our side (once).
func (s *session) hangup() {
	if s.hungUp {
		return
	}
	s.hungUp = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	if err := s.call.Hangup(ctx); err != nil {
		s.log.Warn("ivr: hangup failed", "error", err)
	}
	if s.final == "" {
		s.final = "completed"
	}
}

// end reports the final status once the call is over.
func (s *session) end() {
	if s.ctx.Err() == nil {
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
	var dur time.Duration
	if s.answered {
		dur = s.e.cfg.Clock.Now().Sub(s.answeredAt)
	}
	s.notifyStatus("completed", "CallDuration", strconv.Itoa(int(dur.Round(time.Second)/time.Second)))
	s.emit(final, dur)
}

func (s *session) emit(status string, dur time.Duration) {
	if s.e.cfg.Events != nil {
		s.e.cfg.Events(Event{CallSID: s.info.SID, Status: status, At: s.e.cfg.Clock.Now(), Duration: dur})
	}
}
