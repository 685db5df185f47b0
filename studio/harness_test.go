package studio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/twiml"

	"github.com/voxgate/voxgate/clock/clocktest"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs an Executor behind an httptest server, as the gateway does.
type harness struct {
	t     *testing.T
	x     *Executor
	srv   *httptest.Server
	flows *MemoryFlows
	store *MemoryStore
	clock *clocktest.Fake
	logs  *syncBuffer
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, flows: NewMemoryFlows(), store: NewMemoryStore(),
		clock: clocktest.NewFake(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)), logs: &syncBuffer{}}
	var handler http.Handler = http.NotFoundHandler()
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	opts.Flows, opts.Store, opts.Clock, opts.PublicURL = h.flows, h.store, h.clock, h.srv.URL
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.x = NewExecutor(opts)
	t.Cleanup(h.x.Close)
	handler = h.x.Handler()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("executor log:\n%s", h.logs.String())
		}
	})
	return h
}

// load parses a testdata flow (with ${NAME} replacements) and stores it.
func (h *harness) load(sid, path string, repl map[string]string) *Flow {
	h.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.loadJSON(sid, string(data), repl)
}

func (h *harness) loadJSON(sid, text string, repl map[string]string) *Flow {
	h.t.Helper()
	for k, v := range repl {
		text = strings.ReplaceAll(text, "${"+k+"}", v)
	}
	f, err := Parse([]byte(text))
	if err != nil {
		h.t.Fatalf("Parse: %v", err)
	}
	for _, p := range Validate(f) {
		if p.Severity == SeverityError {
			h.t.Fatalf("flow %s is invalid: %s", sid, p)
		}
	}
	h.flows.Put(sid, f)
	return f
}

// execution returns the (single) execution of a call.
func (h *harness) execution(callSid string) *Execution {
	h.t.Helper()
	all, err := h.store.Executions(context.Background(), ExecutionFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, e := range all {
		if e.CallSid == callSid {
			return e
		}
	}
	h.t.Fatalf("no execution for call %s", callSid)
	return nil
}

// path lists an execution's steps as "from -event-> to".
func (h *harness) path(ex *Execution) []string {
	h.t.Helper()
	steps, err := h.store.Steps(context.Background(), ex.Sid)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, s := range steps {
		out = append(out, s.TransitionedFrom+" -"+s.Name+"-> "+s.TransitionedTo)
	}
	return out
}

// call simulates the call engine for one call.
type call struct {
	h        *harness
	sid      string
	from, to string
	status   string
}

var callCounter struct {
	sync.Mutex
	n int
}

func (h *harness) newCall(from string) *call {
	callCounter.Lock()
	callCounter.n++
	n := callCounter.n
	callCounter.Unlock()
	return &call{h: h, sid: "CA" + strings.Repeat("0", 30) + string(rune('a'+n/10%26)) + string(rune('a'+n%10)),
		from: from, to: "+15557770000", status: "ringing"}
}

// params are the standard parameters the engine sends.
func (c *call) params(extra url.Values) url.Values {
	p := url.Values{"CallSid": {c.sid}, "AccountSid": {"AC" + strings.Repeat("1", 32)}, "From": {c.from}, "To": {c.to},
		"Caller": {c.from}, "Called": {c.to}, "CallStatus": {c.status}, "ApiVersion": {"2010-04-01"}, "Direction": {"inbound"}}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// response is a TwiML answer.
type response struct {
	status int
	body   string
	doc    *twiml.Response
}

// post requests rawURL (its fragment dropped, as the engine does) with the
// call's parameters plus extra.
func (c *call) post(rawURL string, extra url.Values) response {
	c.h.t.Helper()
	rawURL, _, _ = strings.Cut(rawURL, "#")
	resp, err := http.PostForm(rawURL, c.params(extra))
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, body: string(body)}
	if resp.StatusCode != http.StatusOK {
		return r
	}
	doc, warnings, err := twiml.Parse(body)
	if err != nil {
		c.h.t.Fatalf("the executor answered invalid TwiML: %v\n%s", err, body)
	}
	for _, w := range warnings {
		c.h.t.Errorf("TwiML warning %d: %s\n%s", w.Code, w.Message, body)
	}
	r.doc = doc
	c.status = "in-progress"
	return r
}

// start is the engine's first request to the number's voice URL.
func (c *call) start(flowSid string) response {
	c.h.t.Helper()
	return c.post(c.h.x.VoiceURL(flowSid), nil)
}

// verbs names the verbs of a document, e.g. "Gather(Say) Redirect".
func (r response) verbs() string {
	if r.doc == nil {
		return ""
	}
	var names []string
	for _, v := range r.doc.Verbs {
		name := v.Name()
		if g, ok := v.(*twiml.Gather); ok {
			var inner []string
			for _, c := range g.Children {
				inner = append(inner, c.Name())
			}
			name += "(" + strings.Join(inner, ",") + ")"
		}
		names = append(names, name)
	}
	return strings.Join(names, " ")
}

// verbOf returns the first verb of type T.
func verbOf[T twiml.Verb](t *testing.T, r response) T {
	t.Helper()
	var zero T
	if r.doc == nil {
		t.Fatalf("no TwiML (status %d): %s", r.status, r.body)
	}
	for _, v := range r.doc.Verbs {
		if x, ok := v.(T); ok {
			return x
		}
	}
	t.Fatalf("no <%T> in %s", zero, r.body)
	return zero
}

// apiServer is a test HTTP API recording what the flow sends.
type apiServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	method, path, query, contentType, body string
}

func newAPIServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *apiServer {
	a := &apiServer{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.requests = append(a.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)})
		a.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		handle(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *apiServer) recorded() []recorded {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recorded(nil), a.requests...)
}
