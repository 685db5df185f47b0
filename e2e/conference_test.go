package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/zaf/g711"
)

// talkTone sends a sine of freq Hz (amplitude amp) back to wherever the
// gateway's RTP comes from, once it comes, for d.
func (p *rtpPeer) talkTone(freq, amp float64, d time.Duration) {
	go func() {
		var dst *net.UDPAddr
		for range 1500 {
			if dst = p.source(); dst != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if dst == nil {
			return
		}
		seq, ts := uint16(1), uint32(0)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := range int(d / (20 * time.Millisecond)) {
			payload := make([]byte, 160)
			for j := range payload {
				payload[j] = g711.EncodeUlawFrame(int16(amp * math.Sin(2*math.Pi*freq*float64(i*160+j)/8000)))
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 0x4321}, Payload: payload}
			raw, _ := pkt.Marshal()
			if _, err := p.conn.WriteToUDP(raw, dst); err != nil {
				return
			}
			seq++
			ts += 160
			<-tick.C
		}
	}()
}

// restJSON calls the gateway's REST API and decodes the JSON answer.
func (g *gateway) restJSON(t *testing.T, method, path string, form url.Values, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testAccountSID, testAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, body)
		}
	}
	return res.StatusCode
}

type confList struct {
	Conferences []struct {
		SID, Status  string
		FriendlyName string `json:"friendly_name"`
	} `json:"conferences"`
}

type partList struct {
	Participants []struct {
		CallSID        string  `json:"call_sid"`
		Label          *string `json:"label"`
		Coaching       bool    `json:"coaching"`
		CallSIDToCoach *string `json:"call_sid_to_coach"`
	} `json:"participants"`
}

