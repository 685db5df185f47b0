package sip

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSessionTimersSIPp: RFC 4028 with SIPp as the caller, Min-SE lowered
// to 1 s so that a session interval of 2 s can be used. refresh and
// reinvite: SIPp refreshes with UPDATE or re-INVITE (every 0.8 s, past the
// 1.33 s at which an unrefreshed session ends) and hangs up itself; its
// second UPDATE carries SDP moving its media (answered with ours, and the
// call's RTP follows);
// expire: SIPp never refreshes and the gateway ends the call with a BYE
// carrying Reason; fail and failinvite: the gateway is the refresher (with
// UPDATE when SIPp's Allow lists it, else re-INVITE, which SIPp checks),
// its second refresh gets 481 or 408 and it ends the call with BYE +
// Reason (SIPp checks the header).
func TestSessionTimersSIPp(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uac_session_timer.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, refresher, allow, reason string }{
		{"refresh", "uac", "INVITE, ACK, BYE, UPDATE", "remote-bye"},
		{"reinvite", "uac", "INVITE, ACK, BYE", "remote-bye"},
		{"expire", "uac", "INVITE, ACK, BYE, UPDATE", "session-expired"},
		{"fail", "uas", "INVITE, ACK, BYE, UPDATE", "session-refresh-failed"},
		{"failinvite", "uas", "INVITE, ACK, BYE", "session-refresh-failed"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			reasons := make(chan string, 1)
			remotePort := make(chan uint16, 1)
			srv, _ := startServer(t, Config{MinSE: time.Second}, func(ctx context.Context, c *InboundCall) {
				if err := c.Answer(ctx); err != nil {
					return
				}
				<-c.Done()
				c.mu.Lock()
				remotePort <- c.remote.Remote.Port()
				c.mu.Unlock()
				reasons <- c.EndReason()
			})
			sipp := startSIPp(t, freeUDPPort(t), "-sf", scenario, "-s", "1000", "-set", "se", "2", "-set", "refresher", tc.refresher,
				"-set", "mode", tc.mode, "-set", "allow", tc.allow, udpListener(t, srv).String())
			select {
			case err := <-sipp:
				if err != nil {
					t.Fatalf("sipp failed: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("sipp did not finish")
			}
			select {
			case r := <-reasons:
				if r != tc.reason {
					t.Errorf("call ended with %q, want %q", r, tc.reason)
				}
				// refresh: the second UPDATE carried SDP for port 41234.
				if p := <-remotePort; tc.mode == "refresh" && p != 41234 {
					t.Errorf("after an UPDATE with SDP the media goes to port %d, want 41234", p)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the call did not end")
			}
		})
	}
}

// An INVITE asking for a session interval below Min-SE gets 422 with our
// Min-SE (RFC 4028 §8.1).
func TestSessionIntervalTooSmall(t *testing.T) {
	srv, _ := startServer(t, Config{}, nil)
	addr := udpListener(t, srv).String()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	head := strings.ReplaceAll(wireOptions, "OPTIONS", "INVITE") + "Contact: <sip:wire@127.0.0.1:5099>\nContent-Type: application/sdp\nSession-Expires: 30\nSupported: timer\n"
	if _, err := io.WriteString(conn, fillWire(head, wireSDP, "UDP", "se30", addr)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	code, _ := readResponse(t, r)
	for code == 100 {
		code, _ = readResponse(t, r)
	}
	if code != 422 {
		t.Fatalf("Session-Expires: 30 answered %d, want 422", code)
	}
}

// TestDialSessionTimersSIPp: RFC 4028 on calls the gateway places, SIPp
// as the called party (sip.session_expires 3 s, Min-SE 1 s). SIPp checks
// that the INVITE says Supported: timer with Session-Expires and Min-SE;
// with first422 it answers 422 Min-SE: 5 and checks the retry asks for
// 5 s. update/reinvite: its 200 makes the gateway the refresher, which
// refreshes with UPDATE, or re-INVITE when SIPp's Allow lacks UPDATE
// (SIPp checks the method, the SDP and the ACK), then SIPp hangs up; fail:
// the UPDATE gets 481 and the gateway sends BYE with Reason; timeout: the
// UPDATE goes unanswered and after 64·T1 (32 s) the gateway sends BYE with
// Reason (cause 408); expire: SIPp
// is the refresher and never refreshes; refreshee: SIPp refreshes with
// UPDATE and the call lives until its BYE.
func TestDialSessionTimersSIPp(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uas_session_timer.xml")
	if err != nil {
		t.Fatal(err)
	}
	const withUpdate, withoutUpdate = "INVITE, ACK, BYE, CANCEL, UPDATE", "INVITE, ACK, BYE, CANCEL"
	for _, tc := range []struct{ name, mode, first422, refresher, allow, reason string }{
		{"update", "update", "no", "uac", withUpdate, "remote-bye"},
		{"422-then-update", "update", "yes", "uac", withUpdate, "remote-bye"},
		{"reinvite", "reinvite", "no", "uac", withoutUpdate, "remote-bye"},
		{"fail", "fail", "no", "uac", withUpdate, "session-refresh-failed"},
		{"timeout", "timeout", "no", "uac", withUpdate, "session-refresh-failed"}, // 64·T1: about 34 s
		{"expire", "expire", "no", "uas", withUpdate, "session-expired"},
		{"refreshee", "refreshee", "no", "uas", withUpdate, "remote-bye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freeUDPPort(t)
			sipp := startSIPp(t, port, "-sf", scenario, "-set", "first422", tc.first422, "-set", "se", "3",
				"-set", "refresher", tc.refresher, "-set", "allow", tc.allow, "-set", "mode", tc.mode)
			srv, _ := startServer(t, Config{MinSE: time.Second, SessionExpires: 3 * time.Second, RTPTimeout: time.Minute}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			call, err := srv.Dial(ctx, DialRequest{To: fmt.Sprintf("sip:1000@127.0.0.1:%d", port), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			select {
			case err := <-sipp:
				if err != nil {
					t.Fatalf("sipp failed: %v", err)
				}
			case <-time.After(45 * time.Second):
				t.Fatal("sipp did not finish")
			}
			select {
			case <-call.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the call did not end")
			}
			if r := call.EndReason(); r != tc.reason {
				t.Errorf("call ended with %q, want %q", r, tc.reason)
			}
		})
	}
}

// TestSessionTimerStartedMidCall: a caller that asked for no session
// timer sets one up with an UPDATE (Session-Expires: 2;refresher=uas); the
// 200 says so and the gateway, now the refresher, sends UPDATE (SIPp
// checks both) until SIPp hangs up.
func TestSessionTimerStartedMidCall(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uac_session_midcall.xml")
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 1)
	srv, _ := startServer(t, Config{MinSE: time.Second}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		<-c.Done()
		reasons <- c.EndReason()
	})
	sipp := startSIPp(t, freeUDPPort(t), "-sf", scenario, "-s", "1000", udpListener(t, srv).String())
	select {
	case err := <-sipp:
		if err != nil {
			t.Fatalf("sipp failed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sipp did not finish")
	}
	select {
	case r := <-reasons:
		if r != "remote-bye" {
			t.Errorf("call ended with %q, want remote-bye", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
}
