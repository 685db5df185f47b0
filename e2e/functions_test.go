package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// functionsYAML points the gateway at the functions runtime of this
// checkout (make deps installs its node_modules).
func functionsYAML(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../functions/runtime")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "twilio")); err != nil {
		t.Fatalf("the functions runtime is not installed (make deps-test): %v", err)
	}
	return fmt.Sprintf("functions:\n  runtime_dir: %q\n", dir)
}

// deployFunctions runs `voxgate functions deploy` against the running
// gateway and returns the base URL it printed.
func (g *gateway) deployFunctions(t *testing.T, service, project string) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("../functions/testdata", project))
	cmd := exec.Command(voxgateBin, "functions", "deploy", "--config", filepath.Join(g.dir, "voxgate.yaml"), "--service", service, dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("voxgate functions deploy: %v\n%s\n%s", err, stderr.String(), g.Logs())
	}
	return strings.TrimSpace(stdout.String())
}

// TestFunctionsVoiceIVR: a number's voice_url names a deployed function
// (/fn/ivr/voice/menu); a SIPp caller presses 1; the protected handler,
// reached through the Gather's relative action with the engine's
// signature, answers TwiML that plays the project's tone.wav Asset (the
// caller hears 880 Hz) and hangs up. The deploy goes through the CLI.
func TestFunctionsVoiceIVR(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "/fn/ivr/voice/menu", voiceMethod: "POST", extraYAML: ttsVoices + functionsYAML(t)})
	if base := g.deployFunctions(t, "ivr", "project"); base != g.httpURL+"/fn/ivr" {
		t.Fatalf("deploy printed %q, want %s/fn/ivr", base, g.httpURL)
	}
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_info_key.xml", map[string]string{
		"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "lead_ms": "2500", "key": "1",
	}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want the gateway's BYE after the tone)\n%s\n%s", code, out, g.Logs())
	}
	logs := g.Logs()
	for _, want := range [][]string{
		{`msg="functions: executed"`, "path=/voice/menu", "call_sid=CA", "status=200"},
		{`msg="functions: executed"`, "path=/voice/choice", "call_sid=CA", "status=200"},
		{`msg="function: caller +15550001111 pressed 1"`, "function_sid=ZH", "request_sid=RQ", "call_sid=CA"},
	} {
		if !logLine(logs, want...) {
			t.Errorf("no log line has %q", want)
		}
	}
	audio := decode(peer.packets(), 0)
	best := 0.0
	for i := 0; i+4000 <= len(audio); i += 2000 {
		best = max(best, goertzelFraction(audio[i:i+4000], 880))
	}
	if best < 0.8 {
		t.Errorf("the caller never heard the 880 Hz asset (best half-second: %.2f of the energy)", best)
	}
	// The protected function refuses a request without the signature.
	resp, err := http.PostForm(g.httpURL+"/fn/ivr/voice/choice", url.Values{"Digits": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request to a protected function: %d, want 401", resp.StatusCode)
	}
}

