package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/store"
)

// maxBodyKept is how much of a webhook's request and response body the
// timeline keeps (a TwiML document is rarely longer).
const maxBodyKept = 16 << 10

// Recorder writes the call events the console shows (status changes,
// webhook exchanges, warnings and errors with Twilio's codes) to the store.
// It is fed by the gateway's existing hooks: Status from the engine's
// Events, Transport wraps the webhook client's transport, LogHandler sees
// the engine's log lines that carry an error_code. Writes happen on one
// goroutine the Recorder owns; Close stops it after writing what is queued.
type Recorder struct {
	store   store.CallEventStore
	log     *slog.Logger
	queue   chan store.CallEvent
	done    chan struct{}
	dropped atomic.Int64

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
}

// NewRecorder starts a Recorder writing to s.
func NewRecorder(s store.CallEventStore, log *slog.Logger) *Recorder {
	r := &Recorder{store: s, log: log, queue: make(chan store.CallEvent, 1024), done: make(chan struct{})}
	go r.write()
	return r
}

// batchStore is a store that writes many call events in one transaction
// (store.DB does).
type batchStore interface {
	AddCallEvents(ctx context.Context, events []store.CallEvent) error
}

// maxBatch bounds the events the writer commits at once.
const maxBatch = 256

func (r *Recorder) write() {
	defer close(r.done)
	batcher, _ := r.store.(batchStore)
	batch := make([]store.CallEvent, 0, maxBatch)
	for e := range r.queue {
		// Take what else is queued: under load one commit carries many
		// events; when idle, the one event goes at once.
		batch = append(batch[:0], e)
	more:
		for len(batch) < maxBatch {
			select {
			case e, ok := <-r.queue:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if batcher == nil || len(batch) == 1 || batcher.AddCallEvents(ctx, batch) != nil {
			// One by one: a refused batch loses only its bad events.
			for _, e := range batch {
				if err := r.store.AddCallEvent(ctx, e); err != nil {
					r.log.Warn("console: call event not saved", "call_sid", e.CallSID, "kind", e.Kind, "error", err)
				}
			}
		}
		cancel()
		clear(batch) // drop the details for the collector
	}
}

// Close writes the queued events and stops the writer. Events added after
// Close are dropped.
func (r *Recorder) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	<-r.done
}

// add queues an event; when the writer is behind by 1024 events it is
// dropped (and counted) rather than slowing the call.
func (r *Recorder) add(callSID, kind string, code int, detail any) {
	if r == nil || callSID == "" {
		return
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		raw = []byte("{}")
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return
	}
	select {
	case r.queue <- store.CallEvent{CallSID: callSID, At: time.Now(), Kind: kind, Code: code, Detail: raw}:
	default:
		if r.dropped.Add(1) == 1 {
			r.log.Warn("console: call event writer is behind; events dropped", "call_sid", callSID)
		}
	}
}

// Status records a call's status change.
func (r *Recorder) Status(callSID, status string, at time.Time) {
	r.add(callSID, "status", 0, map[string]any{"status": status, "at": at.UTC().Format(time.RFC3339Nano)})
}

// Transport wraps base (nil: http.DefaultTransport) so that every webhook
// request a call makes, and its response, lands in that call's timeline.
// The call is found by the CallSid parameter Twilio's webhooks carry.
func (r *Recorder) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &recordingTransport{base: base, rec: r}
}

type recordingTransport struct {
	base http.RoundTripper
	rec  *Recorder
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody string
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = string(b)
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	// The form's CallSid wins over the query's, as in a parsed request.
	callSID := formValue(reqBody, "CallSid")
	if callSID == "" {
		callSID = formValue(req.URL.RawQuery, "CallSid")
	}
	if callSID == "" {
		return t.base.RoundTrip(req)
	}
	start := time.Now()
	detail := map[string]any{
		"method": req.Method, "url": redactURL(req.URL),
		"request": clip(reqBody),
	}
	res, err := t.base.RoundTrip(req)
	if err != nil {
		detail["error"] = err.Error()
		detail["duration_ms"] = time.Since(start).Milliseconds()
		t.rec.add(callSID, "webhook", 0, detail)
		return nil, err
	}
	detail["status_code"] = res.StatusCode
	detail["content_type"] = res.Header.Get("Content-Type")
	res.Body = &tapBody{ReadCloser: res.Body, done: func(body []byte) {
		detail["response"] = string(body)
		detail["duration_ms"] = time.Since(start).Milliseconds()
		t.rec.add(callSID, "webhook", 0, detail)
	}}
	return res, nil
}

// formValue is the first value of key in the URL-encoded form s, or "" if
// it has none. Unlike url.ParseQuery it builds no map: a webhook carries
// a dozen parameters and the recorder needs one. A pair that does not
// decode is skipped, as ParseQuery skips it.
func formValue(s, key string) string {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
	}
	return ""
}

// redactURL is u without a password.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	return c.String()
}

func clip(s string) string {
	if len(s) > maxBodyKept {
		return s[:maxBodyKept] + "…"
	}
	return s
}

// tapBody keeps the first maxBodyKept bytes read and reports them once, at
// the end of the body or when it is closed.
type tapBody struct {
	io.ReadCloser
	buf      bytes.Buffer
	reported bool
	done     func([]byte)
}

func (b *tapBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxBodyKept - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(n, room)])
	}
	if err != nil {
		b.report()
	}
	return n, err
}

func (b *tapBody) Close() error {
	b.report()
	return b.ReadCloser.Close()
}

func (b *tapBody) report() {
	if !b.reported {
		b.reported = true
		b.done(b.buf.Bytes())
	}
}

// LogHandler wraps h: log lines of warning level and above that name a
// call (call_sid) and carry a Twilio code (error_code) also land in that
// call's timeline, as the console's debugger.
func (r *Recorder) LogHandler(h slog.Handler) slog.Handler {
	return &logTap{Handler: h, rec: r}
}

type logTap struct {
	slog.Handler
	rec     *Recorder
	callSID string
	group   bool // attributes now go into a group: not ours to read
}

func (l *logTap) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *l
	n.Handler = l.Handler.WithAttrs(attrs)
	if !l.group {
		for _, a := range attrs {
			if a.Key == "call_sid" {
				n.callSID = a.Value.String()
			}
		}
	}
	return &n
}

func (l *logTap) WithGroup(name string) slog.Handler {
	n := *l
	n.Handler = l.Handler.WithGroup(name)
	n.group = true
	return &n
}

func (l *logTap) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		l.capture(rec)
	}
	return l.Handler.Handle(ctx, rec)
}

func (l *logTap) capture(rec slog.Record) {
	callSID, code := l.callSID, 0
	detail := map[string]any{"message": rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "call_sid":
			callSID = a.Value.String()
		case "error_code":
			if a.Value.Kind() == slog.KindInt64 {
				code = int(a.Value.Int64())
			}
		case "url":
			if u, err := url.Parse(a.Value.String()); err == nil {
				detail["url"] = redactURL(u)
			}
		case "error", "warning", "verb", "line":
			detail[a.Key] = a.Value.String()
		}
		return true
	})
	if code == 0 || callSID == "" {
		return
	}
	kind := "error"
	if rec.Level < slog.LevelError {
		kind = "warning"
	}
	detail["meaning"] = ErrorMeaning(code)
	l.rec.add(callSID, kind, code, detail)
}
