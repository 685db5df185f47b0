package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// engineCall is the call engine's Call interface (ivr.Call), restated
// here so the sip tests do not depend on the engine.
type engineCall interface {
	Leg() media.Leg
	Ringing() error
	Answer(ctx context.Context) error
	Reject(ctx context.Context, busy bool) error
	Hangup(ctx context.Context) error
	Done() <-chan struct{}
}

var (
	_ engineCall = (*OutboundCall)(nil)
	_ engineCall = (*InboundCall)(nil)
)

func dialErr(t *testing.T, err error) *DialError {
	t.Helper()
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DialError", err, err)
	}
	return de
}

func TestDialAnswered(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	var ringMu sync.Mutex
	var rings []bool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{
		CallSID:   "CA00000000000000000000000000000001",
		To:        uas.uri("bob") + "?X-From-Uri=yes%20indeed",
		From:      "+15550001111",
		Headers:   map[string]string{"X-Custom": "42", "Via": "SIP/2.0/UDP evil", "X-Bad": "a\r\nInjected: 1"},
		Timeout:   5 * time.Second,
		OnRinging: func(early bool) { ringMu.Lock(); rings = append(rings, early); ringMu.Unlock() },
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if got := call.ResponseCode(); got != 200 {
		t.Errorf("ResponseCode = %d, want 200", got)
	}
	if got := call.XHeaders()["x-uas-answer"]; got != "bob" {
		t.Errorf("X-Uas-Answer of the 200 = %q, want bob", got)
	}
	if call.From() != "+15550001111" || call.To() != uas.uri("bob") || call.SID() != "CA00000000000000000000000000000001" {
		t.Errorf("From/To/SID = %q %q %q", call.From(), call.To(), call.SID())
	}
	ringMu.Lock()
	if len(rings) == 0 || rings[0] {
		t.Errorf("OnRinging calls = %v, want a 180 (early=false)", rings)
	}
	ringMu.Unlock()

	inv := uas.lastInvite()
	offer, err := ParseOffer(inv.Body())
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if offer.Codec.Name != "PCMU" || offer.EventPayloadType != 101 || !strings.Contains(string(inv.Body()), "a=rtpmap:8 PCMA/8000") {
		t.Errorf("offer = %+v\n%s", offer, inv.Body())
	}
	if offer.Remote != call.RTPLeg().LocalAddr() {
		t.Errorf("offer address %v, leg listens on %v", offer.Remote, call.RTPLeg().LocalAddr())
	}
	for name, want := range map[string]string{"X-Custom": "42", "X-From-Uri": "yes indeed", "X-Voxgate-Call-Sid": call.SID(), "Content-Type": "application/sdp"} {
		if h := inv.GetHeader(name); h == nil || h.Value() != want {
			t.Errorf("INVITE header %s = %v, want %q", name, h, want)
		}
	}
	if n := len(inv.GetHeaders("Via")); n != 1 {
		t.Errorf("INVITE has %d Via headers, want 1 (extra Via must be dropped)", n)
	}
	if inv.GetHeader("X-Bad") != nil || inv.GetHeader("Injected") != nil {
		t.Errorf("header with CR/LF was not dropped")
	}
	if inv.From().Address.User != "+15550001111" || inv.Recipient.User != "bob" || inv.Recipient.Headers != nil {
		t.Errorf("From %v, Request-URI %v", inv.From(), inv.Recipient.String())
	}
	if src, _ := netip.ParseAddrPort(inv.Source()); src != udpListener(t, srv) {
		t.Errorf("INVITE came from %v, want the listener %v", src, udpListener(t, srv))
	}

	// Media: we send PCMA (what the far end answered) from the offered port...
	p, from := readRTP(t, uas.rtp, 2*time.Second)
	if p.PayloadType != 8 || from != call.RTPLeg().LocalAddr() {
		t.Errorf("far end got PT %d from %v; want PT 8 from %v", p.PayloadType, from, call.RTPLeg().LocalAddr())
	}
	// ...and receive what it sends.
	var rec frameCounter
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- call.Leg().Record(recCtx, &rec) }()
	sendRTP(uas.rtp, offer.Remote, 8, 10)
	waitFor(t, 2*time.Second, "received frames", func() bool { n, loud := rec.counts(); return n >= 8 && loud >= 8 })
	stopRec()
	if err := <-recDone; err != nil {
		t.Errorf("Record: %v", err)
	}

	if n := srv.ActiveCalls(); n != 1 {
		t.Errorf("ActiveCalls = %d, want 1", n)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	uas.expect("bye:bob", 3*time.Second)
	select {
	case <-call.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("Done not closed after Hangup")
	}
	if r := call.EndReason(); r != "local-bye" {
		t.Errorf("EndReason = %q, want local-bye", r)
	}
	waitFor(t, 2*time.Second, "no active calls", func() bool { return srv.ActiveCalls() == 0 })
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("second Hangup: %v", err)
	}
	// The engine's Call interface: these are no-ops on an answered call.
	if call.Ringing() != nil || call.Answer(ctx) != nil || call.Reject(ctx, true) != nil {
		t.Error("Ringing/Answer/Reject should return nil")
	}
}

