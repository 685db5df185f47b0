package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// Transport carries messages over one trunk.
type Transport interface {
	// Name is the trunk's name.
	Name() string
	// Send hands one message to the carrier and returns the carrier's id
	// of each segment (for delivery receipts; empty when the transport
	// has none). A *SendError says whether to retry; any other error is
	// retried.
	Send(ctx context.Context, m Outgoing) ([]string, error)
	// Run receives messages and receipts for sink until ctx ends.
	Run(ctx context.Context, sink Sink) error
}

// Outgoing is a message handed to a transport.
type Outgoing struct {
	SID      string
	From, To string
	Body     string
	Media    []string
}

// Incoming is a message a transport received.
type Incoming struct {
	From, To    string // E.164 when the transport could tell
	Body        string
	NumSegments int
	Trunk       string
	// ErrorCode is CodeMissingSegment when parts of a concatenated
	// message never arrived.
	ErrorCode int
}

// Receipt is a delivery receipt for one segment.
type Receipt struct {
	// IDs are the carrier message ids the receipt may name, best first
	// (SMSCs format ids differently in submit_sm_resp and receipts).
	IDs       []string
	Delivered bool
	// ErrorCode is Twilio's code for an undelivered segment.
	ErrorCode int
	// DoneDate is the receipt's done date, YYMMDDhhmm.
	DoneDate string
	Raw      string
}

// Sink is what transports report to (the Service).
type Sink interface {
	// Receive stores an inbound message; only when it returns nil may the
	// transport acknowledge it to the carrier.
	Receive(ctx context.Context, in Incoming) error
	// Receipt records a delivery receipt; an error means it was not
	// recorded (the transport should ask the carrier to redeliver it).
	Receipt(ctx context.Context, r Receipt) error
}

// App is the messaging application of a number.
type App struct {
	URL, Method                 string
	FallbackURL, FallbackMethod string
	// StatusCallback hears the status of replies the app sends.
	StatusCallback string
	// FlowSID runs a Studio flow instead of URL.
	FlowSID string
}

// FlowRunner runs Studio flows for inbound messages.
type FlowRunner interface {
	// HandleMessage gives an inbound message to a flow: it resumes the
	// contact's execution waiting for a reply, or starts one.
	HandleMessage(ctx context.Context, flowSID string, params url.Values) error
}

// Options configure a Service.
type Options struct {
	AccountSID, AuthToken string
	// PublicURL is the gateway's base URL (relative app URLs resolve on it).
	PublicURL string
	Store     store.MessageStore
	// Transports carry messages; Route picks one for an outbound message
	// (default: the first).
	Transports []Transport
	Route      func(to string) string
	// Apps returns the messaging app of one of our numbers.
	Apps func(number string) (App, bool)
	// Ours reports whether a number is one of the account's (a valid
	// From).
	Ours  func(number string) bool
	Flows FlowRunner
	// OptOut configures keyword handling.
	OptOut OptOut
	// Workers is the number of concurrent sends per transport (default 32).
	Workers int
	// ReassemblyTimeout bounds the wait for the parts of a long inbound
	// message (default 60 s).
	ReassemblyTimeout time.Duration
	// Validity is how long a message may wait in the queue before it
	// fails with 30001 (default 10 h, Twilio's ValidityPeriod default).
	Validity       time.Duration
	WebhookTimeout time.Duration
	HTTPClient     *http.Client
	// RetryDelay is the first pause before a transient failure is retried
	// (default 1 s, doubling to 30 s).
	RetryDelay time.Duration
	// Observe, when set, hears every inbound message once its webhook or
	// flow ran (benchmarks), and every final outbound status.
	Observe func(m store.Message)
	// Failed, when set, hears (on a goroutine of the Service's) each
	// outbound message that became failed or undelivered (Studio's
	// deliveryFailure).
	Failed func(ctx context.Context, m store.Message)
	Logger *slog.Logger
}

// Service is the messaging engine. Create it with New and call Run.
type Service struct {
	opts  Options
	log   *slog.Logger
	store store.MessageStore
	tr    map[string]*outbox
	first string

	ctx    context.Context // set by Run
	ready  chan struct{}   // closed once Run reconciled the last run's messages
	wg     sync.WaitGroup  // callbacks, inbound handling, retries
	mu     sync.Mutex
	loops  map[[2]string][]time.Time // (from,to) → recent reply times (14107)
	closed bool
}

