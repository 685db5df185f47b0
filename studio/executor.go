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

	"github.com/voxgate/voxgate/clock"
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

// OutgoingCall is the call a make-outgoing-call widget asks the gateway to
// place. When answered, the call requests URL (POST) for its TwiML; its
// final status (completed, busy, no-answer, failed, canceled) must be
// reported with a POST to StatusCallback (the flow URL too), or with
// [Executor.EndCall].
type OutgoingCall struct {
	// CallSid is the sid the call must have (the executor picks it so the
	// execution is bound to the call before it rings).
	CallSid        string
	To, From       string
	URL            string
	StatusCallback string
	// Timeout is how long the call may ring.
	Timeout time.Duration
	// SendDigits are sent as DTMF once the call answers.
	SendDigits string
	// Record, when set, records the whole call from the answer (as the
	// Calls API's Record=true); its StatusCallbackEvents are left empty
	// (Twilio's default, completed).
	Record *RecordingOptions
}

// CallControl lets the executor place and steer calls; the gateway
// implements it with its call engine.
type CallControl interface {
	// PlaceCall starts an outbound call and returns once it is queued
	// (not when it answers); an error means the call was not placed.
	PlaceCall(ctx context.Context, c OutgoingCall) error
	// RedirectCall makes a live call run the TwiML doc at once, whatever
	// it is doing (the REST API's Calls update with Twiml). It fails when
	// the call is not live.
	RedirectCall(ctx context.Context, callSid string, doc []byte) error
}

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
	// FunctionURL, when set, resolves a run-function widget's function_sid
	// (and service_sid, possibly empty) to the URL of a function this
	// gateway hosts; false leaves the widget's url in use.
	FunctionURL func(serviceSID, functionSID string) (string, bool)
	// HTTPClient makes make-http-request and run-function calls (default:
	// a client without cookies; Limits.HTTPTimeout always applies).
	HTTPClient *http.Client
	// AuthToken, when set, makes the handler require a valid
	// X-Twilio-Signature (the call engine signs with the account's token).
	AuthToken string
	// ErrorMessage is spoken when an execution fails (default
	// DefaultErrorMessage).
	ErrorMessage string
	// Calls places the calls of make-outgoing-call widgets and redirects
	// calls whose add-twiml-redirect timed out. Without it those widgets
	// take "failed", and an add-twiml-redirect timeout is only noticed when
	// the call comes back late.
	Calls CallControl
	// Recordings starts and stops the call recordings of record-call
	// widgets (see CallRecorder). Without it record-call takes "failed".
	Recordings CallRecorder
	// Messages sends the messages of send-message and
	// send-and-wait-for-reply widgets; without it they take their failure
	// transitions.
	Messages MessageSender
	// Handoff hands messaging conversations to TaskRouter (send-to-flex
	// without a call); without it send-to-flex takes failedToEnqueue.
	Handoff ConversationHandoff
	Limits  Limits
	// Clock tells the time and runs add-twiml-redirect timeouts (default:
	// the system clock).
	Clock  clock.Clock
	Logger *slog.Logger
	// NewSid makes sids (default sid.New); tests may make them predictable.
	NewSid func(prefix string) string
	// SharedLocks, for gateways sharing one database, serialises across
	// them the work on a contact's messaging executions that any node
	// may do: an inbound message, a reply timeout, a delivery failure, a
	// REST start. Nil: this process's locks only (one node).
	SharedLocks SharedLocker
}

// SharedLocker locks a key across the processes sharing the store.
type SharedLocker interface {
	// Lock blocks until key is locked (or ctx ends) and returns the
	// function that unlocks it.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Executor runs flows for calls. It is safe for concurrent use. Its
// background work (REST-started executions until they place a call, flows
// going on after an outgoing call was not answered, add-twiml-redirect
// timeouts) runs on goroutines it owns: call Close to stop them.
type Executor struct {
	opts   Options
	limits Limits
	log    *slog.Logger
	liquid *liquidRenderer
	store  ExecutionStore
	// locks serialise the requests of one call (key: CallSid) and every
	// change to one execution (key: its FN sid). A call's lock is always
	// taken before an execution's.
	locks keyedMutex

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	timers map[string]func() bool // execution sid → stop its redirect timer
	wg     sync.WaitGroup         // background goroutines
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
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.NewSid == nil {
		opts.NewSid = newSid
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	ctx, cancel := context.WithCancel(context.Background())
	return &Executor{
		opts:   opts,
		limits: opts.Limits.withDefaults(),
		log:    opts.Logger,
		liquid: newLiquid(),
		store:  opts.Store,
		locks:  keyedMutex{m: map[string]*keyedEntry{}},
		ctx:    ctx,
		cancel: cancel,
		timers: map[string]func() bool{},
	}
}

// Close stops the timers, cancels the background work and waits for it.
// Executions it interrupts stay as they were stored; timers are not kept
// across restarts (a call that returns late still takes "timeout").
func (x *Executor) Close() {
	x.mu.Lock()
	x.closed = true
	for sid, stop := range x.timers {
		stop()
		delete(x.timers, sid)
	}
	x.mu.Unlock()
	x.cancel()
	x.wg.Wait()
}

// spawn runs fn on a goroutine the executor owns, with its lifetime's
// context; it reports false (and runs nothing) once Close was called.
func (x *Executor) spawn(fn func(ctx context.Context)) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return false
	}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		fn(x.ctx)
	}()
	return true
}

