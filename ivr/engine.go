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
	"github.com/voxgate/voxgate/queue"
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
	// RecordingSaved, when set, is told about every finished recording,
	// and about whole-call recordings as they start, pause and resume
	// (Recording.Status). It runs synchronously: once a REST start or
	// update returns, the store has the recording.
	RecordingSaved func(Recording)
	// Dialer places <Dial> legs.
	Dialer Dialer
	// Queues holds enqueued callers and agents (<Enqueue>, <Dial><Queue>).
	Queues *queue.Manager
	// WebhookObserve, when set, is told the outcome of every webhook
	// request (for metrics).
	WebhookObserve func(webhook.Outcome)
}

// Event reports a call's progress to the rest of the gateway.
type Event struct {
	Info     CallInfo
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

	live liveCalls // calls running now, for live changes (REST)
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
	return &Engine{cfg: cfg, log: cfg.Logger, closed: make(chan struct{}), live: liveCalls{m: map[string]*session{}}}
}

// Close waits for status callbacks in flight to finish.
func (e *Engine) Close() {
	e.closeOnce.Do(func() { close(e.closed) })
	e.callbacks.Wait()
}

// Run executes app for call until the call ends. It returns once the call
// has been hung up (or rejected) and its final status reported. Inbound
// calls arrive unanswered; outbound legs (Direction outbound-api or
// outbound-dial) arrive answered.
func (e *Engine) Run(ctx context.Context, info CallInfo, call Call, app App) {
	if info.Direction == "" {
		info.Direction = Inbound
	}
	tap := newTapCall(call) // the session's audio passes the call's recordings
	s := e.newSession(info, tap, app)
	s.tap = tap
	if s.answered {
		tap.answer()
	}
	// The call's own context: it ends when the call does.
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-call.Done():
			cancel()
		case <-callCtx.Done():
		}
	}()
	s.callCtx = callCtx
	e.live.add(s)
	defer e.live.remove(info.SID)
	s.run()
}

func (e *Engine) newSession(info CallInfo, call Call, app App) *session {
	log := e.log.With("call_sid", info.SID)
	s := &session{
		e:    e,
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
		status:    "ringing",
		startedAt: e.cfg.Clock.Now(),
		seq:       map[string]int{},
	}
	if info.Direction != Inbound {
		s.answered, s.answeredAt, s.status = true, s.startedAt, "in-progress"
	}
	return s
}

// session is the state of one call being run.
type session struct {
	e    *Engine
	info CallInfo
	call Call
	app  App
	log  *slog.Logger
	web  *webhook.Client

	callCtx context.Context // ends when the call ends
	ctx     context.Context // the current document's: also ends on a live redirect

	mu         sync.Mutex
	docCancel  context.CancelFunc
	pending    *next              // a live redirect waiting to run
	dialCancel context.CancelFunc // cancels an outbound call still ringing
	tap        *tapCall           // the call with its recordings (main session only; set once there is a call)
	rang       bool               // the ringing event was reported

	docURL     string // URL of the current document: base for relative URLs
	status     string // CallStatus sent with requests
	answered   bool
	hungUp     bool // we ended the call (hangup or reject)
	startedAt  time.Time
	answeredAt time.Time
	final      string // final status once known

	// whisperMode runs a Dial target's url document on the called leg: the
	// end of a document returns to the Dial instead of hanging up. Wait
	// documents of <Enqueue> run this way too.
	whisperMode bool
	// queueEntry is set while a waitUrl document runs (<Leave> is valid).
	queueEntry *queue.Entry

	seq map[string]int // status callback sequence numbers by URL
}

var (
	// errHangup ends the document: the call is over (hung up, rejected, gone).
	errHangup = errors.New("ivr: call over")
	// errInterrupted ends the document: a live redirect replaces it.
	errInterrupted = errors.New("ivr: redirected")
)

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

// next is what a verb asks the interpreter to do after it.
type next struct {
	req    *webhook.Request // fetch and run this document instead of going on
	doc    *twiml.Response  // or run this one (inline TwiML)
	hangup bool             // or end the call (REST hang-up)
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
	fallback := true
	for (cur.req != nil || cur.doc != nil || cur.hangup) && !s.over() {
		if p := s.beginDocument(); p != nil {
			cur = *p
		}
		if cur.hangup {
			s.hangup()
			break
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
					break
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
			if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
				break
			}
			failed := cur.req
			if failed == nil {
				failed = &webhook.Request{URL: "(inline TwiML)"}
			}
			if doc = s.recover(err, failed, &fallback); doc == nil {
				break
			}
			if nxt, err = s.execute(doc); err != nil {
				if s.takePending(&cur) {
					continue
				}
				if !errors.Is(err, errHangup) {
					s.applicationError(err)
				}
				break
			}
		}
		cur = nxt
		fallback = true
	}
	s.end()
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
	if err := s.call.Answer(s.callCtx); err != nil {
		s.log.Warn("ivr: answer failed", "error", err)
		return errHangup
	}
	s.answered = true
	s.answeredAt = s.e.cfg.Clock.Now()
	s.status = "in-progress"
	s.markInProgress()
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
	recs := s.finishCallRecordings()
	var dur time.Duration
	if s.answered {
		dur = s.e.cfg.Clock.Now().Sub(s.answeredAt)
	}
	extra := append([]string{"CallDuration", strconv.Itoa(int(dur.Round(time.Second) / time.Second))}, s.recordingExtras(recs)...)
	s.notifyStatus("completed", extra...)
	s.emit(final, dur)
}

func (s *session) emit(status string, dur time.Duration) {
	if s.e.cfg.Events != nil {
		s.e.cfg.Events(Event{Info: s.info, Status: status, At: s.e.cfg.Clock.Now(), Duration: dur})
	}
}
