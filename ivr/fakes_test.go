package ivr

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// memLeg is an in-memory media.Leg: Play consumes a source instantly (no
// pacing) and records how much audio was played; digits are injected.
type memLeg struct {
	mu     sync.Mutex
	played []int // samples per Play call
	sent   []string
	dtmf   chan media.Digit
	done   chan struct{}
	once   sync.Once
	onPlay func(n int) // called before Play number n (0-based) starts
	// recordFrames are delivered to every Record sink, then it waits.
	recordFrames [][]int16
	blockOn      int // Play number that blocks until ctx ends (-1: none)
}

func newMemLeg() *memLeg {
	return &memLeg{dtmf: make(chan media.Digit, 32), done: make(chan struct{}), blockOn: -1}
}

func (l *memLeg) Play(ctx context.Context, src media.Source) error {
	l.mu.Lock()
	n := len(l.played)
	l.played = append(l.played, 0)
	hook, block := l.onPlay, l.blockOn == n
	l.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return media.ErrLegClosed
		}
	}
	frame := make([]int16, media.FrameSamples)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-l.done:
			return media.ErrLegClosed
		default:
		}
		k, err := src.ReadFrame(frame)
		l.mu.Lock()
		l.played[n] += k
		long := l.played[n] > 100*media.FrameSamples
		l.mu.Unlock()
		if long {
			time.Sleep(time.Millisecond) // endless sources (bridges, ringback) must not spin
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (l *memLeg) Record(ctx context.Context, sink media.Sink) error {
	l.mu.Lock()
	frames := l.recordFrames
	l.mu.Unlock()
	for _, f := range frames {
		if ctx.Err() != nil {
			return nil
		}
		if err := sink.WriteFrame(f); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case <-l.done:
		return media.ErrLegClosed
	}
}
func (l *memLeg) DTMF() <-chan media.Digit { return l.dtmf }
func (l *memLeg) SendDTMF(ctx context.Context, digits string) error {
	l.mu.Lock()
	l.sent = append(l.sent, digits)
	l.mu.Unlock()
	return nil
}
func (l *memLeg) Done() <-chan struct{} { return l.done }
func (l *memLeg) Close(string) error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memLeg) press(keys string) {
	for i := 0; i < len(keys); i++ {
		l.dtmf <- media.Digit{Key: keys[i], Via: media.ViaRFC4733, At: time.Now()}
	}
}

func (l *memLeg) plays() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.played...)
}

// fakeCall records the signalling the engine asks for.
type fakeCall struct {
	leg    *memLeg
	mu     sync.Mutex
	events []string
}

func newFakeCall() *fakeCall { return &fakeCall{leg: newMemLeg()} }

func (c *fakeCall) log(e string) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}
func (c *fakeCall) Leg() media.Leg                   { return c.leg }
func (c *fakeCall) Ringing() error                   { c.log("ringing"); return nil }
func (c *fakeCall) Answer(ctx context.Context) error { c.log("answer"); return nil }
func (c *fakeCall) Reject(ctx context.Context, busy bool) error {
	if busy {
		c.log("reject-busy")
	} else {
		c.log("reject")
	}
	c.leg.Close("rejected")
	return nil
}
func (c *fakeCall) Hangup(ctx context.Context) error {
	c.log("hangup")
	c.leg.Close("hangup")
	return nil
}
func (c *fakeCall) Done() <-chan struct{} { return c.leg.done }
func (c *fakeCall) history() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

// fakeSpeaker renders 10 ms of audio per character.
type fakeSpeaker struct{}

func (fakeSpeaker) Render(ctx context.Context, text, voice, language string) ([]int16, string, error) {
	return make([]int16, 80*len(text)), "", nil
}

// fakeAudio returns one second of audio for any URL and records the URLs.
type fakeAudio struct {
	mu   sync.Mutex
	urls []string
}

func (a *fakeAudio) Fetch(ctx context.Context, u string) ([]int16, error) {
	a.mu.Lock()
	a.urls = append(a.urls, u)
	a.mu.Unlock()
	return make([]int16, 8000), nil
}

// fakeClock's timers fire only when the test advances time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeTimer
	changed chan struct{}
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), changed: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeTimer{at: c.now.Add(d), ch: ch})
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return ch
}

// Advance moves time on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// pending returns the durations until each pending timer fires.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, w := range c.waiters {
		out = append(out, w.at.Sub(c.now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// waitTimer waits until a timer of duration d (from now) is pending.
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, p := range c.pending() {
			if p == d {
				return
			}
		}
		select {
		case <-c.changed:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %v timer started (pending: %v)", d, c.pending())
		}
	}
}

// testApp is a webhook server answering paths with TwiML and recording
// the requests.
type testApp struct {
	srv    *httptest.Server
	mu     sync.Mutex
	docs   map[string]string
	status map[string]int
	reqs   []recorded
}

type recorded struct {
	path string
	form url.Values
}

func newTestApp(t *testing.T) *testApp {
	a := &testApp{docs: map[string]string{}, status: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		a.mu.Lock()
		a.reqs = append(a.reqs, recorded{path: r.URL.Path, form: r.PostForm})
		doc, ok := a.docs[r.URL.Path]
		code := a.status[r.URL.Path]
		a.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if code == 0 {
			code = 200
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, doc)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testApp) set(path, doc string) {
	a.mu.Lock()
	a.docs[path] = doc
	a.mu.Unlock()
}

func (a *testApp) requests(path string) []recorded {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []recorded
	for _, r := range a.reqs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

func (a *testApp) url(p string) string { return a.srv.URL + p }
