package web

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/media/mediatest"
	"github.com/voxgate/voxgate/queue"
)

// TestAgentTakesQueuedCaller runs the whole agent path: sign in, become
// available, get the offer for an enqueued caller, accept it with WebRTC,
// and check the caller's Outcome carries a leg with audio both ways,
// DTMF from the keypad, then hang up.
func TestAgentTakesQueuedCaller(t *testing.T) {
	checkNoLeaks(t)
	srv, mgr := newServer(t, queue.Config{WrapUp: -1})
	p := openPage(t, srv)

	ok := p.signIn("alice", "s3cret-alice")
	agent, _ := ok["agent"].(map[string]any)
	if agent["id"] != "alice" || agent["name"] != "Alice Martin" {
		t.Errorf("signed in as %s", jsonString(agent))
	}
	p.expect("queues", nil)
	p.send(map[string]any{"type": "available", "value": true})
	p.expect("ok", func(m message) bool { return m.str("for") == "available" && m["value"] == true })

	entry, err := mgr.Enqueue("support", queue.Caller{
		CallSID: "CA0123", From: "+15550001111", To: "+15550002222",
		Attributes: map[string]any{"language": "fr", "vip": true},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	offer, _ := p.expect("offer", nil)["offer"].(map[string]any)
	attrs, _ := offer["attributes"].(map[string]any)
	if offer["from"] != "+15550001111" || offer["queue"] != "support" || offer["callSid"] != "CA0123" ||
		attrs["language"] != "fr" || attrs["vip"] != true {
		t.Errorf("offer %s", jsonString(offer))
	}
	if exp, _ := offer["expiresIn"].(float64); exp <= 0 || exp > queue.DefaultOfferTimeout.Seconds() {
		t.Errorf("expiresIn %v", offer["expiresIn"])
	}
	p.expect("queues", func(m message) bool {
		for _, q := range m["queues"].([]any) {
			if q := q.(map[string]any); q["name"] == "support" && q["size"] == 1.0 {
				return true
			}
		}
		return false
	})

	offerID, _ := offer["id"].(string)
	if accepted := p.accept(offerID); accepted.str("callSid") != "CA0123" {
		t.Errorf("accepted %v", accepted)
	}
	var out queue.Outcome
	select {
	case out = <-entry.Outcome():
	case <-time.After(5 * time.Second):
		t.Fatal("no outcome for the caller")
	}
	if out.Kind != queue.Bridged || out.AgentID != "alice" || out.Leg == nil {
		t.Fatalf("outcome %+v", out)
	}
	leg := out.Leg
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Caller to agent: a 1 kHz tone played into the leg reaches the page
	// as PCMU.
	if err := leg.Play(ctx, audio.NewPCMSource(tone(1000, time.Second, 8000), 1)); err != nil {
		t.Fatalf("play: %v", err)
	}
	var heard []int16
	drain := time.After(200 * time.Millisecond)
collect:
	for {
		select {
		case pkt := <-p.rtp:
			if pkt.PayloadType != 0 {
				t.Fatalf("page received payload type %d, want PCMU", pkt.PayloadType)
			}
			heard = media.PCMU.Decode(heard, pkt.Payload)
		case <-drain:
			break collect
		}
	}
	if share := bestWindowShare(heard, 1000); share < 0.9 {
		t.Errorf("1 kHz share of what the page heard: %.2f (of %d samples)", share, len(heard))
	}

	// Agent to caller: a 600 Hz tone from the page is recorded on the leg.
	sink := &mediatest.CollectSink{}
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- leg.Record(recCtx, sink) }()
	p.speak(tone(600, time.Second, 8000))
	time.Sleep(100 * time.Millisecond)
	stopRec()
	if err := <-recDone; err != nil {
		t.Errorf("record: %v", err)
	}
	if share := bestWindowShare(sink.Samples(), 600); share < 0.9 {
		t.Errorf("600 Hz share of what the leg recorded: %.2f", share)
	}

	// Keypad.
	p.send(map[string]any{"type": "dtmf", "digit": "7"})
	select {
	case d := <-leg.DTMF():
		if d.Key != '7' {
			t.Errorf("digit %q", d.Key)
		}
	case <-time.After(2 * time.Second):
		t.Error("keypad digit not delivered")
	}

	// Hang up: the leg ends, the page is told once.
	p.send(map[string]any{"type": "hangup"})
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg still up after hangup")
	}
	if r := p.expect("ended", nil).str("reason"); r != "hangup" {
		t.Errorf("ended reason %q", r)
	}
	entry.Finished() // what the engine does when the bridge ends
	p.send(map[string]any{"type": "available", "value": false})
	p.expect("ok", func(m message) bool { return m.str("for") == "available" })
	for _, m := range p.stashed {
		if m.str("type") == "ended" {
			t.Errorf("second ended message: %v", m)
		}
	}
}