func TestDialFinalErrors(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	cases := []struct {
		user, behaviour    string
		username, password string
		status             string
		code               int
		invites            int // INVITEs the far end should see
	}{
		{"u486", "busy", "", "", DialBusy, 486, 1},
		{"u603", "decline", "", "", DialBusy, 603, 1},
		{"u404", "notfound", "", "", DialFailed, 404, 1},
		{"u503", "unavailable", "", "", DialFailed, 503, 1},
		{"u302", "redirect", "", "", DialFailed, 302, 1},
		{"u401nocreds", "auth", "", "", DialFailed, 401, 1},
		{"u401twice", "authfail", "alice", "s3cret", DialFailed, 401, 2},
		{"u403badpw", "auth", "alice", "wrong", DialFailed, 403, 2},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			uas.set(c.user, c.behaviour)
			before := uas.inviteCount()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			call, err := srv.Dial(ctx, DialRequest{To: uas.uri(c.user), Username: c.username, Password: c.password, Timeout: 5 * time.Second})
			if err == nil {
				call.Hangup(ctx)
				t.Fatalf("Dial answered; want %s %d", c.status, c.code)
			}
			de := dialErr(t, err)
			if de.Status != c.status || de.Code != c.code {
				t.Errorf("DialError = %+v; want status %s code %d", de, c.status, c.code)
			}
			if de.SIPCallID == "" {
				t.Error("DialError has no SIPCallID")
			}
			if c.behaviour == "notfound" && de.Headers["x-reason"] != "nobody" {
				t.Errorf("final response X- headers = %v", de.Headers)
			}
			if got := uas.inviteCount() - before; got != c.invites {
				t.Errorf("far end saw %d INVITEs, want %d", got, c.invites)
			}
		})
	}
	if n := srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after failed dials", n)
	}
}

func TestDialNoAnswerAndCancel(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	uas.set("slow", "noanswer")
	uas.set("slow2", "noanswer")

	start := time.Now()
	_, err := srv.Dial(context.Background(), DialRequest{To: uas.uri("slow"), Timeout: 700 * time.Millisecond})
	de := dialErr(t, err)
	if de.Status != DialNoAnswer {
		t.Errorf("status %q (%v), want no-answer", de.Status, de)
	}
	if de.Code != 487 {
		t.Errorf("code %d, want 487 (the INVITE's answer to our CANCEL)", de.Code)
	}
	if d := time.Since(start); d < 700*time.Millisecond || d > 3*time.Second {
		t.Errorf("no-answer after %v, want about 0.7 s", d)
	}
	uas.expect("canceled:slow", 3*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(400*time.Millisecond, cancel)
	_, err = srv.Dial(ctx, DialRequest{To: uas.uri("slow2"), Timeout: 10 * time.Second})
	if de := dialErr(t, err); de.Status != DialCanceled {
		t.Errorf("status %q (%v), want canceled", de.Status, de)
	}
	uas.expect("canceled:slow2", 3*time.Second)
}

func TestDialSilentPeer(t *testing.T) {
	t.Parallel()
	// A peer that never answers at all: no CANCEL can be sent (no
	// provisional response), and Dial must not wait for the 32 s
	// transaction timeout.
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	got := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := peer.ReadFromUDP(buf)
			if err != nil {
				return
			}
			got <- strings.SplitN(string(buf[:n]), " ", 2)[0]
		}
	}()
	srv, _ := startServer(t, Config{}, nil)
	start := time.Now()
	_, err = srv.Dial(context.Background(), DialRequest{To: "sip:void@" + peer.LocalAddr().String(), Timeout: 500 * time.Millisecond})
	if de := dialErr(t, err); de.Status != DialNoAnswer {
		t.Errorf("status %q (%v), want no-answer", de.Status, de)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %v against a silent peer with a 0.5 s timeout", d)
	}
	if m := <-got; m != "INVITE" {
		t.Errorf("peer got %q, want INVITE", m)
	}
}

