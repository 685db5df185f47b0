package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// outgoingFlow: a REST start looks the contact's name up (HTTP widget),
// then calls the contact (make-outgoing-call-v2); answered → a greeting,
// then the branch ends (hang-up); busy, noAnswer or failed → a report to
// the app (HTTP widget), with no call.
const outgoingFlow = `{
  "description": "REST-started outgoing call", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingRequest", "next": "lookup"}]},
    {"name": "lookup", "type": "make-http-request", "transitions": [{"event": "success", "next": "call"}, {"event": "failed", "next": "call"}],
     "properties": {"method": "GET", "url": "APP/lookup", "content_type": "application/json;charset=utf-8",
       "parameters": [{"key": "contact", "value": "{{contact.channel.address}}"}]}},
    {"name": "call", "type": "make-outgoing-call-v2",
     "transitions": [{"event": "answered", "next": "greet"}, {"event": "busy", "next": "report"},
                     {"event": "noAnswer", "next": "report"}, {"event": "failed", "next": "report"}],
     "properties": {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}", "timeout": "{{flow.data.ring}}",
       "record": true, "recording_status_callback": "APP/rec"}},
    {"name": "greet", "type": "say-play", "transitions": [{"event": "audioComplete"}],
     "properties": {"say": "Hello {{widgets.lookup.parsed.name}}, this is your reminder."}},
    {"name": "report", "type": "make-http-request", "transitions": [{"event": "success"}, {"event": "failed"}],
     "properties": {"method": "POST", "url": "APP/report", "content_type": "application/x-www-form-urlencoded;charset=utf-8",
       "parameters": [{"key": "status", "value": "{{widgets.call.CallStatus}}"}, {"key": "sid", "value": "{{widgets.call.CallSid}}"},
                      {"key": "to", "value": "{{widgets.call.To}}"}]}}
  ]}`

// createOutgoingFlow creates outgoingFlow with the app's URLs.
func createOutgoingFlow(t *testing.T, g *gateway, a *app) string {
	t.Helper()
	code, flow := v2(t, g, "POST", "Flows", url.Values{"FriendlyName": {"outgoing"}, "Status": {"published"},
		"Definition": {strings.ReplaceAll(outgoingFlow, "APP", a.url(""))}})
	if code != 201 {
		t.Fatalf("create flow: %d %v", code, flow)
	}
	return flow["sid"].(string)
}

// calledPartyRTP runs a SIPp UAS that answers with peer's port in its SDP
// (so the gateway's audio reaches peer) and waits for the gateway's BYE.
func calledPartyRTP(t *testing.T, peer *rtpPeer) (int, <-chan string) {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uas_echo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "uas_peer.xml")
	text := strings.Replace(string(tmpl), "m=audio [media_port]", fmt.Sprintf("m=audio %d", peer.port()), 1)
	if err := os.WriteFile(scenario, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(port),
		"-m", "1", "-nostdin", "-cp", fmt.Sprint(freePort(t)), "-timeout", "50s", "-timeout_error", "-trace_err")
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		if err := cmd.Wait(); err != nil {
			done <- fmt.Sprintf("called party: %v\n%s", err, out.String())
		} else {
			done <- ""
		}
	}()
	t.Cleanup(func() { cancel(); <-exited })
	time.Sleep(300 * time.Millisecond) // let it bind
	return port, done
}

// startOutgoing starts an execution of flowSID for contact to; ring is
// the widget's ring timeout.
func startOutgoing(t *testing.T, g *gateway, flowSID, to string, ring int) map[string]any {
	t.Helper()
	code, ex := v2(t, g, "POST", "Flows/"+flowSID+"/Executions", url.Values{
		"To": {to}, "From": {"+15550001111"}, "Parameters": {fmt.Sprintf(`{"ring": %d}`, ring)},
	})
	if code != 201 {
		t.Fatalf("create execution: %d %v", code, ex)
	}
	return ex
}

