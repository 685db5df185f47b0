// Package e2e drives the real voxgate binary with real SIP peers (SIPp,
// baresip) over loopback. The tools are required: a missing one fails the
// test run, it is never skipped.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testAccountSID = "AC11111111111111111111111111111111"
	testAuthToken  = "22222222222222222222222222222222"
)

var voxgateBin string

func TestMain(m *testing.M) {
	for _, tool := range []string{"sipp", "espeak-ng", "sox", "baresip", "linphonec", "editcap", "ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: required tool %q not found: run .ci/run or `make deps` to install it\n", tool)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "voxgate-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	voxgateBin = filepath.Join(dir, "voxgate")
	build := exec.Command("go", "build", "-race", "-o", voxgateBin, "../cmd/voxgate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building voxgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort finds a port that is free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// gateway is a running voxgate process.
type gateway struct {
	sipPort  int
	httpURL  string
	dir      string
	cmd      *exec.Cmd
	mu       sync.Mutex
	logs     bytes.Buffer
	exited   chan struct{}
	exitErr  error
	rtpRange string
	stopOnce sync.Once
}

// gatewayOpts is what a test changes in the config.
type gatewayOpts struct {
	voiceURL, voiceMethod, fallbackURL, statusCallback string
	statusEvents                                       []string
	extraYAML                                          string
	storageDir                                         string // "" = a new temporary directory
	flow                                               string // a Studio flow file instead of voice_url
	// netns runs the gateway inside that network namespace, listening for
	// SIP on sipIP (instead of 127.0.0.1); sipExtra is added to its sip:
	// section (indented lines).
	netns, sipIP, sipExtra string
	env                    []string // extra VOXGATE_… overrides (keys under sip: cannot go in extraYAML)
	tlsPort                int      // when not 0, SIP over TLS too on that port (put tls_cert/tls_key in sipExtra)
}

var rtpBase = struct {
	sync.Mutex
	next int
}{next: 31000}

func startGateway(t *testing.T, o gatewayOpts) *gateway {
	t.Helper()
	g := &gateway{sipPort: freePort(t), dir: t.TempDir(), exited: make(chan struct{})}
	httpPort := freePort(t)
	g.httpURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	rtpBase.Lock()
	lo := rtpBase.next
	rtpBase.next += 200
	rtpBase.Unlock()
	g.rtpRange = fmt.Sprintf("%d-%d", lo, lo+199)
	storage := o.storageDir
	if storage == "" {
		storage = filepath.Join(g.dir, "var")
	}
	events := ""
	if len(o.statusEvents) > 0 {
		events = "    status_callback_events: [" + strings.Join(o.statusEvents, ", ") + "]\n"
	}
	sipIP := "127.0.0.1"
	if o.sipIP != "" {
		sipIP = o.sipIP
	}
	tlsListen := ""
	if o.tlsPort != 0 {
		tlsListen = fmt.Sprintf(", tls:%s:%d", sipIP, o.tlsPort)
	}
	cfg := fmt.Sprintf(`sip:
  listen: [udp:%[13]s:%[1]d, tcp:%[13]s:%[1]d%[15]s]
  public_ip: %[13]s
%[14]smedia:
  rtp_ports: %[2]s
  rtp_timeout: 20s
http:
  listen: 127.0.0.1:%[3]d
account:
  sid: %[4]s
  auth_token: %[5]s
storage:
  dir: %[6]s
log:
  level: debug
webhook_timeout: 3s
outbound_http:
  allow: [127.0.0.1/32] # the test apps; 127.0.0.2 stands for a private address the gateway must not reach
numbers:
  - number: "+15550001000"
    voice_url: %[7]q
    voice_method: %[8]q
    voice_fallback_url: %[9]q
    status_callback: %[10]q
%[11]s%[12]s`, g.sipPort, g.rtpRange, httpPort, testAccountSID, testAuthToken, storage,
		o.voiceURL, o.voiceMethod, o.fallbackURL, o.statusCallback, events, o.extraYAML, sipIP, o.sipExtra, tlsListen)
	if o.flow != "" {
		cfg = strings.Replace(cfg, fmt.Sprintf("    voice_url: %q\n", o.voiceURL), fmt.Sprintf("    flow: %q\n", o.flow), 1)
	}
	cfgPath := filepath.Join(g.dir, "voxgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(voxgateBin, "serve", "--config", cfgPath)
	if o.netns != "" {
		g.cmd = exec.Command("ip", "netns", "exec", o.netns, voxgateBin, "serve", "--config", cfgPath)
	}
	g.cmd.Dir = g.dir
	if len(o.env) > 0 {
		g.cmd.Env = append(os.Environ(), o.env...)
	}
	g.run(t, "start")
	return g
}

// run starts g.cmd, keeps its output in g's logs and waits until it
// serves HTTP; what names the step in failures ("start", "restart").
// The gateway is stopped when the test ends.
func (g *gateway) run(t *testing.T, what string) {
	t.Helper()
	out, _ := g.cmd.StdoutPipe()
	g.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.logs.Write(p)
	})
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			g.mu.Lock()
			g.logs.WriteString(sc.Text() + "\n")
			g.mu.Unlock()
			if strings.Contains(sc.Text(), "HTTP on") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		g.exitErr = g.cmd.Wait()
		close(g.exited)
	}()
	select {
	case <-ready:
	case <-g.exited:
		t.Fatalf("voxgate exited at %s: %v\n%s", what, g.exitErr, g.Logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("voxgate did not %s\n%s", what, g.Logs())
	}
	t.Cleanup(func() { g.stop(t) })
}

// stop ends the gateway with SIGTERM (once) and checks it stops cleanly.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	g.stopOnce.Do(func() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(40 * time.Second):
			// At SIGTERM the gateway hangs up and lets each BYE run its
			// transaction to the end (64·T1 = 32 s when the peer does not
			// answer: a peer stopped or starved at the same moment), as
			// README "SIP timers" documents.
			_ = g.cmd.Process.Kill()
			<-g.exited
			t.Errorf("voxgate did not stop within 40 s of SIGTERM")
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("voxgate log:\n%s", g.Logs())
		}
		if strings.Contains(g.Logs(), "DATA RACE") {
			t.Errorf("the race detector found a data race in voxgate")
		}
	})
}

