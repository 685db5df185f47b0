package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestCancelWhileRinging: the caller gives up while the webhook is slow:
// 200 to the CANCEL, 487 to the INVITE, and the app's status callback
// reports the call canceled.
func TestCancelWhileRinging(t *testing.T) {
	a := newApp(t)
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		time.Sleep(1500 * time.Millisecond)
		return 200, "text/xml", "<Response><Say>Too late</Say></Response>"
	})
	a.twiml("/status", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), statusCallback: a.url("/status")})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_cancel.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port())}, 15*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want 0: 180, then 200 to CANCEL and 487)\n%s", code, out)
	}
	st := a.waitRequests(t, "/status", 1, 5*time.Second)
	if got := st[0].Form.Get("CallStatus"); got != "canceled" {
		t.Errorf("final status callback CallStatus = %q, want canceled", got)
	}
	if got := st[0].Form.Get("CallDuration"); got != "0" {
		t.Errorf("CallDuration = %q, want 0 for a call never answered", got)
	}
}

// TestNoCommonCodec: an offer with only G.729 gets 488 and the app is never asked.
func TestNoCommonCodec(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", "<Response><Say>Hi</Say></Response>")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	code, out := g.sipp(t, "udp", "uac_expect_error.xml", map[string]string{"service": "+15550001000", "mport": "40000", "pts": "18", "code": "488"}, 10*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want 0: 488 Not Acceptable Here)\n%s", code, out)
	}
	if n := len(a.requests("/voice")); n != 0 {
		t.Errorf("webhook requested %d times for a call that could not be set up", n)
	}
}

// TestReject: <Reject> as the first verb refuses the call unanswered.
func TestReject(t *testing.T) {
	for _, tc := range []struct{ doc, code, status string }{
		{`<Response><Reject reason="busy"/></Response>`, "486", "busy"},
		{`<Response><Reject/></Response>`, "603", "no-answer"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			a := newApp(t)
			a.twiml("/voice", tc.doc)
			a.twiml("/status", "")
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), statusCallback: a.url("/status")})
			code, out := g.sipp(t, "udp", "uac_expect_error.xml", map[string]string{"service": "+15550001000", "mport": "40000", "pts": "0", "code": tc.code}, 10*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d (want 0: final response %s)\n%s", code, tc.code, out)
			}
			st := a.waitRequests(t, "/status", 1, 5*time.Second)
			if got := st[0].Form.Get("CallStatus"); got != tc.status {
				t.Errorf("CallStatus = %q, want %q", got, tc.status)
			}
		})
	}
}

// TestInvalidTwiMLUsesFallback: a document that does not parse makes the
// gateway request the fallback URL with ErrorCode and ErrorUrl, and the
// fallback's TwiML runs the call.
func TestInvalidTwiMLUsesFallback(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>unclosed</Response>`)
	a.twiml("/fallback", `<Response><Say>This is the fallback.</Say><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), fallbackURL: a.url("/fallback"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0 101", "expect_pt": "0", "wait_ms": "20000"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	fb := a.waitRequests(t, "/fallback", 1, time.Second)[0]
	if got := fb.Form.Get("ErrorCode"); got != "12100" {
		t.Errorf("fallback ErrorCode = %q, want 12100 (document parse failure)", got)
	}
	if got := fb.Form.Get("ErrorUrl"); got != a.url("/voice") {
		t.Errorf("fallback ErrorUrl = %q, want %q", got, a.url("/voice"))
	}
	if want := expectedSignature(testAuthToken, fb.URL, fb.Form, true); fb.Signature != want {
		t.Errorf("fallback request signature %q, want %q", fb.Signature, want)
	}
	rx := decode(peer.packets(), 0)
	if c, _ := xcorrPeak(rx, reference(t, "en-us", "This is the fallback.")); c < 0.9 {
		t.Errorf("caller did not hear the fallback's Say (correlation %.3f)", c)
	}
	if !strings.Contains(g.Logs(), "error_code=12100") {
		t.Errorf("gateway log has no error_code=12100 line")
	}
}

// TestWebhookDown: with the app unreachable and no fallback, the caller
// hears the application-error message and the gateway hangs up.
func TestWebhookDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String() + "/voice"
	l.Close() // nothing listens there now: connection refused
	g := startGateway(t, gatewayOpts{voiceURL: deadURL, extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "8 101", "expect_pt": "8", "wait_ms": "20000"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want the error message, then BYE)\n%s", code, out)
	}
	rx := decode(peer.packets(), 8)
	msg := reference(t, "en-us", "We're sorry, an application error has occurred. Goodbye.")
	if c, _ := xcorrPeak(rx, msg); c < 0.9 {
		t.Errorf("caller did not hear the application-error message (correlation %.3f)", c)
	}
	logs := g.Logs()
	if !strings.Contains(logs, "error_code=112") {
		t.Errorf("gateway log has no 112xx HTTP error code for the dead webhook")
	}
}

// TestStatusCallbacks: every subscribed event, in order, with CallDuration
// on completion.
func TestStatusCallbacks(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>Bye</Say><Pause length="2"/></Response>`)
	a.twiml("/status", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), statusCallback: a.url("/status"),
		statusEvents: []string{"initiated", "ringing", "answered", "completed"}, extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0", "expect_pt": "0", "wait_ms": "20000"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	st := a.waitRequests(t, "/status", 4, 5*time.Second)
	got := map[string]webhookRequest{}
	for _, r := range st {
		got[r.Form.Get("SequenceNumber")] = r
		if want := expectedSignature(testAuthToken, r.URL, r.Form, true); r.Signature != want {
			t.Errorf("status callback signature %q, want %q", r.Signature, want)
		}
		if r.Form.Get("CallbackSource") != "call-progress-events" || r.Form.Get("Timestamp") == "" {
			t.Errorf("status callback lacks CallbackSource/Timestamp: %v", r.Form)
		}
	}
	for seq, want := range []string{"initiated", "ringing", "in-progress", "completed"} {
		r, ok := got[fmt.Sprint(seq)]
		if !ok {
			t.Errorf("no status callback with SequenceNumber %d", seq)
			continue
		}
		if s := r.Form.Get("CallStatus"); s != want {
			t.Errorf("SequenceNumber %d: CallStatus %q, want %q", seq, s, want)
		}
	}
	if d := got["3"].Form.Get("CallDuration"); d != "2" && d != "3" && d != "4" {
		t.Errorf("CallDuration = %q, want 2 to 4 (seconds answered: a short Say and a 2 s Pause)", d)
	}
}
