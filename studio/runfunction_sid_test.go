package studio

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// TestRunFunctionBySID: a run-function widget naming its function by
// function_sid is sent where Options.FunctionURL says (the url, a
// twil.io placeholder in exported flows, is not used), signed with the
// account's token so protected functions accept it.
func TestRunFunctionBySID(t *testing.T) {
	const token = "secret-token"
	fnSID := "ZH" + strings.Repeat("c", 32)
	var (
		mu        sync.Mutex
		signature string
		signedOK  bool
	)
	fn := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		signature = r.Header.Get("X-Twilio-Signature")
		signedOK = signature == webhook.Signature(token, "http://"+r.Host+r.URL.RequestURI(), r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"isOpen": true}`))
	})
	var asked []string
	h := newHarness(t, Options{AuthToken: token, FunctionURL: func(service, function string) (string, bool) {
		asked = append(asked, service+"|"+function)
		return fn.srv.URL + "/fn/sched/check-schedule", function == fnSID
	}})
	templateFlow(t, h, "template_example_schedule_flow.json", map[string]string{"WORKFLOW_SID": "WW" + strings.Repeat("b", 32),
		"FUNCTION_CHECK_SCHEDULE_SID": fnSID})
	c := h.newCall("+15551230001")
	target := h.srv.URL + "/studio/" + ivrSid
	params := c.params(nil)
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", webhook.Signature(token, target, params))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := fn.recorded()
	if len(reqs) != 1 || reqs[0].path != "/fn/sched/check-schedule" || reqs[0].body != "name=Example" {
		t.Fatalf("function requests %+v (FunctionURL asked %v)", reqs, asked)
	}
	mu.Lock()
	defer mu.Unlock()
	if !signedOK {
		t.Errorf("X-Twilio-Signature %q does not verify", signature)
	}
}

// TestRunFunctionLocalPath: a run-function url that is a path names a
// function on this gateway (its /fn/ routes).
func TestRunFunctionLocalPath(t *testing.T) {
	x := &Executor{opts: Options{PublicURL: "http://127.0.0.1:8080"}}
	for in, want := range map[string]string{
		"/fn/ivr/router?x=1":          "http://127.0.0.1:8080/fn/ivr/router?x=1",
		"https://a-1234.twil.io/path": "https://a-1234.twil.io/path",
	} {
		if got, err := x.functionURL(in); err != nil || got != want {
			t.Errorf("functionURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