// Logs returns everything the gateway printed so far.
func (g *gateway) Logs() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logs.String()
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// waitingCaller runs, in the background, a SIPp caller to +15550001000
// (uac_wait_bye.xml: PCMU, media to peer) that stays on until the gateway
// hangs up. The channel gets "" when it ended well, else what went wrong,
// after label.
func (g *gateway) waitingCaller(t *testing.T, peer *rtpPeer, label string, timeout time.Duration) <-chan string {
	done := make(chan string, 1)
	go func() {
		code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, timeout)
		if code != 0 {
			done <- fmt.Sprintf("%ssipp exit %d\n%s", label, code, out)
			return
		}
		done <- ""
	}()
	return done
}

// sipp runs one SIPp scenario against the gateway and returns its exit code
// and output.
func (g *gateway) sipp(t *testing.T, transport, scenario string, keys map[string]string, timeout time.Duration) (int, string) {
	t.Helper()
	dir := t.TempDir()
	// Keys are filled in here (SIPp's own -key does not reach attributes).
	tmpl, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	text := string(tmpl)
	for k, v := range keys {
		if k != "service" {
			text = strings.ReplaceAll(text, "["+k+"]", v)
		}
	}
	scenarioPath := filepath.Join(dir, scenario)
	if err := os.WriteFile(scenarioPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{fmt.Sprintf("127.0.0.1:%d", g.sipPort), "-sf", scenarioPath,
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-m", "1", "-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-trace_err", "-trace_msg", "-cp", fmt.Sprint(freePort(t))}
	if transport == "tcp" {
		args = append(args, "-t", "t1")
	}
	if svc, ok := keys["service"]; ok {
		args = append(args, "-s", svc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("sipp: %v", err)
		}
	}
	// Attach SIPp's message trace and errors to the output.
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var b strings.Builder
	b.Write(out)
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		fmt.Fprintf(&b, "\n==== %s ====\n%s", filepath.Base(l), data)
	}
	return code, b.String()
}

// webhookRequest is one request the test application received.
type webhookRequest struct {
	Path      string
	Method    string
	URL       string // full URL as the gateway requested it
	Form      url.Values
	Signature string
	At        time.Time
}

// app is a test TwiML application: it answers paths with documents and
// records every request.
type app struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []webhookRequest
	// routes maps a path to a handler returning (status, content type, body).
	routes map[string]func(r webhookRequest) (int, string, string)
}

func newApp(t *testing.T) *app { return newAppOn(t, nil) }

// newAppOn is newApp serving on ln (nil: a new loopback listener).
func newAppOn(t *testing.T, ln net.Listener) *app {
	a := &app{routes: map[string]func(webhookRequest) (int, string, string){}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		req := webhookRequest{Path: r.URL.Path, Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(), Form: form, Signature: r.Header.Get("X-Twilio-Signature"), At: time.Now()}
		a.mu.Lock()
		a.reqs = append(a.reqs, req)
		h := a.routes[r.URL.Path]
		a.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		status, ct, out := h(req)
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	if ln != nil {
		a.srv.Listener.Close()
		a.srv.Listener = ln
	}
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) url(path string) string { return a.srv.URL + path }

func (a *app) handle(path string, h func(r webhookRequest) (int, string, string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes[path] = h
}

func (a *app) twiml(path, doc string) {
	a.handle(path, func(webhookRequest) (int, string, string) { return 200, "text/xml", doc })
}

func (a *app) requests(path string) []webhookRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []webhookRequest
	for _, r := range a.reqs {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitRequests waits until path has been requested n times.
func (a *app) waitRequests(t *testing.T, path string, n int, timeout time.Duration) []webhookRequest {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if r := a.requests(path); len(r) >= n {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s requested %d times, want %d", path, len(a.requests(path)), n)
	return nil
}

// expectedSignature computes X-Twilio-Signature independently of the
// gateway's code (twiml-voice.md §3.8).
func expectedSignature(token, fullURL string, form url.Values, post bool) string {
	var b strings.Builder
	b.WriteString(fullURL)
	if post {
		keys := make([]string, 0, len(form))
		for k := range form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals := append([]string(nil), form[k]...)
			sort.Strings(vals)
			for _, v := range vals {
				b.WriteString(k + v)
			}
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// syncBuilder is a strings.Builder safe to read while a child process
// still writes to it (a test failing early prints what it has so far).
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