// bestWindowShare is the best toneShare of freq over 100 ms windows of
// pcm, so leading or trailing silence does not matter.
func bestWindowShare(pcm []int16, freq float64) float64 {
	const w = media.SampleRate / 10
	best := 0.0
	for i := 0; i+w <= len(pcm); i += w / 2 {
		best = max(best, toneShare(pcm[i:i+w], freq))
	}
	return best
}

// TestCallEndedByCaller checks that when the bridge ends on the caller's
// side the agent's leg is closed and the page told.
func TestCallEndedByCaller(t *testing.T) {
	checkNoLeaks(t)
	srv, mgr := newServer(t, queue.Config{WrapUp: -1})
	p := openPage(t, srv)
	p.signIn("alice", "s3cret-alice")
	p.send(map[string]any{"type": "available", "value": true})
	entry, err := mgr.Enqueue("sales", queue.Caller{CallSID: "CA1", From: "+1555"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	offer, _ := p.expect("offer", nil)["offer"].(map[string]any)
	p.accept(offer["id"].(string))
	out := <-entry.Outcome()
	entry.Finished() // the caller hung up
	select {
	case <-out.Leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("agent leg still up after the call ended")
	}
	if r := p.expect("ended", nil).str("reason"); r != "call ended" {
		t.Errorf("ended reason %q", r)
	}
}

// TestSocketCloseSignsOut checks that closing the page's socket signs the
// agent out (its ringing offer is withdrawn) and hangs up its call.
func TestSocketCloseSignsOut(t *testing.T) {
	t.Run("ringing", func(t *testing.T) {
		srv, mgr := newServer(t, queue.Config{})
		p := openPage(t, srv)
		p.signIn("alice", "s3cret-alice")
		p.send(map[string]any{"type": "available", "value": true})
		entry, err := mgr.Enqueue("support", queue.Caller{CallSID: "CA1"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		p.expect("offer", nil)
		if got := entry.Info().OfferedTo; got != "alice" {
			t.Fatalf("offered to %q", got)
		}
		p.ws.Close(websocket.StatusNormalClosure, "bye")
		waitFor(t, "offer withdrawn after the socket closed", func() bool { return entry.Info().OfferedTo == "" })
	})
	t.Run("in call", func(t *testing.T) {
		checkNoLeaks(t)
		srv, mgr := newServer(t, queue.Config{})
		p := openPage(t, srv)
		p.signIn("alice", "s3cret-alice")
		p.send(map[string]any{"type": "available", "value": true})
		entry, err := mgr.Enqueue("support", queue.Caller{CallSID: "CA1"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		offer, _ := p.expect("offer", nil)["offer"].(map[string]any)
		p.accept(offer["id"].(string))
		out := <-entry.Outcome()
		p.ws.Close(websocket.StatusNormalClosure, "bye")
		select {
		case <-out.Leg.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("agent leg still up after the socket closed")
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRejectAndStaleAccept checks reject (the caller is offered again)
// and accepting an offer that is gone (the page gets an error, the
// gateway closes its side of the audio).
func TestRejectAndStaleAccept(t *testing.T) {
	srv, mgr := newServer(t, queue.Config{})
	p := openPage(t, srv)
	p.signIn("alice", "s3cret-alice")
	p.send(map[string]any{"type": "available", "value": true})
	if _, err := mgr.Enqueue("support", queue.Caller{CallSID: "CA1"}, 0); err != nil {
		t.Fatal(err)
	}
	first, _ := p.expect("offer", nil)["offer"].(map[string]any)
	p.send(map[string]any{"type": "reject", "offerId": first["id"]})
	second, _ := p.expect("offer", nil)["offer"].(map[string]any) // nobody else: alice again
	if second["id"] == first["id"] || second["callSid"] != "CA1" {
		t.Errorf("after reject: %s then %s", jsonString(first), jsonString(second))
	}

	closed := make(chan struct{})
	p.send(map[string]any{"type": "accept", "offerId": first["id"], "sdp": p.newPeer()})
	p.pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		if s == pion.PeerConnectionStateClosed || s == pion.PeerConnectionStateFailed {
			select {
			case <-closed:
			default:
				close(closed)
			}
		}
	})
	answer := p.expect("answer", nil)
	if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer.str("sdp")}); err != nil {
		t.Fatal(err)
	}
	e := p.expect("error", func(m message) bool { return m.str("for") == "accept" })
	if !strings.Contains(e.str("message"), "no longer waiting") {
		t.Errorf("error %v", e)
	}
	p.pc.Close() // what the page does on that error
	<-closed
	// The real offer is still open to accept afterwards.
	p.pc = nil
	if acc := p.accept(second["id"].(string)); acc.str("callSid") != "CA1" {
		t.Errorf("accepted %v", acc)
	}
}

// TestProtocolErrors covers sign-in failures, requests before sign-in,
// malformed messages and the failure limit.
func TestProtocolErrors(t *testing.T) {
	srv, _ := newServer(t, queue.Config{})
	p := openPage(t, srv)
	expectError := func(forType, want string) {
		t.Helper()
		m := p.expect("error", nil)
		if m.str("for") != forType || !strings.Contains(m.str("message"), want) {
			t.Errorf("error %v, want for=%q message containing %q", m, forType, want)
		}
	}
	p.send(map[string]any{"type": "available", "value": true})
	expectError("available", "sign in first")
	p.ws.Write(context.Background(), websocket.MessageText, []byte("{not json"))
	expectError("", "JSON")
	p.send(map[string]any{"type": "signin", "id": "alice", "secret": "wrong"})
	expectError("signin", "unknown agent or wrong secret")
	p.send(map[string]any{"type": "signin", "id": "mallory", "secret": "s3cret-alice"})
	expectError("signin", "unknown agent or wrong secret")

	p.signIn("alice", "s3cret-alice")
	p.send(map[string]any{"type": "signin", "id": "alice", "secret": "s3cret-alice"})
	expectError("signin", "already signed in")
	p.send(map[string]any{"type": "dtmf", "digit": "5"})
	expectError("dtmf", "no call in progress")
	p.send(map[string]any{"type": "dance"})
	expectError("dance", "unknown message type")
	p.send(map[string]any{"type": "accept", "offerId": "WR1"})
	expectError("accept", "SDP")

	q := openPage(t, srv)
	for range maxSignInFailures {
		q.send(map[string]any{"type": "signin", "id": "bob", "secret": "guess"})
	}
	for range maxSignInFailures - 1 {
		q.expect("error", nil)
	}
	if m := q.expect("error", nil); !strings.Contains(m.str("message"), "too many") {
		t.Errorf("last error %v", m)
	}
	select {
	case _, open := <-q.msgs:
		if open {
			t.Error("socket still open after too many failures")
		}
	case <-time.After(5 * time.Second):
		t.Error("socket still open after too many failures")
	}
}

// TestSignedInElsewhere checks that signing in on a second page ends the
// first page's session.
func TestSignedInElsewhere(t *testing.T) {
	srv, _ := newServer(t, queue.Config{})
	first := openPage(t, srv)
	first.signIn("alice", "s3cret-alice")
	second := openPage(t, srv)
	second.signIn("alice", "s3cret-alice")
	if m := first.expect("signedout", nil); !strings.Contains(m.str("reason"), "another page") {
		t.Errorf("signedout %v", m)
	}
}

// TestPageAndAssets checks the page, its assets and the WebSocket's
// refusals over plain HTTP.
func TestPageAndAssets(t *testing.T) {
	srv, _ := newServer(t, queue.Config{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, origin string
		status       int
		contentType  string
		body         string
	}{
		{path: "/agent", status: 200, contentType: "text/html", body: `src="agent/agent.js"`},
		{path: "/agent/agent.js", status: 200, contentType: "javascript", body: "voxgateAgent"},
		{path: "/agent/agent.css", status: 200, contentType: "text/css", body: ".keypad"},
		{path: "/agent/", status: 301},
		{path: "/agent/missing.js", status: 404},
		{path: "/agent/ws", status: 426}, // not an upgrade
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tc.contentType) {
				t.Errorf("content type %q, want %q", ct, tc.contentType)
			}
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body lacks %q", tc.body)
			}
		})
	}
	t.Run("cross-origin websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/agent/ws",
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": []string{"https://evil.example"}}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin dial: err %v, resp %v", err, resp)
		}
	})
}

// TestAuthenticate checks the account lookup.
func TestAuthenticate(t *testing.T) {
	h := NewHandler(Options{Manager: queue.NewManager(queue.Config{}), Agents: testAgents}).(*handler)
	tests := []struct {
		id, secret string
		ok         bool
	}{
		{"alice", "s3cret-alice", true},
		{"alice", "s3cret-alic", false},
		{"alice", "s3cret-alice ", false},
		{"alice", "", false},
		{"bob", "s3cret-alice", false},
		{"nobody", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if a, ok := h.authenticate(tc.id, tc.secret); ok != tc.ok || (ok && a.ID != tc.id) {
			t.Errorf("authenticate(%q, %q) = %q, %v; want ok %v", tc.id, tc.secret, a.ID, ok, tc.ok)
		}
	}
}
