package api

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAuthFailures(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name       string
		user, pass string
		noAuth     bool
	}{
		{name: "missing", noAuth: true},
		{name: "wrong token", user: testAccount, pass: "ffffffffffffffffffffffffffffffff"},
		{name: "wrong account", user: otherAcct, pass: testToken},
		{name: "empty token", user: testAccount, pass: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+base+"/Calls.json", nil)
			if !c.noAuth {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := expectError(t, resp, http.StatusUnauthorized, 20003)
			if got.Message != "Authenticate" {
				t.Errorf("message %q, want Authenticate", got.Message)
			}
			if h := resp.Header.Get("WWW-Authenticate"); h != `Basic realm="Twilio API"` {
				t.Errorf("WWW-Authenticate %q", h)
			}
		})
	}
}

func TestNoAuthTokenConfiguredRefusesEveryone(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthToken = "" })
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+base+"/Calls.json", nil)
	req.SetBasicAuth(testAccount, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	expectError(t, resp, http.StatusUnauthorized, 20003)
}

func TestOtherAccountPathIsForbidden(t *testing.T) {
	e := newEnv(t)
	resp := e.do(http.MethodGet, "/2010-04-01/Accounts/"+otherAcct+"/Calls.json", nil)
	expectError(t, resp, http.StatusForbidden, 20003)
}

func TestUnknownPathsAndMethods(t *testing.T) {
	e := newEnv(t)
	notFound := []string{
		"Calls",            // no .json
		"Calls.xml",        // legacy representation not served
		"SigningKeys.json", // not implemented
		"Calls/CA123.json", // malformed SID
		"Calls/.json",      // empty SID
		"Queues/QU1/Nope.json",
		"/2010-04-01/Accounts/" + testAccount,
		"/2010-04-01/Accounts/" + testAccount + ".json",
		"/2010-04-01/Something",
	}
	for _, p := range notFound {
		resp := e.do(http.MethodGet, p, nil)
		got := expectError(t, resp, http.StatusNotFound, 20404)
		if !strings.HasPrefix(got.Message, "The requested resource /2010-04-01/") || !strings.HasSuffix(got.Message, " was not found") {
			t.Errorf("%s: message %q", p, got.Message)
		}
	}
	// Unknown paths still need credentials first.
	expectError(t, e.request(http.MethodGet, "Conferences.json", nil, false), http.StatusUnauthorized, 20003)

	methods := []struct {
		method, path, allow string
	}{
		{http.MethodPut, "Calls.json", "GET, POST"},
		{http.MethodDelete, "Calls.json", "GET, POST"},
		{http.MethodPatch, "Calls/CA0123456789abcdef0123456789abcdef.json", "DELETE, GET, POST"},
		{http.MethodPost, "Recordings.json", "GET"},
		{http.MethodPost, "Queues/QU0123456789abcdef0123456789abcdef/Members.json", "GET"},
		{http.MethodDelete, "Queues/QU0123456789abcdef0123456789abcdef/Members/Front.json", "GET, POST"},
	}
	for _, m := range methods {
		resp := e.do(m.method, m.path, nil)
		expectError(t, resp, http.StatusMethodNotAllowed, 20004)
		if got := resp.Header.Get("Allow"); got != m.allow {
			t.Errorf("%s %s: Allow %q, want %q", m.method, m.path, got, m.allow)
		}
	}
}

func TestHealthzAndDemoStillServed(t *testing.T) {
	demo := fstest.MapFS{"demo/hello.xml": {Data: []byte(`<Response><Say>Hi {{.From}}</Say></Response>`)}}
	e := newEnv(t, func(o *Options) {
		o.Demo = demo
		o.ActiveCalls = func() int { return 3 }
	})
	resp := e.request(http.MethodGet, "/healthz", nil, false)
	var h map[string]any
	decode(t, resp, http.StatusOK, &h)
	if h["status"] != "ok" || h["active_calls"] != float64(3) {
		t.Errorf("healthz %v", h)
	}
	resp = e.request(http.MethodPost, "/demo/hello.xml", url.Values{"From": {"<Ada>"}}, false)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Hi &lt;Ada&gt;") {
		t.Errorf("demo: %d %q", resp.StatusCode, body)
	}
}

func TestNoStoreAnswers501(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Store = nil })
	for _, p := range []string{"Calls.json", "Queues.json", "Recordings.json"} {
		expectError(t, e.do(http.MethodGet, p, nil), http.StatusNotImplemented, 20503)
	}
}
