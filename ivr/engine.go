package ivr

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/recording"

	"github.com/voxgate/voxgate/clock"
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
	Clock      clock.Clock
	Logger     *slog.Logger
	// Events, when set, is told about call progress (for CDRs and metrics).
	Events func(Event)
	// Recorder makes recordings (<Record>, <Dial record>, whole-call
	// recordings); without one, recording fails.
	Recorder *recording.Recorder
	// Dialer places <Dial> legs.
	Dialer Dialer
	// Queues holds enqueued callers and agents (<Enqueue>, <Dial><Queue>).
	Queues Queues
	// WebhookObserve, when set, is told the outcome of every webhook
	// request (for metrics).
	WebhookObserve func(webhook.Outcome)
	// Services are more services for verbs that bring their own (a
	// conference mixer, a media-stream dialer, a speech recognizer…): a
	// verb finds its own with service[T]. Each is used by the verbs that
	// want it; the engine itself never looks at them.
	Services []any
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
		cfg.Clock = clock.Real
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
	s := e.newSession(info, nil, app)
	s.attach(call)
	if s.answered {
		s.answeredRecordings()
	}
	callCtx, cancel := untilDone(ctx, call)
	defer cancel()
	s.callCtx = callCtx
	e.live.add(s)
	defer e.live.remove(info.SID)
	s.run()
}

// untilDone returns the call's own context: it ends when ctx or the call
// does.
func untilDone(ctx context.Context, call Call) (context.Context, context.CancelFunc) {
	callCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-call.Done():
			cancel()
		case <-callCtx.Done():
		}
	}()
	return callCtx, cancel
}