func TestDialDigestAndTrunk(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{Trunks: []Trunk{
		{Name: "other", Host: "127.0.0.1:9"},
		{Name: "main", Host: uas.addr.String(), NumberPrefix: "9", CallerID: "+15550009999", Username: "alice", Password: "s3cret"},
	}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// <Sip username password>: credentials given with the call.
	uas.set("sipauth", "auth")
	call, err := srv.Dial(ctx, DialRequest{To: uas.uri("sipauth"), Username: "alice", Password: "s3cret"})
	if err != nil {
		t.Fatalf("Dial with digest: %v", err)
	}
	uas.expect("auth-ok:sipauth", time.Second)
	if inv := uas.lastInvite(); inv.GetHeader("Authorization") == nil || inv.From().Address.User != "voxgate" {
		t.Errorf("retried INVITE: Authorization %v, From %v", inv.GetHeader("Authorization"), inv.From())
	}
	call.Hangup(ctx)

	// A number through the named trunk: prefix, caller ID and the trunk's
	// credentials.
	uas.set("9+15551234567", "auth")
	call, err = srv.Dial(ctx, DialRequest{To: "+1 (555) 123-4567", Trunk: "main"})
	if err != nil {
		t.Fatalf("Dial number via trunk: %v", err)
	}
	uas.expect("auth-ok:9+15551234567", time.Second)
	inv := uas.lastInvite()
	if inv.Recipient.User != "9+15551234567" || inv.From().Address.User != "+15550009999" || call.Trunk() != "main" || call.To() != "+1 (555) 123-4567" {
		t.Errorf("Request-URI %s, From %v, trunk %q, To %q", inv.Recipient.String(), inv.From(), call.Trunk(), call.To())
	}
	call.Hangup(ctx)
	uas.expect("bye:9+15551234567", 3*time.Second)
}

func TestDialUnroutable(t *testing.T) {
	t.Parallel()
	noTrunks, _ := startServer(t, Config{}, nil)
	withTrunk, _ := startServer(t, Config{Trunks: []Trunk{{Name: "t", Host: "127.0.0.1:9"}}}, nil)
	cases := []struct {
		name string
		srv  *Server
		req  DialRequest
		want string // in the reason
	}{
		{"number without trunks", noTrunks, DialRequest{To: "+15551234567"}, "no SIP trunk"},
		{"unknown trunk", withTrunk, DialRequest{To: "1000", Trunk: "nope"}, `no SIP trunk named "nope"`},
		{"sips over UDP", noTrunks, DialRequest{To: "sips:bob@127.0.0.1;transport=udp"}, "over TLS only"},
		{"garbage", withTrunk, DialRequest{To: "call me maybe"}, "neither a SIP URI nor a phone number"},
		{"bad transport", noTrunks, DialRequest{To: "sip:bob@127.0.0.1;transport=sctp"}, "unsupported transport"},
		{"bad caller ID", withTrunk, DialRequest{To: "1000", From: "me@there"}, "caller ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.srv.Dial(context.Background(), c.req)
			de := dialErr(t, err)
			if de.Status != DialFailed || !strings.Contains(de.Reason, c.want) || de.SIPCallID != "" {
				t.Errorf("DialError = %+v; want failed with %q and no INVITE sent", de, c.want)
			}
		})
	}
}

