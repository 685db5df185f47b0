package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// BindMode says how the client binds.
type BindMode string

// Bind modes.
const (
	// Transceiver is one bind_transceiver connection for everything.
	Transceiver BindMode = "transceiver"
	// TransmitterReceiver is a bind_transmitter connection for submit_sm
	// and a bind_receiver connection for deliver_sm.
	TransmitterReceiver BindMode = "transmitter_receiver"
)

// Config configures a Client. Zero durations and sizes take the defaults.
type Config struct {
	Addr       string // host:port of the SMSC
	SystemID   string
	Password   string
	SystemType string
	Bind       BindMode // default Transceiver
	// Window is the most requests outstanding per connection (default 10).
	Window int
	// EnquireLink is the keepalive interval (default 30 s); a keepalive
	// unanswered within ResponseTimeout closes the connection.
	EnquireLink time.Duration
	// ResponseTimeout bounds the wait for any response (default 10 s).
	ResponseTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the back-off between connection
	// attempts (default 1 s doubling to 60 s).
	ReconnectMin, ReconnectMax time.Duration
	// ThrottleMin and ThrottleMax bound the pause after ESME_RTHROTTLED or
	// ESME_RMSGQFUL (default 1 s doubling to 30 s).
	ThrottleMin, ThrottleMax time.Duration
	// OnDeliver handles a deliver_sm (a message or a receipt) and returns
	// the command_status to answer with: the response is sent only when
	// it returns, so a handler that stores the message first acknowledges
	// only what is stored. It runs on a goroutine of its own per PDU.
	OnDeliver func(ctx context.Context, sm *ShortMessage) uint32
	// OnState, when set, hears when the client becomes bound or unbound.
	OnState func(bound bool)
	Logger  *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Bind == "" {
		c.Bind = Transceiver
	}
	if c.Window <= 0 {
		c.Window = 10
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.EnquireLink, 30*time.Second)
	def(&c.ResponseTimeout, 10*time.Second)
	def(&c.ReconnectMin, time.Second)
	def(&c.ReconnectMax, 60*time.Second)
	def(&c.ThrottleMin, time.Second)
	def(&c.ThrottleMax, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Client is an SMPP 3.4 ESME. Run keeps it bound; Submit sends through it.
// It is safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger
	seq atomic.Uint32

	mu      sync.Mutex
	tx      *session      // where submit_sm goes; nil while unbound
	bound   chan struct{} // closed while bound; replaced when unbound
	pauseTo time.Time     // throttled until
	backoff time.Duration // current throttle back-off

	handlers sync.WaitGroup // running OnDeliver calls
}

// NewClient returns a client; call Run to connect.
func NewClient(cfg Config) *Client {
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, log: cfg.Logger.With("smsc", cfg.Addr, "system_id", cfg.SystemID), bound: make(chan struct{})}
}

// Run connects, binds and stays bound, reconnecting with back-off, until
// ctx is cancelled; then it unbinds, waits for running OnDeliver handlers
// and returns nil.
func (c *Client) Run(ctx context.Context) error {
	defer c.handlers.Wait()
	delay := c.cfg.ReconnectMin
	for {
		start := time.Now()
		err := c.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > c.cfg.ReconnectMax {
			delay = c.cfg.ReconnectMin // it was up for a while: start again from the shortest wait
		}
		c.log.Warn("smpp: disconnected; reconnecting", "error", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, c.cfg.ReconnectMax)
	}
}

// runOnce connects and binds, then serves until a connection fails or
// ctx ends.
func (c *Client) runOnce(ctx context.Context) error {
	modes := []uint32{BindTransceiver}
	if c.cfg.Bind == TransmitterReceiver {
		modes = []uint32{BindTransmitter, BindReceiver}
	}
	var sessions []*session
	var wg sync.WaitGroup
	defer func() {
		for _, s := range sessions {
			s.close()
		}
		wg.Wait()
	}()
	anyDone := make(chan *session, len(modes))
	for _, mode := range modes {
		s, err := c.connect(ctx, mode)
		if s != nil {
			sessions = append(sessions, s)
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-s.done:
					anyDone <- s
				case <-ctx.Done():
				}
			}()
			wg.Add(1)
			go func() { defer wg.Done(); c.keepAlive(ctx, s) }()
		}
		if err != nil {
			return err
		}
	}
	c.setBound(sessions[0])
	defer c.setBound(nil)
	select {
	case s := <-anyDone:
		return s.err
	case <-ctx.Done():
		c.unbind(sessions)
		return ctx.Err()
	}
}

// connect dials and binds one connection. A session is returned, with an
// error, when the connection was made but the bind failed (the caller
// closes it).
func (c *Client) connect(ctx context.Context, mode uint32) (*session, error) {
	d := net.Dialer{Timeout: c.cfg.ResponseTimeout}
	conn, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smpp: connect: %w", err)
	}
	s := newSession(conn, c.log, &c.seq, c.cfg.Window, c.cfg.ResponseTimeout)
	go s.readLoop(func(p *PDU) { c.handle(ctx, s, p) })
	resp, err := s.request(ctx, &PDU{CommandID: mode, Bind: &Bind{SystemID: c.cfg.SystemID, Password: c.cfg.Password,
		SystemType: c.cfg.SystemType, InterfaceVersion: 0x34}})
	if err != nil {
		return s, fmt.Errorf("smpp: %s: %w", bindName(mode), err)
	}
	c.log.Info("smpp: bound", "mode", bindName(mode), "smsc_system_id", resp.MessageID)
	return s, nil
}

