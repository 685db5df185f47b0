package ivr

import (
	"context"
	"github.com/voxgate/voxgate/media/mediatest"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"

	"github.com/voxgate/voxgate/clock/clocktest"

	"github.com/voxgate/voxgate/recording"
)

// fakeCall records the signalling the engine asks for.
type fakeCall struct {
	leg    *mediatest.Leg
	mu     sync.Mutex
	events []string
}

func newFakeCall() *fakeCall { return &fakeCall{leg: mediatest.NewLeg()} }

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
func (c *fakeCall) Done() <-chan struct{} { return c.leg.Done() }
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

func newFakeClock() *clocktest.Fake {
	return clocktest.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
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

// recordTo gives the engine a recorder writing into dir that reports to
// saved (when not nil).
func (h *harness) recordTo(dir string, saved func(recording.Recording)) {
	h.eng.cfg.Recorder = recording.New(recording.Config{Dir: dir, PublicURL: "http://gw.example",
		AccountSID: h.eng.cfg.AccountSID, Clock: h.eng.cfg.Clock, Saved: saved})
}

// constFrame is a frame of the constant sample v.
func constFrame(v int16) []int16 {
	f := make([]int16, media.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}
