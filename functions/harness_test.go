package functions

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/store"
)

const (
	testAccount = "AC11111111111111111111111111111111"
	testToken   = "22222222222222222222222222222222"
)

// logBuffer collects the manager's log for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gateway is a Manager behind an HTTP server, mounted as the gateway does.
type gateway struct {
	m    *Manager
	srv  *httptest.Server
	logs *logBuffer
	opts Options
}

// startGateway starts a Manager (real node workers) on an HTTP server.
// dir is its storage directory; db, when set, persists resources.
func startGateway(t *testing.T, dir string, db store.ServerlessStore, tweak func(*Options)) *gateway {
	t.Helper()
	g := &gateway{logs: &logBuffer{}}
	mux := http.NewServeMux()
	g.srv = httptest.NewServer(mux)
	g.opts = Options{AccountSID: testAccount, AuthToken: testToken, PublicURL: g.srv.URL, Dir: dir, Store: db,
		RuntimeDir: filepath.Join("runtime"), Workers: 1, Timeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&g.opts)
	}
	m, err := New(context.Background(), g.opts)
	if err != nil {
		g.srv.Close()
		t.Fatal(err)
	}
	g.m = m
	mux.Handle("/v1/Services", api.RequireAuth(testAccount, testToken, m.APIHandler()))
	mux.Handle("/v1/Services/", api.RequireAuth(testAccount, testToken, m.APIHandler()))
	mux.Handle("/fn/", m.Handler())
	t.Cleanup(g.close)
	return g
}

func (g *gateway) close() {
	g.srv.Close()
	g.m.Close()
}

// deploy deploys a testdata project as service name.
func (g *gateway) deploy(t *testing.T, name, project string) DeployResult {
	t.Helper()
	res, err := Deploy(context.Background(), DeployOptions{BaseURL: g.srv.URL, AccountSID: testAccount, AuthToken: testToken,
		Service: name, Dir: filepath.Join("testdata", project)})
	if err != nil {
		t.Fatalf("deploy %s: %v\n%s", project, err, g.logs)
	}
	return res
}

// response is what a request got.
type response struct {
	status int
	header http.Header
	body   string
}

// post sends a form POST, signed when sign is true.
func (g *gateway) post(t *testing.T, path string, form url.Values, sign bool) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign {
		req.Header.Set("X-Twilio-Signature", webhook.Signature(testToken, g.srv.URL+path, form))
	}
	return do(t, req)
}

func (g *gateway) get(t *testing.T, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}