// waitEnded waits for an execution to end and returns it.
func waitEnded(t *testing.T, g *gateway, flowSID, exSID string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		_, e := v2(t, g, "GET", "Flows/"+flowSID+"/Executions/"+exSID, nil)
		if e["status"] == "ended" {
			return e
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("execution %s did not end within %v", exSID, within)
	return nil
}

// stepNames lists an execution's steps as "from -event-> to".
func stepNames(t *testing.T, g *gateway, flowSID, exSID string) []string {
	t.Helper()
	_, steps := v2(t, g, "GET", "Flows/"+flowSID+"/Executions/"+exSID+"/Steps", nil)
	list, _ := steps["steps"].([]any)
	var out []string
	for _, s := range list {
		m := s.(map[string]any)
		out = append(out, fmt.Sprintf("%v -%v-> %v", m["transitioned_from"], m["name"], m["transitioned_to"]))
	}
	return out
}

// TestStudioOutgoingCallAnswered: a REST execution runs its HTTP widget
// with no call (the 201 comes back while that widget is still waiting),
// then make-outgoing-call-v2 calls a SIPp UAS, which answers and hears
// the greeting (espeak-ng's rendering, over RTP); the flow then hangs up.
// The widget's record: true records the call.
func TestStudioOutgoingCallAnswered(t *testing.T) {
	peer := newRTPPeer(t)
	uas, uasDone := calledPartyRTP(t, peer)
	a := newApp(t)
	release := make(chan struct{})
	a.handle("/lookup", func(webhookRequest) (int, string, string) {
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		return 200, "application/json", `{"name": "Ada"}`
	})
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused", extraYAML: ttsVoices})
	flowSID := createOutgoingFlow(t, g, a)

	contact := fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)
	ex := startOutgoing(t, g, flowSID, contact, 20)
	exSID := ex["sid"].(string)
	// The execution was created and the flow is at its HTTP widget: no
	// call exists yet.
	lookup := a.waitRequests(t, "/lookup", 1, 10*time.Second)[0]
	if lookup.Form.Get("contact") != contact {
		t.Errorf("lookup query %v", lookup.Form)
	}
	if strings.Contains(g.Logs(), "outbound call requested") {
		t.Errorf("a call was placed before the flow reached make-outgoing-call-v2")
	}
	// Only one active execution per contact.
	if code, e := v2(t, g, "POST", "Flows/"+flowSID+"/Executions", url.Values{"To": {contact}, "From": {"+15550001111"}}); code != 409 {
		t.Errorf("a second execution for the contact: %d %v", code, e)
	}
	close(release)

	e := waitEnded(t, g, flowSID, exSID, 40*time.Second)
	if msg := <-uasDone; msg != "" {
		t.Fatal(msg)
	}
	want := []string{"Trigger -incomingRequest-> lookup", "lookup -success-> call", "call -answered-> greet", "greet -audioComplete-> Ended"}
	if got := stepNames(t, g, flowSID, exSID); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("steps:\n%s", strings.Join(got, "\n"))
	}
	w := e["context"].(map[string]any)["widgets"].(map[string]any)["call"].(map[string]any)
	callSID, _ := w["CallSid"].(string)
	if !strings.HasPrefix(callSID, "CA") || w["Direction"] != "outbound-api" || w["To"] != contact {
		t.Errorf("widgets.call %v", w)
	}
	// record: true recorded the call from the answer.
	rec := a.waitRequests(t, "/rec", 1, 10*time.Second)[0].Form
	if rec.Get("CallSid") != callSID || rec.Get("RecordingStatus") != "completed" || !strings.HasPrefix(rec.Get("RecordingSid"), "RE") {
		t.Errorf("recording status callback %v", rec)
	}
	if len(a.requests("/report")) != 0 {
		t.Errorf("the report branch ran")
	}

	// The called party heard the greeting.
	pkts := peer.packets()
	if len(pkts) == 0 {
		t.Fatal("no RTP reached the called party")
	}
	speech := reference(t, "en-us", "Hello Ada, this is your reminder.")
	if corr, _ := xcorrPeak(decode(pkts, 0), speech); corr < 0.9 {
		t.Errorf("the called party's audio correlates %.3f with espeak-ng's rendering of the greeting, want >= 0.9", corr)
	}
}

