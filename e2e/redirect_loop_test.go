package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRedirectLoopCapped: an app whose document redirects to itself (and
// whose fallback does too) no longer makes the real gateway fetch forever
// (1,353 fetches a minute before): after 50 documents that played nothing
// the fallback is asked with ErrorCode 14106, then the caller hears the
// application-error message and gets a BYE.
func TestRedirectLoopCapped(t *testing.T) {
	a := newApp(t)
	a.twiml("/loop", `<Response><Redirect>/loop</Redirect></Response>`)
	a.twiml("/fallback", `<Response><Redirect>/loop</Redirect></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/loop"), fallbackURL: a.url("/fallback"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d: the gateway did not hang up\n%s", code, out)
	}
	if n := len(a.requests("/loop")); n < 50 || n > 100 {
		t.Errorf("/loop fetched %d times, want 50 to 100", n)
	}
	fb := a.requests("/fallback")
	if len(fb) != 1 || fb[0].Form.Get("ErrorCode") != "14106" {
		t.Errorf("fallback requests: %d, first %v; want one with ErrorCode 14106", len(fb), fb)
	}
	if c, _ := xcorrPeak(decode(peer.packets(), 0), reference(t, "en-us", "We're sorry, an application error has occurred. Goodbye.")); c < 0.9 {
		t.Errorf("the caller did not hear the application-error message (correlation %.2f)", c)
	}
	if !strings.Contains(g.Logs(), "error_code=14106") {
		t.Error("the gateway did not log error 14106")
	}
}