// TestFunctionPlacesCall: an async function calls
// context.getTwilioClient().calls.create, which reaches this gateway's
// REST API and places a real call to a SIPp UAS whose TwiML is another
// function.
func TestFunctionPlacesCall(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	g := startGateway(t, gatewayOpts{voiceURL: "/fn/ivr/voice/menu", extraYAML: ttsVoices + functionsYAML(t)})
	g.deployFunctions(t, "ivr", "project")
	resp, err := http.PostForm(g.httpURL+"/fn/ivr/call", url.Values{
		"To": {fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)}, "From": {"+15550001111"}, "Url": {g.httpURL + "/fn/ivr/text?name=callee"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct{ Sid, Status, Error string }
	if err := json.Unmarshal(body, &got); err != nil || !strings.HasPrefix(got.Sid, "CA") || got.Status != "queued" {
		t.Fatalf("the function answered %d %s\n%s", resp.StatusCode, body, g.Logs())
	}
	deadline := time.Now().Add(20 * time.Second)
	for !logLine(g.Logs(), `msg="functions: executed"`, "path=/text", "call_sid="+got.Sid, "status=200") {
		if time.Now().After(deadline) {
			t.Fatalf("the placed call never fetched its TwiML function\n%s", g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !logLine(g.Logs(), `msg="function: placed call `+got.Sid+`"`, "path=/call") {
		t.Errorf("the async function's console.log is missing")
	}
	// The call ends after speaking the function's text.
	for status := ""; status != "completed"; {
		req, _ := http.NewRequest(http.MethodGet, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Calls/"+got.Sid+".json", nil)
		req.SetBasicAuth(testAccountSID, testAuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		status = c.Status
		if time.Now().After(deadline) {
			t.Fatalf("call status %q, want completed", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestStudioRunFunctionSteersSplit: a Studio flow's run-function widget
// names a deployed function by its SID (the url is an exported flow's
// twil.io placeholder); the JSON it answers steers a split. The flow
// needs the SID, so the gateway is deployed to, stopped and started again
// with the flow on the same storage (the deployment comes back warm).
func TestStudioRunFunctionSteersSplit(t *testing.T) {
	storage := t.TempDir()
	g := startGateway(t, gatewayOpts{voiceURL: "/unused", storageDir: storage, extraYAML: functionsYAML(t)})
	g.deployFunctions(t, "router", "project")
	fnSID := functionSID(t, g, "router", "/router")
	g.stop(t)

	a := newApp(t)
	a.handle("/standard", func(webhookRequest) (int, string, string) { return 200, "application/json", `{}` })
	a.handle("/vip", func(webhookRequest) (int, string, string) { return 200, "application/json", `{}` })
	flow := filepath.Join(t.TempDir(), "flow.json")
	doc := strings.NewReplacer("APP", a.url(""), "FNSID", fnSID).Replace(routerFlow)
	if err := os.WriteFile(flow, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	g2 := startGateway(t, gatewayOpts{flow: flow, storageDir: storage, extraYAML: ttsVoices + functionsYAML(t)})
	peer := newRTPPeer(t)
	if msg := <-g2.waitingCaller(t, peer, "caller: ", 30*time.Second); msg != "" {
		t.Fatalf("%s\n%s", msg, g2.Logs())
	}
	got := a.waitRequests(t, "/standard", 1, 5*time.Second)[0]
	if got.Form.Get("tier") != "standard" || got.Form.Get("status") != "200" {
		t.Errorf("the standard branch got %v", got.Form)
	}
	if n := len(a.requests("/vip")); n != 0 {
		t.Errorf("the vip branch ran %d times", n)
	}
	if !logLine(g2.Logs(), `msg="functions: executed"`, "path=/router", "status=200") {
		t.Errorf("the function did not run\n%s", g2.Logs())
	}
}

// routerFlow: run-function (by SID) → split on parsed.tier → an HTTP
// widget per branch → goodbye.
const routerFlow = `{
  "description": "run-function steers a split",
  "initial_state": "Trigger",
  "flags": { "allow_concurrent_calls": true },
  "states": [
    { "name": "Trigger", "type": "trigger", "properties": { "offset": { "x": 0, "y": 0 } },
      "transitions": [ { "event": "incomingMessage" }, { "event": "incomingCall", "next": "fn" }, { "event": "incomingRequest" } ] },
    { "name": "fn", "type": "run-function",
      "properties": { "service_sid": "", "environment_sid": "", "function_sid": "FNSID", "url": "https://router-1234.twil.io/router",
        "parameters": [ { "key": "caller", "value": "{{trigger.call.From}}" } ] },
      "transitions": [ { "event": "success", "next": "tier" }, { "event": "fail", "next": "bye" } ] },
    { "name": "tier", "type": "split-based-on", "properties": { "input": "{{widgets.fn.parsed.tier}}" },
      "transitions": [
        { "event": "noMatch", "next": "bye" },
        { "event": "match", "next": "standard", "conditions": [ { "friendly_name": "standard", "arguments": ["{{widgets.fn.parsed.tier}}"], "type": "equal_to", "value": "standard" } ] },
        { "event": "match", "next": "vip", "conditions": [ { "friendly_name": "vip", "arguments": ["{{widgets.fn.parsed.tier}}"], "type": "equal_to", "value": "vip" } ] } ] },
    { "name": "standard", "type": "make-http-request",
      "properties": { "method": "GET", "content_type": "application/x-www-form-urlencoded;charset=utf-8", "url": "APP/standard?tier={{widgets.fn.parsed.tier}}&status={{widgets.fn.status_code}}" },
      "transitions": [ { "event": "success", "next": "bye" }, { "event": "failed", "next": "bye" } ] },
    { "name": "vip", "type": "make-http-request",
      "properties": { "method": "GET", "content_type": "application/x-www-form-urlencoded;charset=utf-8", "url": "APP/vip" },
      "transitions": [ { "event": "success", "next": "bye" }, { "event": "failed", "next": "bye" } ] },
    { "name": "bye", "type": "say-play", "properties": { "say": "Goodbye.", "loop": 1 }, "transitions": [ { "event": "audioComplete" } ] }
  ]
}`

// functionSID asks the Serverless API for the SID of service's function
// at path.
func functionSID(t *testing.T, g *gateway, service, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.httpURL+"/v1/Services/"+service+"/Functions?PageSize=100", nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Functions []struct {
			Sid          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"functions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	for _, f := range list.Functions {
		if f.FriendlyName == path {
			return f.Sid
		}
	}
	t.Fatalf("no function %s in %+v", path, list)
	return ""
}

// logLine reports whether one line of logs has every part.
func logLine(logs string, parts ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		line += " "
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}
