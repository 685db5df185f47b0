package studio

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
)

// DefaultErrorMessage is what a caller hears when the execution fails.
const DefaultErrorMessage = "We're sorry, an application error has occurred. Goodbye."

// BusyMessage is what a caller hears when the flow does not allow
// concurrent calls and the caller already has an active execution.
const BusyMessage = "We're sorry, this number cannot take your call right now. Goodbye."

// Limits are Studio's execution limits (studio-flows-and-queues.md §3.4).
// Zero fields take the defaults.
type Limits struct {
	// MaxSteps ends an execution after this many steps (default 1000).
	MaxSteps int
	// MaxWidgetRepeats ends an execution when one widget would run more
	// than this many times in a row, or more than this many times while
	// the flow runs in process between two requests from the call (a loop
	// that never waits for the caller). Default 10.
	MaxWidgetRepeats int
	// HTTPTimeout bounds make-http-request and run-function (default 10 s).
	HTTPTimeout time.Duration
	// MaxSubflowDepth bounds nested run-subflow widgets (default 10).
	MaxSubflowDepth int
	// MaxExecutionAge is how long an execution may stay active before
	// Sweep ends it (default 30 days).
	MaxExecutionAge time.Duration
	// RequestTimeout is how long the call engine waits for this handler's
	// answer; it is set on the callback URLs as Twilio's "tt" connection
	// override (default 60 s), since HTTP widgets may run before a call
	// widget answers.
	RequestTimeout time.Duration
	// MaxResponseBody bounds an HTTP widget's response (default 1 MiB).
	MaxResponseBody int64
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSteps, 1000)
	def(&l.MaxWidgetRepeats, 10)
	def(&l.MaxSubflowDepth, 10)
	defDur(&l.HTTPTimeout, 10*time.Second)
	defDur(&l.MaxExecutionAge, 30*24*time.Hour)
	defDur(&l.RequestTimeout, 60*time.Second)
	if l.MaxResponseBody <= 0 {
		l.MaxResponseBody = 1 << 20
	}
	return l
}

// Clock tells the time (tests use a fake one).
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure an Executor.
type Options struct {
	// Flows gives the flows to run (required).
	Flows FlowSource
	// Store keeps executions and steps (default: a new MemoryStore).
	Store ExecutionStore
	// PublicURL is the gateway's base URL as the call engine reaches it,
	// e.g. "http://127.0.0.1:8080"; callback URLs are built on it (required).
	PublicURL string
	// FunctionsURL, when set, is the base URL run-function calls: the path
	// of the widget's url is appended to it. Unset, the url is called as is.
	FunctionsURL string
	// HTTPClient makes make-http-request and run-function calls (default:
	// a client without cookies; Limits.HTTPTimeout always applies).
	HTTPClient *http.Client
	// AuthToken, when set, makes the handler require a valid
	// X-Twilio-Signature (the call engine signs with the account's token).
	AuthToken string
	// ErrorMessage is spoken when an execution fails (default
	// DefaultErrorMessage).
	ErrorMessage string
	Limits       Limits
	Clock        Clock
	Logger       *slog.Logger
	// NewSid makes sids (default sid.New); tests may make them predictable.
	NewSid func(prefix string) string
}

// Executor runs flows for calls. It is safe for concurrent use.
type Executor struct {
	opts   Options
	limits Limits
	log    *slog.Logger
	liquid *liquidRenderer
	store  ExecutionStore
	calls  keyedMutex // serialises the requests of one call
}