// TestStudioOutgoingCallNotAnswered: the called party is busy (486), or
// rings until the widget's timeout: make-outgoing-call-v2 takes busy or
// noAnswer and the flow goes on without a call to its HTTP widget.
func TestStudioOutgoingCallNotAnswered(t *testing.T) {
	busy := calledParty(t, "uas_busy.xml")
	ringing := calledParty(t, "uas_noanswer.xml")
	a := newApp(t)
	a.handle("/lookup", func(webhookRequest) (int, string, string) { return 200, "application/json", `{}` })
	a.handle("/report", func(webhookRequest) (int, string, string) { return 204, "", "" })
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused"})
	flowSID := createOutgoingFlow(t, g, a)

	for _, tc := range []struct {
		contact      string
		ring         int
		status, step string
	}{
		{fmt.Sprintf("sip:busy@127.0.0.1:%d", busy), 20, "busy", "call -busy-> report"},
		{fmt.Sprintf("sip:nobody@127.0.0.1:%d", ringing), 3, "no-answer", "call -noAnswer-> report"},
	} {
		ex := startOutgoing(t, g, flowSID, tc.contact, tc.ring)
		exSID := ex["sid"].(string)
		e := waitEnded(t, g, flowSID, exSID, 30*time.Second)
		var report *webhookRequest
		for _, r := range a.requests("/report") {
			if r.Form.Get("to") == tc.contact {
				report = &r
			}
		}
		if report == nil {
			t.Errorf("%s: the report widget never ran", tc.contact)
			continue
		}
		if report.Form.Get("status") != tc.status || !strings.HasPrefix(report.Form.Get("sid"), "CA") {
			t.Errorf("%s: report %v, want status %s", tc.contact, report.Form, tc.status)
		}
		steps := stepNames(t, g, flowSID, exSID)
		if len(steps) != 4 || steps[2] != tc.step || steps[3] != "report -success-> Ended" {
			t.Errorf("%s: steps %v", tc.contact, steps)
		}
		w := e["context"].(map[string]any)["widgets"].(map[string]any)["call"].(map[string]any)
		if w["CallStatus"] != tc.status {
			t.Errorf("%s: widgets.call %v", tc.contact, w)
		}
	}
}

// redirectTimeoutFlow hands an inbound call to the app's TwiML with a
// 2-second add-twiml-redirect timeout; the timeout leads back to a Say.
const redirectTimeoutFlow = `{
  "description": "TwiML redirect timeout", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingCall", "next": "ext"}]},
    {"name": "ext", "type": "add-twiml-redirect", "properties": {"url": "APP/ext", "method": "POST", "timeout": "2"},
     "transitions": [{"event": "return", "next": "back"}, {"event": "timeout", "next": "back"}, {"event": "fail"}]},
    {"name": "back", "type": "say-play", "properties": {"say": "Welcome back to the flow."}, "transitions": [{"event": "audioComplete"}]}
  ]}`

// TestStudioTwimlRedirectTimeout: the external TwiML never returns to
// the flow; after the widget's timeout the gateway takes the live call
// back (the caller hears the next widget) and hangs up at the end.
func TestStudioTwimlRedirectTimeout(t *testing.T) {
	a := newApp(t)
	a.twiml("/ext", `<Response><Say>Please hold.</Say><Pause length="25"/></Response>`)
	flow := filepath.Join(t.TempDir(), "redirect.json")
	if err := os.WriteFile(flow, []byte(strings.ReplaceAll(redirectTimeoutFlow, "APP", a.url(""))), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, gatewayOpts{flow: flow, extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	start := time.Now()
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	if took := time.Since(start); took > 18*time.Second {
		t.Errorf("the call lasted %v: the external TwiML's 25 s pause was not cut short", took)
	}
	a.waitRequests(t, "/ext", 1, time.Second)
	logs := g.Logs()
	for _, want := range []string{"add-twiml-redirect timed out", "call taken back into the flow", `the flow ended after \"back\"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("gateway log lacks %q", want)
		}
	}
	speech := reference(t, "en-us", "Welcome back to the flow.")
	if corr, _ := xcorrPeak(decode(peer.packets(), 0), speech); corr < 0.9 {
		t.Errorf("the caller's audio correlates %.3f with the flow's Say after the timeout, want >= 0.9", corr)
	}
}