// contactKey is the lock key of a flow's executions for one contact.
func contactKey(flowSid, address string) string { return "contact " + flowSid + " " + address }

// lockContact locks a flow's executions for a contact: in this process,
// and across the nodes sharing the store (Options.SharedLocks).
func (x *Executor) lockContact(ctx context.Context, flowSid, address string) (func(), error) {
	key := contactKey(flowSid, address)
	unlock := x.locks.lock(key)
	if x.opts.SharedLocks == nil {
		return unlock, nil
	}
	unlockShared, err := x.opts.SharedLocks.Lock(ctx, key)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("studio: lock %s across nodes: %w", key, err)
	}
	return func() { unlockShared(); unlock() }, nil
}

// lockContactExecution locks the contact of an execution and then the
// execution, and re-reads it: for work another node may do at the same
// time on a messaging execution (reply timeouts, delivery failures).
func (x *Executor) lockContactExecution(ctx context.Context, sid string) (*Execution, func(), error) {
	if x.opts.SharedLocks == nil {
		return x.lockExecution(ctx, sid)
	}
	ex, err := x.store.Execution(ctx, sid) // its flow and contact: fixed at its start
	if err != nil {
		return nil, nil, err
	}
	unlockContact, err := x.lockContact(ctx, ex.FlowSid, ex.ContactAddress)
	if err != nil {
		return nil, nil, err
	}
	ex, unlock, err := x.lockExecution(ctx, sid)
	if err != nil {
		unlockContact()
		return nil, nil, err
	}
	return ex, func() { unlock(); unlockContact() }, nil
}

// lockExecution locks an execution and re-reads it (a background run may
// have changed it while this waited). The caller must call unlock.
func (x *Executor) lockExecution(ctx context.Context, sid string) (ex *Execution, unlock func(), err error) {
	unlock = x.locks.lock(sid)
	ex, err = x.store.Execution(ctx, sid)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return ex, unlock, nil
}

// armTimer starts (or restarts) the timer of an execution parked on an
// add-twiml-redirect until deadline. Without Options.Calls it does
// nothing: a timeout could not take the call back.
func (x *Executor) armTimer(ex *Execution) {
	if x.opts.Calls == nil && !ex.Runtime.AwaitReply {
		return
	}
	sid, callSid, widget, deadline, reply := ex.Sid, ex.CallSid, ex.Runtime.Parked, ex.Runtime.Deadline, ex.Runtime.AwaitReply
	fire := func() {
		x.mu.Lock()
		delete(x.timers, sid)
		x.mu.Unlock()
		if reply {
			x.spawn(func(ctx context.Context) { x.replyTimedOut(ctx, sid, widget, deadline) })
			return
		}
		x.spawn(func(ctx context.Context) { x.redirectTimedOut(ctx, sid, callSid, widget, deadline) })
	}
	d := deadline.Sub(x.opts.Clock.Now())
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	if stop := x.timers[sid]; stop != nil {
		stop()
	}
	x.timers[sid] = x.opts.Clock.AfterFunc(d, fire)
}

// disarmTimer stops an execution's timer, if any.
func (x *Executor) disarmTimer(sid string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if stop := x.timers[sid]; stop != nil {
		stop()
		delete(x.timers, sid)
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
// for calls that have no execution. When the call is the one a
// make-outgoing-call widget placed and it was never answered, reason must
// be its final CallStatus (busy, no-answer, failed, canceled): the widget
// takes its busy, noAnswer or failed transition and the flow goes on
// without a call.
func (x *Executor) EndCall(ctx context.Context, callSid, reason string) error {
	unlock := x.locks.lock(callSid)
	defer unlock()
	ex, unlockEx, err := x.activeForCall(ctx, callSid)
	if err != nil {
		return fmt.Errorf("end execution of call %s: %w", callSid, err)
	}
	if ex == nil {
		return nil
	}
	defer unlockEx()
	if ex.Runtime.Dialing && finalStatuses[reason] {
		x.outgoingOver(ex.Sid, callSid, reason, nil)
		return nil
	}
	if reason == "" {
		reason = "the call ended"
	}
	return x.finish(ctx, ex, reason)
}

// activeForCall returns the active execution of a call, locked (nil, with
// no error, when there is none). The caller holds the call's lock.
func (x *Executor) activeForCall(ctx context.Context, callSid string) (*Execution, func(), error) {
	ex, err := x.store.ActiveExecutionForCall(ctx, callSid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	ex, unlock, err := x.lockExecution(ctx, ex.Sid)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if ex.Status != StatusActive || ex.CallSid != callSid {
		unlock()
		return nil, nil, nil
	}
	return ex, unlock, nil
}

// End ends an execution (the API's POST Status=ended). A call still
// running it is hung up at its next request to the flow.
func (x *Executor) End(ctx context.Context, executionSid, reason string) (*Execution, error) {
	ex, unlock, err := x.lockExecution(ctx, executionSid)
	if err != nil {
		return nil, fmt.Errorf("end execution: %w", err)
	}
	defer unlock()
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
	x.disarmTimer(ex.Sid)
	ex.Status = StatusEnded
	ex.EndReason = reason
	ex.Runtime.Parked = ""
	ex.Runtime.Deadline = time.Time{}
	ex.Runtime.Dialing = false
	ex.Runtime.AwaitReply, ex.Runtime.AwaitMessage = false, ""
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
