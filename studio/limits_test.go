package studio

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/twiml"
)

// expectError checks the caller hears the error message and is hung up,
// and the execution ended with a reason containing want.
func expectError(t *testing.T, h *harness, c *call, r response, want string) {
	t.Helper()
	if r.verbs() != "Say Hangup" || verbOf[*twiml.Say](t, r).Text != DefaultErrorMessage {
		t.Fatalf("answer: %s", r.body)
	}
	ex := h.execution(c.sid)
	if ex.Status != StatusEnded || !strings.Contains(ex.EndReason, want) {
		t.Errorf("execution %s, reason %q; want it to contain %q", ex.Status, ex.EndReason, want)
	}
}

func TestLoopWithoutCallerIsStopped(t *testing.T) {
	h := newHarness(t, Options{})
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "inc"}], "properties": {}},
	  {"name": "inc", "type": "set-variables", "transitions": [{"event": "next", "next": "check"}],
	   "properties": {"variables": [{"key": "n", "value": "{{flow.variables.n | plus: 1}}"}]}},
	  {"name": "check", "type": "split-based-on", "transitions": [{"event": "noMatch", "next": "inc"},
	   {"event": "match", "next": "done", "conditions": [{"friendly_name": "big", "arguments": ["{{flow.variables.n}}"], "type": "greater_than", "value": "1000"}]}],
	   "properties": {"input": "{{flow.variables.n}}"}},
	  {"name": "done", "type": "say-play", "transitions": [], "properties": {"say": "done"}}]}`, nil)
	c := h.newCall("+15551230001")
	expectError(t, h, c, c.start(ivrSid), `state "inc" (set-variables) would run 11 times without waiting for the caller`)
	if got := len(h.path(h.execution(c.sid))); got != 21 {
		t.Errorf("%d steps before the stop, want 21 (Trigger→inc, then inc→check→inc ten times)", got)
	}
}

func TestMaxSteps(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{MaxSteps: 3}})
	api := customerAPI(t)
	h.load(ivrSid, "testdata/ivr_flow.json", map[string]string{"HTTP_BASE": api.srv.URL})
	c := h.newCall("+15551230001")
	r := c.start(ivrSid) // 3 steps: Trigger→lookup→greeting→menu
	expectError(t, h, c, c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"1"}}), "limit of 3 steps")
}

func TestSameWidgetInARowAcrossCallbacks(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{MaxWidgetRepeats: 3}})
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "ask"}], "properties": {}},
	  {"name": "ask", "type": "gather-input-on-call", "transitions": [{"event": "timeout", "next": "ask"}], "properties": {"say": "Anyone?"}}]}`, nil)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	for i := 2; i <= 3; i++ {
		r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
		if r.verbs() != "Gather(Say) Redirect" {
			t.Fatalf("run %d: %s", i, r.body)
		}
	}
	expectError(t, h, c, c.post(verbOf[*twiml.Redirect](t, r).URL, nil), `state "ask" (gather-input-on-call) would run 4 times in a row`)
}

func TestHTTPWidgetTimeout(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{HTTPTimeout: 100 * time.Millisecond}})
	release := make(chan struct{})
	api := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h.load(ivrSid, "testdata/ivr_flow.json", map[string]string{"HTTP_BASE": api.srv.URL})
	c := h.newCall("+15551230001")
	start := time.Now()
	r := c.start(ivrSid)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if say := verbOf[*twiml.Gather](t, r).Children[0].(*twiml.Say); !strings.HasPrefix(say.Text, "Hello caller") {
		t.Errorf("prompt %q", say.Text)
	}
	ex := h.execution(c.sid)
	if p := h.path(ex); p[1] != "lookup -failed-> greeting" {
		t.Errorf("steps %v", p)
	}
	if out := ex.Context["widgets"].(map[string]any)["lookup"].(map[string]any); len(out) != 0 {
		t.Errorf("a timed-out request stores nothing, got %v", out)
	}
	if !strings.Contains(h.logs.String(), "no answer within 100ms") {
		t.Errorf("the log does not say why")
	}
}