// NewExecutor returns an executor; see Options for the defaults.
func NewExecutor(opts Options) *Executor {
	if opts.Store == nil {
		opts.Store = NewMemoryStore()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.ErrorMessage == "" {
		opts.ErrorMessage = DefaultErrorMessage
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.NewSid == nil {
		opts.NewSid = newSid
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	return &Executor{
		opts:   opts,
		limits: opts.Limits.withDefaults(),
		log:    opts.Logger,
		liquid: newLiquid(),
		store:  opts.Store,
		calls:  keyedMutex{m: map[string]*keyedEntry{}},
	}
}

// Store returns the executor's execution store (for the REST API).
func (x *Executor) Store() ExecutionStore { return x.store }

// VoiceURL is the URL a number's voice URL (and status callback and
// fallback URL) must have to run flow flowSid.
func (x *Executor) VoiceURL(flowSid string) string {
	return x.flowURL(flowSid) + "#" + x.overrides()
}

// flowURL is the flow's webhook URL without query or fragment.
func (x *Executor) flowURL(flowSid string) string {
	return x.opts.PublicURL + "/studio/" + url.PathEscape(flowSid)
}

// overrides is the URL fragment giving the engine's request timeout.
func (x *Executor) overrides() string {
	ms := strconv.FormatInt(x.limits.RequestTimeout.Milliseconds(), 10)
	return "rt=" + ms + "&tt=" + ms
}

// callbackURL is where a call widget's action or closing redirect leads:
// the flow URL with FlowEvent and Step.
func (x *Executor) callbackURL(flowSid, event, step string) string {
	q := url.Values{"FlowEvent": {event}, "Step": {step}}
	return x.flowURL(flowSid) + "?" + q.Encode() + "#" + x.overrides()
}

// EndCall ends the active execution of a call, if any, when the gateway
// learns that the call is over (reason is recorded). It is safe to call
// for calls that have no execution.
func (x *Executor) EndCall(ctx context.Context, callSid, reason string) error {
	unlock := x.calls.lock(callSid)
	defer unlock()
	ex, err := x.store.ActiveExecutionForCall(ctx, callSid)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("end execution of call %s: %w", callSid, err)
	}
	if reason == "" {
		reason = "the call ended"
	}
	return x.finish(ctx, ex, reason)
}

// End ends an execution (the API's POST Status=ended). A call still
// running it is hung up at its next request to the flow.
func (x *Executor) End(ctx context.Context, executionSid, reason string) (*Execution, error) {
	ex, err := x.store.Execution(ctx, executionSid)
	if err != nil {
		return nil, fmt.Errorf("end execution: %w", err)
	}
	unlock := x.calls.lock(ex.CallSid)
	defer unlock()
	if ex, err = x.store.Execution(ctx, executionSid); err != nil {
		return nil, fmt.Errorf("end execution: %w", err)
	}
	if ex.Status == StatusEnded {
		return ex, nil
	}
	if reason == "" {
		reason = "ended through the API"
	}
	if err := x.finish(ctx, ex, reason); err != nil {
		return nil, err
	}
	return ex, nil
}

// Sweep ends active executions older than Limits.MaxExecutionAge and
// returns how many it ended. Call it now and then (e.g. hourly).
func (x *Executor) Sweep(ctx context.Context) (int, error) {
	cutoff := x.opts.Clock.Now().Add(-x.limits.MaxExecutionAge)
	old, err := x.store.Executions(ctx, ExecutionFilter{Status: StatusActive, CreatedTo: cutoff})
	if err != nil {
		return 0, fmt.Errorf("sweep executions: %w", err)
	}
	n := 0
	for _, ex := range old {
		if _, err := x.End(ctx, ex.Sid, fmt.Sprintf("active for longer than %v", x.limits.MaxExecutionAge)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// finish marks an execution ended and saves it.
func (x *Executor) finish(ctx context.Context, ex *Execution, reason string) error {
	ex.Status = StatusEnded
	ex.EndReason = reason
	ex.Runtime.Parked = ""
	ex.Runtime.Deadline = time.Time{}
	ex.DateUpdated = x.opts.Clock.Now().UTC()
	if err := x.store.UpdateExecution(ctx, ex); err != nil {
		return fmt.Errorf("end execution %s: %w", ex.Sid, err)
	}
	x.log.Info("studio: execution ended", "execution_sid", ex.Sid, "flow_sid", ex.FlowSid, "call_sid", ex.CallSid, "reason", reason)
	return nil
}

// keyedMutex is one mutex per key, dropped when unused.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu    sync.Mutex
	users int
}

// lock locks key and returns its unlock function.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.users--
		if e.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