// New returns a Service; nothing runs until Run.
func New(opts Options) *Service {
	if opts.Workers <= 0 {
		opts.Workers = 32
	}
	if opts.Validity <= 0 {
		opts.Validity = 10 * time.Hour
	}
	if opts.ReassemblyTimeout <= 0 {
		opts.ReassemblyTimeout = 60 * time.Second
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = time.Second
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 15 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Ours == nil {
		opts.Ours = func(string) bool { return true }
	}
	opts.OptOut = opts.OptOut.withDefaults()
	s := &Service{opts: opts, log: opts.Logger, store: opts.Store, tr: map[string]*outbox{}, loops: map[[2]string][]time.Time{},
		ctx: context.Background(), ready: make(chan struct{})}
	for i, t := range opts.Transports {
		s.tr[t.Name()] = newOutbox(t)
		if i == 0 {
			s.first = t.Name()
		}
	}
	return s
}

// Run starts the transports and the outbox workers, reconciles messages a
// previous run left unfinished, and serves until ctx ends; then it waits
// for its goroutines.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	// Reconcile before any transport runs: a message received from now on
	// must not also be picked up as left over by the last run.
	if err := s.reconcile(ctx); err != nil {
		s.log.Error("messaging: reconciling unfinished messages failed", "error", err)
	}
	close(s.ready)
	var wg sync.WaitGroup
	for _, ob := range s.tr {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ob.t.Run(ctx, s); err != nil && ctx.Err() == nil {
				s.log.Error("messaging: transport stopped", "trunk", ob.t.Name(), "error", err)
			}
		}()
		for range s.opts.Workers {
			wg.Add(1)
			go func() { defer wg.Done(); s.work(ctx, ob) }()
		}
	}
	<-ctx.Done()
	for _, ob := range s.tr {
		ob.close()
	}
	wg.Wait()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// reconcile re-queues outbound messages a previous run left queued or
// sending and handles inbound messages whose webhook did not run.
func (s *Service) reconcile(ctx context.Context) error {
	ms, err := s.store.UnfinishedMessages(ctx)
	if err != nil {
		return err
	}
	return s.resume(ctx, ms)
}

// Adopt sends the outbound messages and handles the inbound ones that
// another gateway sharing the database left unfinished when it died, once
// this gateway has claimed them in the store (store.DB.ClaimMessages): a
// survivor's share of the dead node's outbox. It waits for Run to start.
func (s *Service) Adopt(ctx context.Context, ms []store.Message) error {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.resume(ctx, ms)
}

// resume queues unfinished outbound messages again (a send that was
// under way may reach the carrier twice) and handles pending inbound ones.
func (s *Service) resume(ctx context.Context, ms []store.Message) error {
	for _, m := range ms {
		switch {
		case m.Direction == "inbound":
			s.log.Info("messaging: handling an inbound message left pending by the last run", "message_sid", m.SID)
			s.goHandle(m)
		case m.Status == store.MessageQueued || m.Status == store.MessageSending:
			if m.Status == store.MessageSending {
				s.log.Warn("messaging: re-sending a message whose send was interrupted (the carrier may receive it twice)", "message_sid", m.SID)
				if err := s.store.RequeueMessage(ctx, m.SID); err != nil {
					return err
				}
			}
			s.enqueue(m)
		}
	}
	if len(ms) > 0 {
		s.log.Info("messaging: reconciled unfinished messages", "count", len(ms))
	}
	return nil
}

// goRun runs f on a goroutine the Service waits for (none after Run ended).
func (s *Service) goRun(f func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	ctx := s.ctx
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f(ctx) }()
}

// newSID makes an SM sid.
func newSID() string { return sid.New("SM") }

// normalise turns a number into E.164 when it looks like one: "+" kept,
// digits of 8 or more get a "+"; short codes and alphanumeric senders are
// kept as they are.
func normalise(n string) string {
	n = strings.TrimSpace(n)
	if strings.HasPrefix(n, "+") || !allDigits(n) || len(n) < 8 {
		return n
	}
	return "+" + n
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validAddress reports whether to is an E.164 number or a short code.
func validAddress(to string) bool {
	d := strings.TrimPrefix(to, "+")
	return allDigits(d) && (len(d) >= 3 && len(d) <= 15)
}

// validSender reports whether from is a number, short code or
// alphanumeric sender id (1–11 letters and digits with a letter).
func validSender(from string) bool {
	if validAddress(from) {
		return true
	}
	if len(from) < 1 || len(from) > 11 {
		return false
	}
	letter := false
	for _, r := range from {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9', r == ' ':
		default:
			return false
		}
	}
	return letter
}

// isNotFound reports whether err is the store's not-found.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// errorf wraps for logs.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
