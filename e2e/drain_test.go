package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrainOnSIGTERM: with cluster.drain_timeout set, SIGTERM drains the
// node. /healthz turns 503 "draining", OPTIONS probes and a new INVITE get
// 503, the call in
// progress runs to its own end (its <Pause> is not cut short), and then
// the process exits cleanly.
func TestDrainOnSIGTERM(t *testing.T) {
	const pause = 5 * time.Second
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Pause length="%d"/><Hangup/></Response>`, int(pause.Seconds())))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST",
		extraYAML: "cluster:\n  drain_timeout: 30s\n"})

	peer := newRTPPeer(t)
	live := g.waitingCaller(t, peer, "the live call: ", 30*time.Second)
	a.waitRequests(t, "/voice", 1, 10*time.Second) // answered and paused
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()

	// Draining: the health check fails, new calls are refused.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(g.httpURL + "/healthz")
		if err != nil {
			t.Fatalf("healthz while draining: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz still %s after SIGTERM, want 503", resp.Status)
		}
	}
	if code, out := g.sipp(t, "udp", "uac_options_code.xml", map[string]string{"service": "1000", "code": "503"}, 10*time.Second); code != 0 {
		t.Errorf("OPTIONS while draining: sipp exit %d, want a 503\n%s", code, out)
	}
	code, out := g.sipp(t, "udp", "uac_expect_error.xml", map[string]string{
		"service": "+15550001000", "mport": fmt.Sprint(newRTPPeer(t).port()), "pts": "0", "code": "503"}, 10*time.Second)
	if code != 0 {
		t.Errorf("a new call while draining: sipp exit %d, want a 503\n%s", code, out)
	}

	// The live call ends when its application does, not at the signal.
	select {
	case msg := <-live:
		if msg != "" {
			t.Fatal(msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the live call did not end")
	}
	if ended := time.Since(signalled); ended < pause/2 {
		t.Errorf("the live call ended %v after SIGTERM: it was hung up, not drained", ended)
	}
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("voxgate did not exit once drained")
	}
	if g.exitErr != nil {
		t.Errorf("voxgate exit: %v", g.exitErr)
	}
	if logs := g.Logs(); !strings.Contains(logs, "voxgate drained") {
		t.Errorf("no drain in the log:\n%s", logs)
	}
	if n := len(a.requests("/voice")); n != 1 {
		t.Errorf("the application was asked for %d calls, want 1 (the refused call must not reach it)", n)
	}
}
