package console

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRecorder: a webhook exchange, a status change and a log line with a
// Twilio code land in the call's timeline; a URL's password does not.
func TestRecorder(t *testing.T) {
	st := &fakeStore{}
	var logs strings.Builder
	rec := NewRecorder(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response><Say>Hi</Say></Response>")
	}))
	defer app.Close()
	client := &http.Client{Transport: rec.Transport(nil)}
	u, _ := url.Parse(app.URL + "/voice")
	u.User = url.UserPassword("user", "s3cret-pass")
	res, err := client.PostForm(u.String(), url.Values{"CallSid": {"CA1"}, "CallStatus": {"ringing"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "<Response><Say>Hi</Say></Response>" {
		t.Errorf("the engine got %q", body)
	}
	// Requests without a CallSid (not a call's webhook) are not recorded.
	res, err = client.Get(app.URL + "/other")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	rec.Status("CA1", "in-progress", time.Now())
	log := slog.New(rec.LogHandler(slog.NewTextHandler(&logs, nil))).With("call_sid", "CA1")
	log.Error("ivr: application error", "error_code", 12100, "url", "http://u:pw@app/x", "error", "bad XML")
	log.Info("not an event", "error_code", 1)
	log.Warn("no code")
	rec.Close()
	rec.Status("CA1", "completed", time.Now()) // after Close: dropped, no panic

	if !strings.Contains(logs.String(), "application error") {
		t.Errorf("the log line did not reach the log: %s", logs.String())
	}
	events := st.events
	if len(events) != 3 {
		t.Fatalf("%d events: %+v", len(events), events)
	}
	var hook map[string]any
	_ = json.Unmarshal(events[0].Detail, &hook)
	if events[0].Kind != "webhook" || hook["status_code"] != 200.0 || hook["response"] != "<Response><Say>Hi</Say></Response>" ||
		!strings.Contains(hook["request"].(string), "CallStatus=ringing") || hook["method"] != "POST" {
		t.Errorf("webhook event: %s", events[0].Detail)
	}
	if strings.Contains(string(events[0].Detail), "s3cret-pass") {
		t.Errorf("a URL password was kept: %s", events[0].Detail)
	}
	if events[1].Kind != "status" || !strings.Contains(string(events[1].Detail), "in-progress") {
		t.Errorf("status event: %+v", events[1])
	}
	if e := events[2]; e.Kind != "error" || e.Code != 12100 || !strings.Contains(string(e.Detail), "Document parse failure") || strings.Contains(string(e.Detail), ":pw@") {
		t.Errorf("error event: %+v %s", e, e.Detail)
	}
}

func TestFormValue(t *testing.T) {
	for _, tc := range []struct{ form, want string }{
		{"CallSid=CA1&From=%2B1555", "CA1"},
		{"From=%2B1555&CallSid=CA2&CallSid=CA3", "CA2"},
		{"Call%53id=CA%34", "CA4"},
		{"CallSid=a+b", "a b"},
		{"CallSid=%zz&CallSid=CA5", "CA5"},
		{"CallSidX=1&XCallSid=2", ""},
		{"", ""},
		{"CallSid", ""},
	} {
		if got := formValue(tc.form, "CallSid"); got != tc.want {
			t.Errorf("formValue(%q) = %q, want %q", tc.form, got, tc.want)
		}
		// The same answer as the map the recorder built before.
		if q, err := url.ParseQuery(tc.form); err == nil && q.Get("CallSid") != tc.want {
			t.Errorf("formValue(%q) = %q, url.ParseQuery says %q", tc.form, tc.want, q.Get("CallSid"))
		}
	}
}
