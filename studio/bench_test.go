package studio

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkCallStart measures one incoming call's first request: a new
// execution, set-variables, a split, and the Gather TwiML (not a hot path:
// once per caller interaction).
func BenchmarkCallStart(b *testing.B) {
	flows := NewMemoryFlows()
	f, err := Parse([]byte(`{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "vars"}], "properties": {}},
	  {"name": "vars", "type": "set-variables", "transitions": [{"event": "next", "next": "split"}], "properties": {"variables": [{"key": "greeting", "value": "Hello {{trigger.call.From}}"}]}},
	  {"name": "split", "type": "split-based-on", "transitions": [{"event": "noMatch", "next": "menu"}, {"event": "match", "next": "menu", "conditions": [{"friendly_name": "uk", "arguments": ["{{trigger.call.From}}"], "type": "starts_with", "value": "+44"}]}], "properties": {"input": "{{trigger.call.From}}"}},
	  {"name": "menu", "type": "gather-input-on-call", "transitions": [], "properties": {"say": "{{flow.variables.greeting}}, press 1", "number_of_digits": 1}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	flows.Put(ivrSid, f)
	x := NewExecutor(Options{Flows: flows, PublicURL: "http://gw", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := x.Handler()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		form := url.Values{"CallSid": {fmt.Sprintf("CA%032x", i)}, "From": {"+15551230001"}, "To": {"+15557770000"}, "CallStatus": {"ringing"}}
		req := httptest.NewRequest(http.MethodPost, "/studio/"+ivrSid, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Gather") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkMatchCondition measures one split condition.
func BenchmarkMatchCondition(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := matchCondition("matches_any_of", "2", "1, 2, 3"); !ok {
			b.Fatal("no match")
		}
	}
}
