package functions

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeProject deploys the test project with Deploy and checks the
// handler contract end to end through real Node.js workers: TwiML, text,
// JSON, Twilio.Response, event and context, Runtime globals,
// visibility, assets and CORS.
func TestServeProject(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), nil, nil)
	res := g.deploy(t, "ivr-app", "project")
	if want := g.srv.URL + "/fn/ivr-app"; res.URL != want {
		t.Errorf("deploy URL %q, want %q", res.URL, want)
	}

	t.Run("twiml", func(t *testing.T) {
		r := g.post(t, "/fn/ivr-app/voice/menu", url.Values{"CallSid": {"CA1"}, "From": {"+15550001111"}}, false)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
			t.Fatalf("status %d type %q", r.status, r.header.Get("Content-Type"))
		}
		for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, `<Gather numDigits="1" action="choice"`, "Welcome to the functions test. Press 1"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("body lacks %q:\n%s", want, r.body)
			}
		}
	})
	t.Run("protected", func(t *testing.T) {
		form := url.Values{"CallSid": {"CA2"}, "From": {"+15550001111"}, "Digits": {"1"}}
		if r := g.post(t, "/fn/ivr-app/voice/choice", form, false); r.status != http.StatusUnauthorized {
			t.Errorf("unsigned: status %d, want 401", r.status)
		}
		req := g.post(t, "/fn/ivr-app/voice/choice", form, true)
		if req.status != 200 || !strings.Contains(req.body, "<Play>/fn/"+res.ServiceSID+"/tone.wav</Play>") || !strings.Contains(req.body, "That was the tone") {
			t.Errorf("signed: %d %s", req.status, req.body)
		}
		if !strings.Contains(g.logs.String(), `msg="function: caller +15550001111 pressed 1"`) || !strings.Contains(g.logs.String(), "call_sid=CA2") {
			t.Errorf("console.log not in the log with the call SID:\n%s", g.logs)
		}
	})
	t.Run("text", func(t *testing.T) {
		r := g.get(t, "/fn/ivr-app/text?name=ada")
		if r.status != 200 || r.body != "hello ada" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%d %q %q", r.status, r.header.Get("Content-Type"), r.body)
		}
	})
	t.Run("event and context", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+"/fn/ivr-app/echo?q=1&multi=a&multi=b",
			strings.NewReader("Body=hi&q=2&arr=1&arr=2&Options%5B0%5D=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "session=abc; other=1")
		req.Header.Set("X-Forwarded-For", "10.0.0.1")
		req.Header.Add("X-Custom", "one")
		req.Header.Add("X-Custom", "two")
		r := do(t, req)
		var got struct {
			Event     map[string]any    `json:"event"`
			Context   map[string]any    `json:"context"`
			Env       map[string]string `json:"env"`
			Functions []string          `json:"functions"`
			Assets    []string          `json:"assets"`
			Data      map[string]any    `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("%d %s: %v", r.status, r.body, err)
		}
		ev := got.Event
		if ev["q"] != "2" || ev["Body"] != "hi" || ev["Options[0]"] != "x" || !equalJSON(ev["multi"], []any{"a", "b"}) || !equalJSON(ev["arr"], []any{"1", "2"}) {
			t.Errorf("event %v", ev)
		}
		request := ev["request"].(map[string]any)
		headers := request["headers"].(map[string]any)
		if _, ok := headers["x-forwarded-for"]; ok || !equalJSON(headers["x-custom"], []any{"one", "two"}) {
			t.Errorf("headers %v", headers)
		}
		if !equalJSON(request["cookies"], map[string]any{"session": "abc", "other": "1"}) {
			t.Errorf("cookies %v", request["cookies"])
		}
		c := got.Context
		host := strings.TrimPrefix(g.srv.URL, "http://")
		if c["DOMAIN_NAME"] != host+"/fn/ivr-app" || c["PATH"] != "/echo" || c["SERVICE_SID"] != res.ServiceSID ||
			c["ENVIRONMENT_SID"] != res.EnvironmentSID || c["ACCOUNT_SID"] != testAccount || c["hasToken"] != true || c["hasClient"] != true ||
			c["GREETING"] != "Welcome to the functions test" {
			t.Errorf("context %v", c)
		}
		if got.Env["SUPPORT_NUMBER"] != "+15550002000" {
			t.Errorf("process.env %v", got.Env)
		}
		if !strings.Contains(strings.Join(got.Functions, ","), "lib/util") || strings.Join(got.Assets, ",") != "/data.json" {
			t.Errorf("Runtime.getFunctions %v, getAssets %v", got.Functions, got.Assets)
		}
		if got.Data["prompts"] == nil {
			t.Errorf("private asset content %v", got.Data)
		}
	})
	t.Run("Twilio.Response", func(t *testing.T) {
		r := g.get(t, "/fn/ivr-app/response?name=x")
		if r.status != 201 || r.body != `{"ok":true,"name":"x"}` || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%d %v %s", r.status, r.header, r.body)
		}
		if got := r.header.Values("X-Multi"); strings.Join(got, ",") != "a,b" {
			t.Errorf("X-Multi %v", got)
		}
		if got := strings.Join(r.header.Values("Set-Cookie"), " | "); got != "session=abc;Path=/;HttpOnly | gone=;Max-Age=0" {
			t.Errorf("Set-Cookie %q", got)
		}
	})
	t.Run("empty callback", func(t *testing.T) {
		if r := g.get(t, "/fn/ivr-app/empty"); r.status != 200 || r.body != "" {
			t.Errorf("%d %q", r.status, r.body)
		}
	})
	t.Run("private and unknown", func(t *testing.T) {
		for _, p := range []string{"/fn/ivr-app/lib/util", "/fn/ivr-app/data.json", "/fn/ivr-app/nothing", "/fn/no-such-service/text"} {
			if r := g.get(t, p); r.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, r.status)
			}
		}
	})
	t.Run("assets", func(t *testing.T) {
		r := g.get(t, "/fn/ivr-app/tone.wav")
		if r.status != 200 || r.header.Get("Content-Type") != "audio/wav" || !strings.HasPrefix(r.body, "RIFF") || r.header.Get("Cache-Control") == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
		etag := r.header.Get("ETag")
		if again := g.get(t, "/fn/ivr-app/tone.wav", "If-None-Match", etag); etag == "" || again.status != http.StatusNotModified {
			t.Errorf("ETag %q revalidation: %d", etag, again.status)
		}
		if idx := g.get(t, "/fn/ivr-app/"); idx.status != 200 || !strings.Contains(idx.body, "<p>index</p>") || !strings.HasPrefix(idx.header.Get("Content-Type"), "text/html") {
			t.Errorf("/ → index.html: %d %v", idx.status, idx.header)
		}
		if bySID := g.get(t, "/fn/"+res.ServiceSID+"/tone.wav"); bySID.status != 200 {
			t.Errorf("by service SID: %d", bySID.status)
		}
	})
	t.Run("Logs resource", func(t *testing.T) {
		g.get(t, "/fn/ivr-app/fail")
		base := "/v1/Services/" + res.ServiceSID + "/Environments/" + res.EnvironmentSID + "/Logs"
		logs := g.api(t, "GET", base, nil, 200)["logs"].([]any)
		var info, failed map[string]any
		for _, l := range logs {
			e := l.(map[string]any)
			if e["message"] == "caller +15550001111 pressed 1" {
				info = e
			}
			if strings.Contains(e["message"].(string), "the database is down") {
				failed = e
			}
		}
		if info == nil || info["level"] != "info" || !strings.HasPrefix(info["request_sid"].(string), "RQ") ||
			!strings.HasPrefix(info["function_sid"].(string), "ZH") || info["build_sid"] != res.BuildSID || !strings.HasPrefix(info["deployment_sid"].(string), "ZD") {
			t.Errorf("console.log entry %v", info)
		}
		if failed == nil || failed["level"] != "error" {
			t.Fatalf("error entry %v in %v", failed, logs)
		}
		one := g.api(t, "GET", base+"/"+failed["sid"].(string), nil, 200)
		if one["message"] != failed["message"] {
			t.Errorf("fetched %v", one)
		}
		filtered := g.api(t, "GET", base+"?FunctionSid="+failed["function_sid"].(string), nil, 200)["logs"].([]any)
		for _, l := range filtered {
			if l.(map[string]any)["function_sid"] != failed["function_sid"] {
				t.Errorf("FunctionSid filter let %v through", l)
			}
		}
	})
	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, g.srv.URL+"/fn/ivr-app/text", nil)
		r := do(t, req)
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Max-Age") != "86400" {
			t.Errorf("%d %v", r.status, r.header)
		}
	})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
