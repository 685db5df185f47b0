package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// audioWindows splits the μ-law audio the caller received into 100 ms
// windows and counts those that are ringback (most energy at 440 + 480 Hz,
// the default "us" tone) and those that are loud but not ringback (the
// called party's speech), among the packets received before until.
func audioWindows(pkts []rtpPacket, until time.Time) (ringing, speech int) {
	var before []rtpPacket
	for _, p := range pkts {
		if until.IsZero() || p.At.Before(until) {
			before = append(before, p)
		}
	}
	x := decode(before, 0)
	const w = 800
	for i := 0; i+w <= len(x); i += w {
		win := x[i : i+w]
		if rms(win) < 0.01 {
			continue
		}
		if goertzelFraction(win, 440)+goertzelFraction(win, 480) > 0.7 {
			ringing++
		} else {
			speech++
		}
	}
	return ringing, speech
}

// TestAnswerOnBridgeRingbackPRACKLost: a caller that supports 100rel
// dials an app whose <Dial answerOnBridge="true"> rings a party that never
// answers. The caller gets 183 with SDP reliably (Require: 100rel, RSeq);
// SIPp "loses" its first PRACK (sends it 1.8 s late), so the 183 must be
// retransmitted meanwhile (same RSeq; counted in SIPp's message trace);
// the PRACK gets 200. Meanwhile the caller
// hears the ringback tone as early media; when the Dial times out,
// <Reject> (not the first verb: a hang-up) refuses the call still
// unanswered (480): every
// packet the caller received came before any answer.
func TestAnswerOnBridgeRingbackPRACKLost(t *testing.T) {
	uas := calledParty(t, "uas_noanswer.xml")
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial answerOnBridge="true" timeout="5"><Sip>sip:bob@127.0.0.1:%d</Sip></Dial><Reject/></Response>`, uas))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_100rel_early.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "lose": "1", "refuse": "480"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (183 not reliable, not retransmitted, PRACK refused, or no 480?)\n%s", code, out)
	}
	// SIPp absorbs retransmissions; its message trace lists each 183.
	if n := strings.Count(out, "SIP/2.0 183 Session Progress"); n < 2 || strings.Contains(out, "RSeq: 2") {
		t.Errorf("the caller got the 183 %d times (want it retransmitted while no PRACK came, with the same RSeq)", n)
	}
	ringing, speech := audioWindows(peer.packets(), time.Time{})
	t.Logf("early media before the 480: %d windows of ringback, %d other loud windows", ringing, speech)
	if ringing < 10 {
		t.Errorf("the caller heard %d windows (100 ms) of ringback as early media; want at least 10 (1 s)", ringing)
	}
}

// TestAnswerOnBridgeRelaysEarlyMedia: the called party sends 183 with SDP
// and plays 7 s of speech before it answers (silent from then on). The
// caller (Supported: 100rel, PRACKing at once) gets the gateway's reliable
// 183 and hears that speech before the bridge answers it: at least 4 s of
// loud, non-ringback audio arrives before the child leg's "answered"
// status callback. Then the 200 (after the PRACK), the bridge, and
// timeLimit's BYE.
func TestAnswerOnBridgeRelaysEarlyMedia(t *testing.T) {
	uas := calledParty(t, "uas_early_media.xml")
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial answerOnBridge="true" timeLimit="2" action="/after">`+
		`<Sip statusCallbackEvent="answered" statusCallback="/child">sip:bob@127.0.0.1:%d</Sip></Dial></Response>`, uas))
	a.twiml("/after", `<Response><Hangup/></Response>`)
	a.twiml("/child", `<Response/>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_100rel_early.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "lose": "0", "refuse": "486"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	answered := a.waitRequests(t, "/child", 1, 5*time.Second)[0].At
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("DialCallStatus") != "completed" {
		t.Errorf("DialCallStatus %q, want completed", f.Get("DialCallStatus"))
	}
	ringing, speech := audioWindows(peer.packets(), answered)
	t.Logf("before the answer: %d windows of ringback, %d of the called party's speech", ringing, speech)
	if speech < 40 {
		t.Errorf("the caller heard %d windows (100 ms) of the called party's early speech before the answer; want at least 40 (4 s)", speech)
	}
}

// TestSessionRefreshFailureEndsCall: session timers end to end (sip.min_se
// lowered to 1 s for the test). The SIPp caller makes the gateway the
// refresher of a 2 s session; it answers the first UPDATE 200 and the
// second 481. The gateway hangs up with a BYE carrying Reason (SIPp checks
// it) while the app is still pausing; the status callback and the call
// record both say completed, with a duration.
func TestSessionRefreshFailureEndsCall(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>Hello.</Say><Pause length="30"/></Response>`)
	a.twiml("/status", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), statusCallback: a.url("/status"), sipExtra: "  min_se: 1s\n"})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_session_refresh_fail.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port())}, 20*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want: UPDATE, UPDATE, then BYE with Reason)\n%s", code, out)
	}
	st := a.waitRequests(t, "/status", 1, 5*time.Second)[0].Form
	if st.Get("CallStatus") != "completed" {
		t.Errorf("status callback CallStatus %q, want completed", st.Get("CallStatus"))
	}
	req, _ := http.NewRequest(http.MethodGet, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Calls/"+st.Get("CallSid")+".json", nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec struct {
		Status   string  `json:"status"`
		Duration *string `json:"duration"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "completed" || rec.Duration == nil || *rec.Duration == "" || *rec.Duration == "30" {
		t.Errorf("call record: status %q, duration %v; want completed after about 3 s (not the 30 s pause)", rec.Status, rec.Duration)
	}
	if !strings.Contains(g.Logs(), "session-refresh-failed") {
		t.Error("the gateway's log does not say session-refresh-failed")
	}
}

// TestDialRelaysEarlyMediaToAnsweredCaller: without answerOnBridge the
// caller is answered before the <Dial>; while the party rings it hears
// the party's early media (183 with SDP and 7 s of speech) instead of the
// ringback tone.
func TestDialRelaysEarlyMediaToAnsweredCaller(t *testing.T) {
	uas := calledParty(t, "uas_early_media.xml")
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial timeLimit="2">`+
		`<Sip statusCallbackEvent="answered" statusCallback="/child">sip:bob@127.0.0.1:%d</Sip></Dial></Response>`, uas))
	a.twiml("/child", `<Response/>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	answered := a.waitRequests(t, "/child", 1, 5*time.Second)[0].At
	ringing, speech := audioWindows(peer.packets(), answered)
	t.Logf("while the party rang: %d windows of ringback, %d of its speech", ringing, speech)
	if speech < 40 {
		t.Errorf("the caller heard %d windows (100 ms) of the party's early speech while it rang; want at least 40 (4 s)", speech)
	}
}