func TestDialEarlyMedia(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	uas.set("early", "early")
	var ringMu sync.Mutex
	var rings []bool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var early frameCounter
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	call, err := srv.Dial(ctx, DialRequest{
		To: uas.uri("early"),
		OnEarlyMedia: func(leg media.Leg) {
			ringMu.Lock()
			rings = append(rings, false) // must come before OnRinging(true)
			ringMu.Unlock()
			go func() { recDone <- leg.Record(recCtx, &early) }()
		},
		OnRinging: func(early bool) { ringMu.Lock(); rings = append(rings, early); ringMu.Unlock() },
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer call.Hangup(ctx)
	frames, loud := early.counts() // what arrived before the answer
	stopRec()
	if err := <-recDone; err != nil {
		t.Errorf("early-media Record: %v", err)
	}
	if frames < 20 || loud < 20 {
		t.Errorf("recorded %d frames (%d loud) of early media, want about 25", frames, loud)
	}
	ringMu.Lock()
	if len(rings) != 2 || rings[0] || !rings[1] {
		t.Errorf("callbacks = %v, want OnEarlyMedia then OnRinging(true)", rings)
	}
	ringMu.Unlock()
	st := call.RTPLeg().Stats()
	if st.PacketsReceived < 20 {
		t.Errorf("leg received %d early-media packets, want about 25", st.PacketsReceived)
	}
	rtp2 := uas.rtp2.LocalAddr().(*net.UDPAddr).AddrPort()
	if st.Remote != rtp2 {
		t.Errorf("leg sends to %v after the 200, want its SDP address %v", st.Remote, rtp2)
	}
	if _, from := readRTP(t, uas.rtp2, 2*time.Second); from != call.RTPLeg().LocalAddr() {
		t.Errorf("answer address got RTP from %v", from)
	}
	// Nothing was sent to the early-media address: the leg listens only
	// until the answer.
	buf := make([]byte, 1500)
	_ = uas.rtp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, from, err := uas.rtp.ReadFromUDP(buf); err == nil {
		t.Errorf("early-media address got %d bytes from %v", n, from)
	}
}

func TestDialRemoteByeAndReInvite(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	uas.set("byer", "byeafter")
	call, err := srv.Dial(ctx, DialRequest{To: uas.uri("byer")})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case <-call.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("call not ended by the far end's BYE")
	}
	uas.expect("sent-bye:byer", time.Second)
	if r := call.EndReason(); r != "remote-bye" {
		t.Errorf("EndReason = %q, want remote-bye", r)
	}
	select {
	case <-call.Leg().Done():
	case <-time.After(time.Second):
		t.Error("leg not closed after remote BYE")
	}

	uas.set("holder", "reinvite")
	call, err = srv.Dial(ctx, DialRequest{To: uas.uri("holder")})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	ev := uas.expect("reinvite:", 3*time.Second)
	if !strings.HasPrefix(ev, "reinvite:200:") || !strings.Contains(ev, "a=recvonly") {
		t.Errorf("re-INVITE answer: %q; want 200 with a=recvonly", ev)
	}
	m := regexp.MustCompile(`o=voxgate (\d+) 1 `).FindStringSubmatch(string(uas.lastInvite().Body()))
	if m == nil || !strings.Contains(ev, fmt.Sprintf("o=voxgate %s 2 ", m[1])) {
		t.Errorf("re-INVITE answer should keep the session id and bump the version; offer %q, answer %q", m, ev)
	}
	rtp2 := uas.rtp2.LocalAddr().(*net.UDPAddr).AddrPort()
	if st := call.RTPLeg().Stats(); st.Remote != rtp2 {
		t.Errorf("leg remote %v after re-INVITE, want %v", st.Remote, rtp2)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("Hangup: %v", err)
	}
	uas.expect("bye:holder", 3*time.Second)
}

func TestDialTCP(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:tcpbob@%s;transport=tcp", uas.tcpAddr)})
	if err != nil {
		t.Fatalf("Dial over TCP: %v", err)
	}
	if tp := uas.lastInvite().Transport(); !strings.EqualFold(tp, "tcp") {
		t.Errorf("INVITE arrived over %s", tp)
	}
	if c := uas.lastInvite().Contact(); c == nil || !strings.Contains(c.Address.String(), "transport=tcp") {
		t.Errorf("Contact %v should name our TCP listener", c)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Errorf("Hangup: %v", err)
	}
	uas.expect("bye:tcpbob", 3*time.Second)
}

func TestShutdownEndsOutboundCalls(t *testing.T) {
	t.Parallel()
	uas := newTestUAS(t)
	srv, stop := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{To: uas.uri("up")})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	uas.set("ringing", "noanswer")
	ringErr := make(chan error, 1)
	go func() {
		_, err := srv.Dial(ctx, DialRequest{To: uas.uri("ringing"), Timeout: 20 * time.Second})
		ringErr <- err
	}()
	waitFor(t, 3*time.Second, "second INVITE", func() bool { return uas.inviteCount() == 2 })
	time.Sleep(100 * time.Millisecond) // let the 180 arrive
	stop()
	uas.expect("bye:up", time.Second) // Serve has returned: the BYE went out before
	select {
	case <-call.Done():
	default:
		t.Error("answered call not done after Serve returned")
	}
	if r := call.EndReason(); r != "shutdown" {
		t.Errorf("EndReason = %q, want shutdown", r)
	}
	if de := dialErr(t, <-ringErr); de.Status != DialCanceled {
		t.Errorf("ringing Dial: %+v, want canceled", de)
	}
	uas.expect("canceled:ringing", time.Second)
	_, err = srv.Dial(ctx, DialRequest{To: uas.uri("late")})
	if de := dialErr(t, err); de.Status != DialCanceled {
		t.Errorf("Dial after shutdown: %+v", de)
	}
}