// waitParticipants waits until the live conference called name has n
// participants and returns its SID.
func (g *gateway) waitParticipants(t *testing.T, name string, n int, within time.Duration) (string, partList) {
	t.Helper()
	deadline := time.Now().Add(within)
	var parts partList
	for time.Now().Before(deadline) {
		var cl confList
		g.restJSON(t, "GET", "/Conferences.json?Status=in-progress&FriendlyName="+url.QueryEscape(name), nil, &cl)
		if len(cl.Conferences) == 1 {
			parts = partList{}
			g.restJSON(t, "GET", "/Conferences/"+cl.Conferences[0].SID+"/Participants.json", nil, &parts)
			if len(parts.Participants) == n {
				return cl.Conferences[0].SID, parts
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("conference %q never had %d participants (last: %d)\n%s", name, n, len(parts.Participants), g.Logs())
	return "", parts
}

// toneShares returns, for each 0.5 s window of what peer received, the
// share of the window's energy at each of freqs.
func toneShares(peer *rtpPeer, freqs []float64) [][]float64 {
	rx := decode(peer.packets(), 0)
	var out [][]float64
	for i := 0; i+4000 <= len(rx); i += 2000 {
		w := rx[i : i+4000]
		if rms(w) < 0.01 {
			continue // silence: before the conference or after it
		}
		shares := make([]float64, len(freqs))
		for k, f := range freqs {
			shares[k] = goertzelFraction(w, f)
		}
		out = append(out, shares)
	}
	return out
}

// hears reports whether some window has every wanted tone's share above
// lo, and the largest share of the unwanted tones over all windows.
func hears(windows [][]float64, want, unwanted []int, lo float64) (bool, float64) {
	ok, worst := false, 0.0
	for _, w := range windows {
		all := true
		for _, k := range want {
			all = all && w[k] > lo
		}
		ok = ok || all
		for _, k := range unwanted {
			worst = math.Max(worst, w[k])
		}
	}
	return ok, worst
}

// TestConferenceFiveSIPp: five SIPp callers join one <Dial><Conference>,
// each sending a tone of its own frequency; each one hears every other
// tone and never its own. The REST API lists the room and its five
// participants and ends it (Status=completed); every Dial's action runs
// and the conference's status callbacks come in order.
func TestConferenceFiveSIPp(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Dial action="/after"><Conference beep="false" statusCallback="/conf-events" statusCallbackEvent="start end join leave" record="record-from-start" recordingStatusCallback="/rec">five</Conference></Dial></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	a.twiml("/conf-events", `<Response/>`)
	a.twiml("/rec", `<Response/>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	freqs := []float64{500, 700, 900, 1100, 1300}
	peers := make([]*rtpPeer, len(freqs))
	var done []<-chan string
	for i, f := range freqs {
		peers[i] = newRTPPeer(t)
		peers[i].talkTone(f, 5000, 25*time.Second)
		done = append(done, g.waitingCaller(t, peers[i], fmt.Sprintf("caller %d: ", i), 40*time.Second))
	}
	confSID, _ := g.waitParticipants(t, "five", len(freqs), 20*time.Second)
	time.Sleep(3 * time.Second) // everyone talks to everyone
	var ended struct{ Status string }
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+".json", url.Values{"Status": {"completed"}}, &ended); code != 200 || ended.Status != "completed" {
		t.Fatalf("ending the conference: %d %+v", code, ended)
	}
	for _, d := range done {
		if msg := <-d; msg != "" {
			t.Error(msg)
		}
	}
	for i, p := range peers {
		var others []int
		for k := range freqs {
			if k != i {
				others = append(others, k)
			}
		}
		windows := toneShares(p, freqs)
		ok, own := hears(windows, others, []int{i}, 0.08)
		if !ok {
			t.Errorf("caller %d (%.0f Hz) never heard all four others at once (%d windows with sound)", i, freqs[i], len(windows))
		}
		if own > 0.01 {
			t.Errorf("caller %d heard its own %.0f Hz tone (share up to %.3f)", i, freqs[i], own)
		}
	}
	for _, r := range a.waitRequests(t, "/after", len(freqs), 5*time.Second) {
		if r.Form.Get("DialCallStatus") != "answered" || r.Form.Get("ConferenceSid") != confSID {
			t.Errorf("action: DialCallStatus=%q ConferenceSid=%q", r.Form.Get("DialCallStatus"), r.Form.Get("ConferenceSid"))
		}
	}
	evs := a.waitRequests(t, "/conf-events", 2*len(freqs)+2, 5*time.Second)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Form.Get("StatusCallbackEvent"))
	}
	if kinds[0] != "participant-join" || kinds[1] != "conference-start" || kinds[len(kinds)-1] != "conference-end" {
		t.Errorf("conference events %v", kinds)
	}
	if r := evs[len(evs)-1].Form.Get("ReasonConferenceEnded"); r != "conference-ended-via-api" {
		t.Errorf("ReasonConferenceEnded %q", r)
	}
	checkConferenceRecording(t, g, a, confSID, freqs)
	// The store keeps the record: listed as completed.
	var cl confList
	g.restJSON(t, "GET", "/Conferences.json?Status=completed", nil, &cl)
	if len(cl.Conferences) != 1 || cl.Conferences[0].SID != confSID || cl.Conferences[0].FriendlyName != "five" {
		t.Errorf("completed conferences: %+v", cl.Conferences)
	}
}

// coachApp answers the conference's callers in turn: the agent, the
// customer, then a coach who coaches the agent.
func coachApp(t *testing.T, a *app) {
	var mu sync.Mutex
	var agent string
	n := 0
	a.handle("/voice", func(r webhookRequest) (int, string, string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		attrs := `participantLabel="agent"`
		switch n {
		case 1:
			agent = r.Form.Get("CallSid")
		case 2:
			attrs = `participantLabel="customer"`
		default:
			attrs = fmt.Sprintf(`participantLabel="coach" coach="%s"`, agent)
		}
		return 200, "text/xml", fmt.Sprintf(`<Response><Dial action="/after"><Conference beep="false" %s>coached</Conference></Dial></Response>`, attrs)
	})
	a.twiml("/after", `<Response><Hangup/></Response>`)
}

// TestConferenceCoachAndTwilioNode: an agent, a customer and a coach
// (coach=the agent's CallSid) in one room, each sending its own tone: the
// agent hears the customer and the coach, the customer never hears the
// coach. Meanwhile twilio-node drives the Participants API
// (sdk/twilio_node_conference.js): list, fetch by label, create a muted
// participant (an outbound call to a SIPp UAS), hold it, mute and unmute
// the agent, remove the new participant.
func TestConferenceCoachAndTwilioNode(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	a := newApp(t)
	coachApp(t, a)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	freqs := []float64{500, 900, 1300} // agent, customer, coach
	peers := make([]*rtpPeer, len(freqs))
	var done []<-chan string
	for i, f := range freqs {
		peers[i] = newRTPPeer(t)
		peers[i].talkTone(f, 5000, 28*time.Second)
		done = append(done, g.waitingCaller(t, peers[i], fmt.Sprintf("caller %d: ", i), 40*time.Second))
		g.waitParticipants(t, "coached", i+1, 15*time.Second) // in this order
	}
	confSID, parts := g.waitParticipants(t, "coached", 3, 5*time.Second)
	for _, p := range parts.Participants {
		if p.Label != nil && *p.Label == "coach" && (!p.Coaching || p.CallSIDToCoach == nil) {
			t.Errorf("the coach is listed as %+v", p)
		}
	}
	out := runNode(t, "twilio_node_conference.js", "BASE="+g.httpURL, "SID="+testAccountSID, "TOKEN="+testAuthToken,
		"CONF=coached", fmt.Sprintf("TO=sip:echo@127.0.0.1:%d", uas))
	t.Logf("twilio-node: %s", out)
	var seen struct {
		Listed, Added, Removed int
		CoachOf                string
		Queued, Held           bool
	}
	if err := json.Unmarshal([]byte(out), &seen); err != nil {
		t.Fatalf("twilio-node output: %v", err)
	}
	if seen.Listed != 3 || seen.Added != 4 || seen.Removed != 3 || !seen.Queued || !seen.Held || !strings.HasPrefix(seen.CoachOf, "CA") {
		t.Errorf("twilio-node saw %+v", seen)
	}
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+".json", url.Values{"Status": {"completed"}}, nil); code != 200 {
		t.Fatalf("ending the conference: %d", code)
	}
	for _, d := range done {
		if msg := <-d; msg != "" {
			t.Error(msg)
		}
	}
	agent, customer, coach := toneShares(peers[0], freqs), toneShares(peers[1], freqs), toneShares(peers[2], freqs)
	if ok, own := hears(agent, []int{1, 2}, []int{0}, 0.15); !ok || own > 0.01 {
		t.Errorf("the agent: heard the customer and the coach together %v, own tone share %.3f", ok, own)
	}
	if ok, leak := hears(customer, []int{0}, []int{1, 2}, 0.3); !ok || leak > 0.01 {
		t.Errorf("the customer: heard the agent %v, coach (or own) share up to %.3f", ok, leak)
	}
	if ok, own := hears(coach, []int{0, 1}, []int{2}, 0.15); !ok || own > 0.01 {
		t.Errorf("the coach: heard the agent and the customer %v, own share %.3f", ok, own)
	}
}

// runNode runs a script of e2e/sdk with env and returns its stdout.
func runNode(t *testing.T, script string, env ...string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join("sdk", "node_modules", "twilio", "package.json")); err != nil {
		t.Fatalf("twilio-node is not installed (make deps-test): %v", err)
	}
	cmd := exec.Command("node", script)
	cmd.Dir = "sdk"
	cmd.Env = append(os.Environ(), env...)
	var stderr syncBuilder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s\n%s", script, err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// checkConferenceRecording: the recordingStatusCallback names a mono
// recording of the conference whose audio has every participant's tone.
func checkConferenceRecording(t *testing.T, g *gateway, a *app, confSID string, freqs []float64) {
	t.Helper()
	cb := a.waitRequests(t, "/rec", 1, 5*time.Second)[0].Form
	recSID := cb.Get("RecordingSid")
	if cb.Get("ConferenceSid") != confSID || cb.Get("RecordingStatus") != "completed" || cb.Get("RecordingChannels") != "1" {
		t.Errorf("recording callback %v", cb)
	}
	var rec struct {
		ConferenceSID string `json:"conference_sid"`
		Channels      int
	}
	if code := g.restJSON(t, "GET", "/Recordings/"+recSID+".json", nil, &rec); code != 200 || rec.ConferenceSID != confSID {
		t.Fatalf("recording %s: %d %+v", recSID, code, rec)
	}
	res, err := http.Get(cb.Get("RecordingUrl"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	pcm, err := audio.DecodeWAV(body)
	if err != nil {
		t.Fatalf("recording media (%d, %d bytes): %v", res.StatusCode, len(body), err)
	}
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v) / 32768
	}
	best := make([]float64, len(freqs))
	for i := 0; i+4000 <= len(x); i += 2000 {
		w := x[i : i+4000]
		if rms(w) < 0.005 {
			continue // silence has no share (NaN)
		}
		for k, f := range freqs {
			best[k] = math.Max(best[k], goertzelFraction(w, f))
		}
	}
	for k, b := range best {
		if b < 0.1 {
			t.Errorf("the recording lacks the %.0f Hz participant (best share %.3f)", freqs[k], b)
		}
	}
}

// shareBetween is the best share of freq in 0.5 s windows of what peer
// received between from and to, and the RMS of all of it.
func shareBetween(peer *rtpPeer, from, to time.Time, freq float64) (best, level float64) {
	var in []rtpPacket
	for _, p := range peer.packets() {
		if p.At.After(from) && p.At.Before(to) {
			in = append(in, p)
		}
	}
	x := decode(in, 0)
	for i := 0; i+4000 <= len(x); i += 2000 {
		if w := x[i : i+4000]; rms(w) > 0.005 { // silent windows have no share (NaN)
			best = math.Max(best, goertzelFraction(w, freq))
		}
	}
	return best, rms(x)
}

// TestConferenceWarmTransfer: a warm transfer built on the Participants
// API. The caller is in a room with agent 1 (a SIPp UAS that echoes);
// the caller is put on hold (hears hold music, is not heard) while agent
// 2 (another echoing UAS) is added for the consult; the caller is taken
// off hold and agent 1 leaves. The caller's call is never dropped and
// hears agent 2 (its own tone echoed back through agent 2's leg).
func TestConferenceWarmTransfer(t *testing.T) {
	agent1 := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	agent2 := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	a := newApp(t)
	a.twiml("/voice", `<Response><Dial action="/after"><Conference beep="false" participantLabel="caller">xfer</Conference></Dial></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	caller := newRTPPeer(t)
	caller.talkTone(500, 6000, 35*time.Second)
	done := g.waitingCaller(t, caller, "caller: ", 40*time.Second)
	confSID, _ := g.waitParticipants(t, "xfer", 1, 15*time.Second)
	parts := "/Conferences/" + confSID + "/Participants"
	add := func(label string, port int) {
		var p struct{ Status string }
		form := url.Values{"To": {fmt.Sprintf("sip:%s@127.0.0.1:%d", label, port)}, "From": {"+15550002222"}, "Label": {label}, "Beep": {"false"}}
		if code := g.restJSON(t, "POST", parts+".json", form, &p); code != 201 || p.Status != "queued" {
			t.Fatalf("adding %s: %d %+v", label, code, p)
		}
	}
	update := func(label string, form url.Values) {
		if code := g.restJSON(t, "POST", parts+"/"+label+".json", form, nil); code != 200 {
			t.Fatalf("updating %s: %d", label, code)
		}
	}
	add("agent1", agent1)
	g.waitParticipants(t, "xfer", 2, 15*time.Second)
	time.Sleep(2 * time.Second)
	holdFrom := time.Now()
	update("caller", url.Values{"Hold": {"true"}})
	add("agent2", agent2) // the consult: the agents talk, the caller hears music
	g.waitParticipants(t, "xfer", 3, 15*time.Second)
	time.Sleep(2 * time.Second)
	holdTo := time.Now()
	update("caller", url.Values{"Hold": {"false"}})
	if code := g.restJSON(t, "DELETE", parts+"/agent1.json", nil, nil); code != 204 {
		t.Fatalf("removing agent 1: %d", code)
	}
	g.waitParticipants(t, "xfer", 2, 10*time.Second)
	afterFrom := time.Now()
	time.Sleep(3 * time.Second)
	afterTo := time.Now()
	select {
	case msg := <-done:
		t.Fatalf("the caller's call ended during the transfer: %q", msg)
	default:
	}
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+".json", url.Values{"Status": {"completed"}}, nil); code != 200 {
		t.Fatalf("ending: %d", code)
	}
	if msg := <-done; msg != "" {
		t.Error(msg)
	}
	holdShare, holdLevel := shareBetween(caller, holdFrom.Add(500*time.Millisecond), holdTo, 500)
	afterShare, _ := shareBetween(caller, afterFrom.Add(500*time.Millisecond), afterTo, 500)
	t.Logf("on hold: level %.3f, own tone share %.3f; after the transfer: echoed tone share %.3f", holdLevel, holdShare, afterShare)
	if holdLevel < 0.01 || holdShare > 0.05 {
		t.Errorf("on hold the caller heard level %.3f with its own tone's share %.2f: want hold music only", holdLevel, holdShare)
	}
	if afterShare < 0.5 {
		t.Errorf("after the transfer the caller did not hear agent 2 (share of the echoed tone %.2f)", afterShare)
	}
}
