// Package mediastream implements Twilio's Media Streams on a call: the
// gateway dials the app's WebSocket server and sends the call's audio as
// 20 ms μ-law frames (<Start><Stream>, a one-way fork of the inbound,
// outbound or both tracks), or also plays what the server sends back, with
// marks and clear (<Connect><Stream>, bidirectional). The protocol is
// exactly Twilio's (../shared/spec/media-streams.md §3).
//
// A Stream knows nothing of SIP or the call engine: the call feeds it
// frames (WriteInbound for what the caller says, WriteOutbound for what
// the gateway plays to them), digits (DTMF), and a bidirectional stream is
// itself a media.Source the call plays to the caller. None of these block
// or allocate: a slow or dead server fills a bounded queue and frames are
// dropped and counted, never delaying the call's media.
package mediastream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

// Defaults for Config's limits.
const (
	DefaultQueueFrames  = 250              // 5 s of one track, 2.5 s of both
	DefaultMaxPlayout   = 10 * time.Minute // Twilio's limit of buffered server audio
	DefaultDialTimeout  = 10 * time.Second
	DefaultWriteTimeout = 5 * time.Second
	maxControlQueued    = 1024
	readLimit           = 4 << 20 // bytes per server message (≈ 6 minutes of audio)
)

// Config describes one stream.
type Config struct {
	// URL is the server's ws:// or wss:// URL. Its query string is
	// removed, as Twilio does (parameters go in Parameters).
	URL string
	// Name is the stream's name ("" = none); Stop and the REST API find
	// streams by it or by their SID.
	Name string
	// Track is twiml.TrackInbound (default), TrackOutbound or TrackBoth.
	Track string
	// Bidirectional makes a <Connect> stream: inbound track only; the
	// server's media, mark and clear are played; DTMF is sent.
	Bidirectional bool
	// Parameters become the start message's customParameters.
	Parameters []twiml.Parameter
	// AccountSID and CallSID identify the call in start and stop.
	AccountSID, CallSID string
	// AuthToken signs the handshake (X-Twilio-Signature); "" = unsigned.
	AuthToken string
	// StatusCallback and StatusCallbackMethod are the stream's
	// statusCallback: the stream does not send it itself (the engine's
	// webhook client does, from OnEvent), it only carries them.
	StatusCallback, StatusCallbackMethod string
	// OnEvent receives the stream's status events (stream-started,
	// stream-stopped, stream-error), in order, from the stream's own
	// goroutines. It must not block for long.
	OnEvent func(Event)
	// HTTPClient dials the server (TLS roots, proxies); nil = default.
	HTTPClient *http.Client
	// Stats are shared counters (may be nil).
	Stats *Stats
	// Logger; nil = slog.Default(). The stream adds call_sid and stream_sid.
	Logger *slog.Logger
	// QueueFrames bounds the frames waiting to be written to the server;
	// default DefaultQueueFrames. When full, new frames are dropped.
	QueueFrames int
	// MaxPlayout bounds the server's audio waiting to be played; default
	// DefaultMaxPlayout. Audio beyond it is discarded (31931).
	MaxPlayout time.Duration
	// DialTimeout bounds the connection and handshake; default
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// WriteTimeout is how long one message may take to write before the
	// server is taken for dead; default DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// Event is a stream status change, for the stream's statusCallback.
type Event struct {
	// Name is "stream-started", "stream-stopped" or "stream-error".
	Name string
	// StreamSID and StreamName (the name, else the SID) identify the stream.
	StreamSID, StreamName string
	// Err is set on stream-error.
	Err *Error
	// At is when it happened.
	At time.Time
}

// Params returns the status callback's parameters (besides the call's
// AccountSid and CallSid).
func (e Event) Params() url.Values {
	v := url.Values{}
	v.Set("StreamSid", e.StreamSID)
	v.Set("StreamName", e.StreamName)
	v.Set("StreamEvent", e.Name)
	if e.Err != nil {
		v.Set("StreamError", e.Err.Error())
	}
	v.Set("Timestamp", e.At.UTC().Format(time.RFC1123Z))
	return v
}

// ErrServerClosed is Err's answer when the server closed the stream
// normally: a <Connect> goes on with its action or the next verb.
var ErrServerClosed = errors.New("mediastream: the server closed the stream")

// Stream is one live media stream. Its methods are safe for concurrent use.
type Stream struct {
	cfg   Config
	sid   string
	url   string
	log   *slog.Logger
	stats *Stats
	conn  *websocket.Conn
	out   *outQueue
	play  *playout    // nil unless bidirectional
	in    *trackClock // nil when the inbound track is not streamed
	outb  *trackClock // nil when the outbound track is not streamed
	begin time.Time   // when start was sent: media timestamps count from it

	ctx      context.Context
	cancel   context.CancelFunc
	stopOnce sync.Once
	stopReq  chan struct{} // closed by Stop: the writer sends stop and closes
	done     chan struct{}
	errOnce  sync.Once
	err      error // why it ended; set before done closes

	writeStart atomic.Int64 // unix ns when the write in progress began; 0 = idle
	warned     [numWarnings]atomic.Bool
	playFrame  [frameBytes]byte // ReadFrame's μ-law, owned by the pacer
}

// trackClock numbers one track's frames.
type trackClock struct {
	name  string
	mu    sync.Mutex
	chunk uint64
	ts    uint64
}

// Start dials the server, sends connected and start, and runs the stream
// until Stop, the server closing it, an error, or ctx ending. A dial
// failure returns an *Error with Twilio's code (and reports stream-error).
func Start(ctx context.Context, cfg Config) (*Stream, error) {
	cfg = withDefaults(cfg)
	s := &Stream{cfg: cfg, sid: sid.New("MZ"), stats: cfg.Stats, stopReq: make(chan struct{}), done: make(chan struct{})}
	s.log = cfg.Logger.With("call_sid", cfg.CallSID, "stream_sid", s.sid)
	u, err := streamURL(cfg.URL)
	if err != nil {
		return nil, s.failStart(err)
	}
	if u.RawQuery != "" {
		s.log.Warn("media stream URL has a query string: removed, as Twilio does (use <Parameter>)", "url", redact(u))
		u.RawQuery = ""
	}
	s.url = u.String()
	s.out = newOutQueue(cfg.QueueFrames, maxControlQueued)
	for _, t := range s.trackNames() {
		if t == trackInbound {
			s.in = &trackClock{name: trackInbound}
		} else {
			s.outb = &trackClock{name: trackOutbound}
		}
	}
	if cfg.Bidirectional {
		s.play = newPlayout(int(cfg.MaxPlayout / time.Second * media.SampleRate))
	}
	if err := s.dial(ctx); err != nil {
		return nil, s.failStart(err)
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.begin = time.Now()
	if err := s.hello(); err != nil {
		s.conn.CloseNow()
		s.cancel()
		return nil, s.failStart(err)
	}
	s.stats.started()
	s.event("stream-started", nil)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.writeLoop() }()
	go func() { defer wg.Done(); s.readLoop() }()
	go s.watch(ctx)
	go func() {
		wg.Wait()
		s.finish()
	}()
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Track == "" || cfg.Bidirectional {
		cfg.Track = twiml.TrackInbound
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.QueueFrames <= 0 {
		cfg.QueueFrames = DefaultQueueFrames
	}
	if cfg.MaxPlayout <= 0 {
		cfg.MaxPlayout = DefaultMaxPlayout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	return cfg
}

// failStart reports a stream that never started.
func (s *Stream) failStart(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: CodeConnectionTimeout, Err: err}
	}
	s.stats.failed(e.Code)
	s.log.Error("media stream failed to start", "code", e.Code, "err", e.Err)
	s.event("stream-error", e)
	return e
}

func (s *Stream) trackNames() []string {
	switch s.cfg.Track {
	case twiml.TrackOutbound:
		return []string{trackOutbound}
	case twiml.TrackBoth:
		return []string{trackInbound, trackOutbound}
	}
	return []string{trackInbound}
}

// dial opens the WebSocket, signed like a GET webhook of the URL dialed.
func (s *Stream) dial(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	h := http.Header{}
	if s.cfg.AuthToken != "" {
		h.Set("X-Twilio-Signature", webhook.Signature(s.cfg.AuthToken, s.url, nil))
	}
	conn, resp, err := websocket.Dial(dctx, s.url, &websocket.DialOptions{HTTPHeader: h, HTTPClient: s.cfg.HTTPClient})
	if err != nil {
		return dialError(err, resp)
	}
	conn.SetReadLimit(readLimit)
	s.conn = conn
	return nil
}

// hello sends connected and start.
func (s *Stream) hello() error {
	params := map[string]string{}
	for _, p := range s.cfg.Parameters {
		params[p.Name] = p.Value
	}
	start, err := marshalStart(startInfo{
		AccountSID: s.cfg.AccountSID, StreamSID: s.sid, CallSID: s.cfg.CallSID,
		Tracks:           s.trackNames(),
		MediaFormat:      mediaFormat{Encoding: "audio/x-mulaw", SampleRate: media.SampleRate, Channels: 1},
		CustomParameters: params,
	})
	if err != nil {
		return fmt.Errorf("encoding start: %w", err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, appendConnected(nil)); err != nil {
		return &Error{Code: CodeCloseError, Err: fmt.Errorf("sending connected: %w", err)}
	}
	if err := s.conn.Write(ctx, websocket.MessageText, start); err != nil {
		return &Error{Code: CodeCloseError, Err: fmt.Errorf("sending start: %w", err)}
	}
	return nil
}

// SID returns the stream's SID (MZ…).
func (s *Stream) SID() string { return s.sid }

// Name returns the stream's name, "" if none.
func (s *Stream) Name() string { return s.cfg.Name }

// Bidirectional reports whether this is a <Connect> stream.
func (s *Stream) Bidirectional() bool { return s.cfg.Bidirectional }

// Done is closed when the stream has ended and its socket is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err returns why the stream ended, once Done is closed: nil after Stop
// or the call's context ending, ErrServerClosed when the server closed it
// normally, else an *Error.
func (s *Stream) Err() error {
	<-s.done
	return s.err
}

// Stop sends stop, closes the socket (1000) and waits for the stream to
// end. It is safe to call more than once and after the stream ended.
func (s *Stream) Stop() {
	s.stopOnce.Do(func() { close(s.stopReq) })
	<-s.done
}
