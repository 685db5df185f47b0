package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/store"
)

const (
	testSID   = "AC11111111111111111111111111111111"
	testToken = "0123456789abcdef0123456789abcdef"
)

// fakeStore keeps call events and queue history in memory.
type fakeStore struct {
	mu      sync.Mutex
	events  []store.CallEvent
	members []store.QueueMember
}

func (f *fakeStore) AddCallEvent(_ context.Context, e store.CallEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	return nil
}

func (f *fakeStore) ListCallEvents(_ context.Context, sid string, _ int) ([]store.CallEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.CallEvent
	for _, e := range f.events {
		if e.CallSID == sid {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeStore) DeleteCallEventsBefore(context.Context, time.Time) (int64, error) { return 0, nil }

func (f *fakeStore) ListQueueMembers(_ context.Context, q store.QueueMemberFilter, _ store.Page) ([]store.QueueMember, store.PageToken, error) {
	var out []store.QueueMember
	for _, m := range f.members {
		if m.QueueSID == q.QueueSID {
			out = append(out, m)
		}
	}
	return out, "", nil
}

type fakeQueues struct{}

func (fakeQueues) Queues() []queue.QueueInfo {
	return []queue.QueueInfo{{SID: "QU1", Name: "support", Size: 2, MaxSize: 100, AverageWait: 30 * time.Second}}
}
func (fakeQueues) Members(string) []queue.MemberInfo {
	return []queue.MemberInfo{{CallSID: "CA1", Wait: 45 * time.Second}, {CallSID: "CA2", Wait: 15 * time.Second}}
}
func (fakeQueues) Agents() []queue.AgentInfo {
	return []queue.AgentInfo{{ID: "alice", Activity: "on-call", CallSID: "CA3", Queue: "support"}}
}

type env struct {
	h    *Handler
	srv  *httptest.Server
	api  chan *http.Request
	logs *bytes.Buffer
	st   *fakeStore
}

func newEnv(t *testing.T) *env {
	e := &env{api: make(chan *http.Request, 4), logs: &bytes.Buffer{}, st: &fakeStore{}}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.api <- r
		writeJSON(w, 200, map[string]any{"path": r.URL.Path})
	})
	e.h = NewHandler(Options{AccountSID: testSID, AuthToken: testToken, API: api, Store: e.st, Queues: fakeQueues{},
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request; headers are name, value pairs.
func (e *env) do(t *testing.T, method, path, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn returns the session cookie ("name=value") and the CSRF token.
func (e *env) signIn(t *testing.T) (cookie, csrf string) {
	t.Helper()
	form := url.Values{"AccountSid": {testSID}, "AuthToken": {testToken}}.Encode()
	res, body := e.do(t, "POST", "/console/login", form, "Content-Type", "application/x-www-form-urlencoded", "Origin", e.srv.URL)
	if res.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	c := res.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console" || c.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, an expiry", c)
	}
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.Unmarshal([]byte(body), &s)
	return c.Name + "=" + c.Value, s.CSRFToken
}

func TestSignInSessionsAndCSRF(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"AccountSid": {testSID}, "AuthToken": {"ffffffffffffffffffffffffffffffff"}}.Encode()
	if res, _ := e.do(t, "POST", "/console/login", form, "Content-Type", "application/x-www-form-urlencoded"); res.StatusCode != 401 {
		t.Errorf("wrong token: %d, want 401", res.StatusCode)
	}
	good := url.Values{"AccountSid": {testSID}, "AuthToken": {testToken}}.Encode()
	if res, _ := e.do(t, "POST", "/console/login", good, "Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("cross-site sign-in: %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "GET", "/console/api/session", ""); res.StatusCode != 401 {
		t.Errorf("no session: %d, want 401", res.StatusCode)
	}
	cookie, csrf := e.signIn(t)
	if csrf == "" {
		t.Fatal("no CSRF token")
	}
	if res, body := e.do(t, "GET", "/console/api/session", "", "Cookie", cookie); res.StatusCode != 200 || !strings.Contains(body, csrf) {
		t.Errorf("session: %d %s", res.StatusCode, body)
	}
	flow := `{"states": []}`
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Cookie", cookie); res.StatusCode != 403 {
		t.Errorf("change without the CSRF token: %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Cookie", cookie, "X-CSRF-Token", "nope"); res.StatusCode != 403 {
		t.Errorf("change with a wrong CSRF token: %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("cross-origin change: %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "GET", "/console/api/board", "", "Cookie", cookie, "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("cross-origin read (EventSource/WebSocket-style): %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", e.srv.URL); res.StatusCode != 200 {
		t.Errorf("change with the token: %d, want 200", res.StatusCode)
	}
	// Scripts: HTTP Basic, no CSRF token, but not from another site.
	basic := "Basic " + basicAuth(testSID, testToken)
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Authorization", basic); res.StatusCode != 200 {
		t.Errorf("Basic change: %d, want 200", res.StatusCode)
	}
	if res, _ := e.do(t, "POST", "/console/api/flows/validate", flow, "Authorization", basic, "Origin", "https://evil.example"); res.StatusCode != 403 {
		t.Errorf("Basic change from another site: %d, want 403", res.StatusCode)
	}
	if res, _ := e.do(t, "GET", "/console/api/session", "", "Authorization", "Basic "+basicAuth(testSID, "x")); res.StatusCode != 401 {
		t.Errorf("wrong Basic: %d, want 401", res.StatusCode)
	}
	// Sign out ends the session.
	if res, _ := e.do(t, "POST", "/console/api/logout", "", "Cookie", cookie, "X-CSRF-Token", csrf); res.StatusCode != 204 {
		t.Errorf("sign out: %d", res.StatusCode)
	}
	if res, _ := e.do(t, "GET", "/console/api/session", "", "Cookie", cookie); res.StatusCode != 401 {
		t.Errorf("after sign-out: %d, want 401", res.StatusCode)
	}
	if strings.Contains(e.logs.String(), testToken) || strings.Contains(e.logs.String(), csrf) {
		t.Errorf("a secret reached the log:\n%s", e.logs)
	}
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	var mu sync.Mutex
	e.h.sessions.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cookie, _ := e.signIn(t)
	if res, _ := e.do(t, "GET", "/console/api/session", "", "Cookie", cookie); res.StatusCode != 200 {
		t.Fatalf("fresh session: %d", res.StatusCode)
	}
	mu.Lock()
	now = now.Add(DefaultSessionTTL + time.Second)
	mu.Unlock()
	if res, _ := e.do(t, "GET", "/console/api/session", "", "Cookie", cookie); res.StatusCode != 401 {
		t.Errorf("expired session: %d, want 401", res.StatusCode)
	}
}

func TestRESTThroughTheConsole(t *testing.T) {
	e := newEnv(t)
	cookie, csrf := e.signIn(t)
	res, _ := e.do(t, "POST", "/console/api/rest/v2/Flows/FW1?x=1", "Status=draft", "Cookie", cookie, "X-CSRF-Token", csrf)
	if res.StatusCode != 200 {
		t.Fatalf("proxied: %d", res.StatusCode)
	}
	r := <-e.api
	user, pass, _ := r.BasicAuth()
	if r.URL.Path != "/v2/Flows/FW1" || r.URL.RawQuery != "x=1" || user != testSID || pass != testToken || r.Header.Get("Cookie") != "" {
		t.Errorf("the API got %s %s?%s as %s, cookie %q", r.Method, r.URL.Path, r.URL.RawQuery, user, r.Header.Get("Cookie"))
	}
	if res, _ := e.do(t, "GET", "/console/api/rest/2010-04-01/Accounts/"+testSID+"/Calls.json", "", "Cookie", cookie); res.StatusCode != 200 {
		t.Errorf("calls: %d", res.StatusCode)
	}
	<-e.api
	for _, p := range []string{"/console/api/rest/healthz", "/console/api/rest/2010-04-01/Accounts/ACother/Calls.json", "/console/api/rest/v1/Services"} {
		if res, _ := e.do(t, "GET", p, "", "Cookie", cookie); res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestValidateEndpoint(t *testing.T) {
	e := newEnv(t)
	flow := `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}}, "transitions": [{"event": "incomingCall", "next": "say"}]},
	  {"name": "say", "type": "say-play", "properties": {}, "transitions": [{"event": "audioComplete", "next": "nowhere"}]}]}`
	res, body := e.do(t, "POST", "/console/api/flows/validate", flow, "Authorization", "Basic "+basicAuth(testSID, testToken))
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var out struct {
		Valid    bool
		Problems []problemJSON
	}
	_ = json.Unmarshal([]byte(body), &out)
	var errs, warnings int
	for _, p := range out.Problems {
		if p.State == "say" && p.Severity == "error" && p.Path == "#/states/1/transitions/0/next" {
			errs++
		}
		if p.State == "say" && p.Severity == "warning" {
			warnings++
		}
	}
	if out.Valid || errs != 1 || warnings != 1 {
		t.Errorf("want an error (unknown next) and a warning (plays nothing) on widget say: %s", body)
	}
}

func TestBoardAndTimeline(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.st.members = []store.QueueMember{
		{QueueSID: "QU1", CallSID: "a", DateLeft: now, Result: "bridged", WaitTime: 10},
		{QueueSID: "QU1", CallSID: "b", DateLeft: now, Result: "bridged", WaitTime: 60},
		{QueueSID: "QU1", CallSID: "c", DateLeft: now, Result: "hangup", WaitTime: 5},
		{QueueSID: "QU1", CallSID: "d"}, // still waiting
	}
	basic := "Basic " + basicAuth(testSID, testToken)
	_, body := e.do(t, "GET", "/console/api/board", "", "Authorization", basic)
	var b struct {
		Queues []boardQueue
		Agents []boardAgent
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	q := b.Queues[0]
	if q.Waiting != 2 || q.LongestWait != 45 || q.LeftToday != 3 || q.AnsweredToday != 2 || q.ServiceLevel == nil || *q.ServiceLevel < 0.33 || *q.ServiceLevel > 0.34 {
		t.Errorf("queue on the board: %+v", q)
	}
	if len(b.Agents) != 1 || b.Agents[0].Activity != "on-call" || b.Agents[0].CallSID != "CA3" {
		t.Errorf("agents: %+v", b.Agents)
	}
	_ = e.st.AddCallEvent(context.Background(), store.CallEvent{CallSID: "CA9", Kind: "error", Code: 11200, Detail: json.RawMessage(`{}`)})
	_, body = e.do(t, "GET", "/console/api/calls/CA9/events", "", "Authorization", basic)
	if !strings.Contains(body, "HTTP retrieval failure") {
		t.Errorf("timeline: %s", body)
	}
}

func TestPagesAndAssets(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/console", "/console/", "/console/flows/FW00000000000000000000000000000000", "/console/calls"} {
		res, body := e.do(t, "GET", p, "")
		if res.StatusCode != 200 || !strings.Contains(body, `<div id="root">`) || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", p, res.StatusCode, res.Header.Get("Content-Security-Policy"))
		}
		if p == "/console" {
			i := strings.Index(body, "/console/assets/")
			asset := body[i : i+strings.IndexAny(body[i:], `"`)]
			if res, _ := e.do(t, "GET", asset, ""); res.StatusCode != 200 {
				t.Errorf("%s: %d", asset, res.StatusCode)
			}
		}
	}
}