func bindName(mode uint32) string {
	switch mode {
	case BindTransmitter:
		return "bind_transmitter"
	case BindReceiver:
		return "bind_receiver"
	}
	return "bind_transceiver"
}

// setBound makes s the session submit_sm goes to (nil: unbound).
func (c *Client) setBound(s *session) {
	c.mu.Lock()
	was := c.tx != nil
	c.tx = s
	if s != nil && !was {
		close(c.bound)
	} else if s == nil && was {
		c.bound = make(chan struct{})
	}
	c.mu.Unlock()
	if c.cfg.OnState != nil && was != (s != nil) {
		c.cfg.OnState(s != nil)
	}
}

// unbind says goodbye on every connection (best effort, briefly).
func (c *Client) unbind(sessions []*session) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range sessions {
		_, _ = s.request(ctx, &PDU{CommandID: Unbind})
	}
}

// keepAlive sends enquire_link when the connection has been quiet for the
// keepalive interval and closes it when the SMSC does not answer.
func (c *Client) keepAlive(ctx context.Context, s *session) {
	t := time.NewTicker(c.cfg.EnquireLink / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, s.lastRead.Load())) < c.cfg.EnquireLink {
			continue
		}
		if _, err := s.request(ctx, &PDU{CommandID: EnquireLink}); err != nil && ctx.Err() == nil {
			c.log.Warn("smpp: enquire_link failed; closing the connection", "error", err)
			s.close()
			return
		}
	}
}

// handle answers a request the SMSC sent.
func (c *Client) handle(ctx context.Context, s *session, p *PDU) {
	switch p.CommandID {
	case EnquireLink:
		_ = s.write(&PDU{CommandID: EnquireLinkResp, Sequence: p.Sequence})
	case Unbind:
		_ = s.write(&PDU{CommandID: UnbindResp, Sequence: p.Sequence})
		s.close()
	case DeliverSM:
		if c.cfg.OnDeliver == nil {
			_ = s.write(&PDU{CommandID: DeliverSMResp, Sequence: p.Sequence, Status: ESME_RX_T_APPN})
			return
		}
		c.handlers.Add(1)
		go func() {
			defer c.handlers.Done()
			status := c.cfg.OnDeliver(ctx, p.SM)
			if err := s.write(&PDU{CommandID: DeliverSMResp, Sequence: p.Sequence, Status: status}); err != nil {
				c.log.Warn("smpp: deliver_sm_resp not sent; the SMSC will redeliver", "error", err, "sequence", p.Sequence)
			}
		}()
	default:
		_ = s.write(&PDU{CommandID: GenericNack, Sequence: p.Sequence, Status: ESME_RINVCMDID})
	}
}

// Bound reports whether the client is bound now.
func (c *Client) Bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tx != nil
}

// Submit sends one submit_sm and returns the SMSC's message_id. It waits
// while the client is unbound or throttled; ESME_RTHROTTLED and
// ESME_RMSGQFUL pause every Submit (back-off doubling from ThrottleMin to
// ThrottleMax) and retry the same message. Other refusals are a
// *StatusError; ErrConnectionLost and ErrResponseTimeout mean the SMSC
// may or may not have the message. Submit returns when ctx ends.
func (c *Client) Submit(ctx context.Context, sm *ShortMessage) (string, error) {
	for {
		s, err := c.ready(ctx)
		if err != nil {
			return "", err
		}
		resp, err := s.request(ctx, &PDU{CommandID: SubmitSM, SM: sm})
		var se *StatusError
		if errors.As(err, &se) && (se.Status == ESME_RTHROTTLED || se.Status == ESME_RMSGQFUL) {
			c.throttled(se.Status)
			continue
		}
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		c.backoff = 0
		c.mu.Unlock()
		return resp.MessageID, nil
	}
}

// ready waits until the client is bound and not throttled.
func (c *Client) ready(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		s, bound, wait := c.tx, c.bound, time.Until(c.pauseTo)
		c.mu.Unlock()
		if s == nil {
			select {
			case <-bound:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if wait <= 0 {
			return s, nil
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// throttled pauses sending after a throttling answer.
func (c *Client) throttled(status uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.pauseTo) {
		return // another request already paused us
	}
	if c.backoff == 0 {
		c.backoff = c.cfg.ThrottleMin
	} else {
		c.backoff = min(2*c.backoff, c.cfg.ThrottleMax)
	}
	c.pauseTo = time.Now().Add(c.backoff)
	c.log.Warn("smpp: SMSC throttling; pausing submits", "status", StatusName(status), "pause", c.backoff)
}
