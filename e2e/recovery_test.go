package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// recoveryFlow records the call (mono) and hands it to the app's TwiML
// with add-twiml-redirect, so that its execution stays active while the
// call runs.
const recoveryFlow = `{
  "description": "recovery e2e", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingCall", "next": "startRec"}]},
    {"name": "startRec", "type": "record-call",
     "properties": {"record_call": true, "recording_channels": "mono", "recording_status_callback": "APP/rs",
                    "recording_status_callback_events": "in-progress completed", "trim": "do-not-trim"},
     "transitions": [{"event": "success", "next": "ext"}, {"event": "failed", "next": "ext"}]},
    {"name": "ext", "type": "add-twiml-redirect", "properties": {"url": "APP/voice", "method": "POST"},
     "transitions": [{"event": "return"}, {"event": "timeout"}, {"event": "fail"}]}
  ]}`

// configFlowSID is the SID the gateway gives the flow file at path (a hash
// of its absolute path).
func configFlowSID(path string) string {
	abs, _ := filepath.Abs(path)
	sum := sha256.Sum256([]byte(abs))
	return "FW" + hex.EncodeToString(sum[:16])
}

// callerUntilKilled starts a SIPp caller to +15550001000 (uac_wait_bye)
// that stays on until the test ends, when it is killed.
func callerUntilKilled(t *testing.T, g *gateway, peer *rtpPeer) {
	t.Helper()
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uac_wait_bye.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "uac.xml")
	text := strings.NewReplacer("[mport]", fmt.Sprint(peer.port()), "[pts]", "0").Replace(string(tmpl))
	if err := os.WriteFile(scenario, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sipp", fmt.Sprintf("127.0.0.1:%d", g.sipPort), "-sf", scenario, "-s", "+15550001000",
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-m", "1", "-nostdin",
		"-cp", fmt.Sprint(freePort(t)), "-timeout", "60s")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// kill9 ends the gateway process with SIGKILL: nothing of its shutdown
// runs.
func (g *gateway) kill9(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-g.exited
}

// TestRecoveryAfterKill9: the real binary is killed with SIGKILL during an
// answered, recorded call run by a Studio flow. Restarted on the same
// storage, it ends the call (completed, with its duration) and sends the
// completed status callback that was due, saves the recording from its
// temporary file (its URL serves the audio), and ends the flow's
// execution.
func TestRecoveryAfterKill9(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say loop="0">`+recSentence+`</Say></Response>`)
	a.twiml("/rs", "")
	a.twiml("/status", "")
	flow := filepath.Join(t.TempDir(), "recovery.json")
	if err := os.WriteFile(flow, []byte(strings.ReplaceAll(recoveryFlow, "APP", a.url(""))), 0o644); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(t.TempDir(), "var")
	opts := gatewayOpts{flow: flow, storageDir: storage, statusCallback: a.url("/status"),
		statusEvents: []string{"answered", "completed"}, extraYAML: ttsVoices}
	g := startGateway(t, opts)
	peer := newRTPPeer(t)
	peer.talk(t, 30*time.Second)
	callerUntilKilled(t, g, peer)
	callSID := a.waitRequests(t, "/voice", 1, 15*time.Second)[0].Form.Get("CallSid")
	recSID := waitCallback(t, a, "/rs", callSID, "in-progress", 5*time.Second).Get("RecordingSid")
	answered := a.waitRequests(t, "/status", 1, 5*time.Second)[0]
	if answered.Form.Get("CallStatus") != "in-progress" {
		t.Fatalf("first status callback %v", answered.Form)
	}
	// And a REST call, answered by a SIPp party, whose StatusCallback
	// only the callback journal keeps.
	a.twiml("/outbound", `<Response><Say loop="0">`+recSentence+`</Say></Response>`)
	a.twiml("/ostatus", "")
	uas := streamingParty(t, toneStream(t, 1, 20))
	op := &openapi.CreateCallParams{}
	op.SetTo(fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)).SetFrom("+15550001111").SetUrl(a.url("/outbound")).SetStatusCallback(a.url("/ostatus"))
	out, err := twilioGo(t, g.httpURL).Api.CreateCall(op)
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	a.waitRequests(t, "/outbound", 1, 15*time.Second)
	time.Sleep(4 * time.Second) // more audio than the recorder buffers in memory

	g.kill9(t)
	temps, _ := filepath.Glob(filepath.Join(storage, "recordings", ".rec-"+recSID+"-*.wav"))
	if len(temps) != 1 {
		t.Fatalf("after kill -9: temporary files %v, want the recording's one", temps)
	}
	// What the issue saw: the call is left in progress.
	g2 := startGateway(t, opts)
	rc := twilioGo(t, g2.httpURL)
	c, err := rc.Api.FetchCall(callSID, &openapi.FetchCallParams{})
	if err != nil {
		t.Fatal(err)
	}
	if *c.Status != "completed" || c.EndTime == nil || c.Duration == nil {
		t.Fatalf("call after the restart: status %s, end %v, duration %v; want completed", *c.Status, c.EndTime, c.Duration)
	}
	if d, _ := strconv.Atoi(*c.Duration); d < 2 || d > 30 {
		t.Errorf("call duration %s s, want the ~4 s it was up (to its last sign of life, within a second)", *c.Duration)
	}

	rec, err := rc.Api.FetchRecording(recSID, &openapi.FetchRecordingParams{})
	if err != nil {
		t.Fatal(err)
	}
	if *rec.Status != "completed" || rec.Duration == nil {
		t.Fatalf("recording after the restart: %+v", rec)
	}
	got := recordingChannels(t, g2.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Recordings/"+recSID)
	secs := float64(len(got[0])) / 8000
	if d, _ := strconv.Atoi(*rec.Duration); secs < 2 || secs > 10 || d != int(secs+0.5) {
		t.Errorf("recorded audio %.2f s (duration field %s), want the 2–6 s written before the kill", secs, *rec.Duration)
	}
	if rms(got[0]) < 0.01 {
		t.Errorf("the saved recording is silent (rms %.4f)", rms(got[0]))
	}

	var completed *webhookRequest
	deadline := time.Now().Add(10 * time.Second)
	for completed == nil && time.Now().Before(deadline) {
		for _, r := range a.requests("/status") {
			if r.Form.Get("CallStatus") == "completed" && r.Form.Get("CallSid") == callSID {
				completed = &r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if completed == nil {
		t.Fatal("no completed status callback after the restart")
	}
	if completed.Form.Get("CallDuration") != *c.Duration || completed.Form.Get("SequenceNumber") != "1" {
		t.Errorf("completed callback %v: want CallDuration %s, SequenceNumber 1", completed.Form, *c.Duration)
	}
	if want := expectedSignature(testAuthToken, completed.URL, completed.Form, true); completed.Signature != want {
		t.Errorf("completed callback signature %q, want %q", completed.Signature, want)
	}

	// The REST call's completed callback, from the journal.
	oc, err := rc.Api.FetchCall(*out.Sid, &openapi.FetchCallParams{})
	if err != nil || *oc.Status != "completed" {
		t.Fatalf("REST call after the restart: %v %+v", err, oc)
	}
	var ocb []webhookRequest
	for deadline := time.Now().Add(10 * time.Second); len(ocb) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ocb = a.requests("/ostatus")
	}
	if len(ocb) != 1 || ocb[0].Form.Get("CallSid") != *out.Sid || ocb[0].Form.Get("CallStatus") != "completed" ||
		ocb[0].Form.Get("Direction") != "outbound-api" || ocb[0].Form.Get("CallDuration") != *oc.Duration {
		t.Errorf("REST call's status callbacks after the restart: %v", ocb)
	}

	code, list := v2(t, g2, "GET", "Flows/"+configFlowSID(flow)+"/Executions", nil)
	execs, _ := list["executions"].([]any)
	if code != 200 || len(execs) != 1 {
		t.Fatalf("executions: %d %v", code, list)
	}
	if ex := execs[0].(map[string]any); ex["status"] != "ended" {
		t.Errorf("execution after the restart: %v, want ended", ex)
	}
	// The config's flow is listed and fetched by /v2/Flows like its executions.
	code, flows := v2(t, g2, "GET", "Flows", nil)
	if listed, _ := flows["flows"].([]any); code != 200 || len(listed) != 1 || listed[0].(map[string]any)["sid"] != configFlowSID(flow) {
		t.Errorf("GET /v2/Flows: %d %v, want the config's flow", code, flows)
	}
	if code, f := v2(t, g2, "GET", "Flows/"+configFlowSID(flow), nil); code != 200 || f["status"] != "published" || f["definition"] == nil {
		t.Errorf("GET /v2/Flows/%s: %d %v", configFlowSID(flow), code, f)
	}
	if !strings.Contains(g2.Logs(), "recovery: call left unfinished by the previous process ended") {
		t.Error("the restarted gateway did not log what it put right")
	}
}
