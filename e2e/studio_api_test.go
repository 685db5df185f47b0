package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// v2 calls the Studio v2 API with the account's credentials.
func v2(t *testing.T, g *gateway, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, g.httpURL+"/v2/"+path, strings.NewReader(form.Encode()))
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
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return res.StatusCode, out
}

const apiFlow = `{
  "description": "REST-started flow", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
     "transitions": [{"event": "incomingCall", "next": "hello"}, {"event": "incomingRequest", "next": "call"}]},
    {"name": "call", "type": "make-outgoing-call-v2", "properties": {"to": "{{contact.channel.address}}", "from": "{{flow.channel.address}}"},
     "transitions": [{"event": "answered", "next": "hello"}]},
    {"name": "hello", "type": "say-play", "properties": {"say": "Hello {{flow.data.name}}, this is a reminder."},
     "transitions": [{"event": "audioComplete"}]}
  ]}`

// TestStudioRESTFlowAndExecution: a flow created with POST /v2/Flows is
// started with POST /v2/Flows/{Sid}/Executions; its make-outgoing-call-v2
// calls a SIPp UAS;
// the execution's steps and context are readable and it ends with the call.
func TestStudioRESTFlowAndExecution(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused", extraYAML: ttsVoices})

	if code, bad := v2(t, g, "POST", "Flows", url.Values{"FriendlyName": {"bad"}, "Status": {"published"}, "Definition": {`{"states": []}`}}); code != 400 {
		t.Errorf("an invalid flow got %d %v, want 400", code, bad)
	}
	code, flow := v2(t, g, "POST", "Flows", url.Values{"FriendlyName": {"reminder"}, "Status": {"published"}, "Definition": {apiFlow}})
	if code != 201 {
		t.Fatalf("create flow: %d %v", code, flow)
	}
	flowSID := flow["sid"].(string)
	if !strings.HasSuffix(flow["webhook_url"].(string), "/studio/"+flowSID) {
		t.Errorf("webhook_url %v", flow["webhook_url"])
	}
	code, ex := v2(t, g, "POST", "Flows/"+flowSID+"/Executions", url.Values{
		"To": {fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)}, "From": {"+15550001111"}, "Parameters": {`{"name": "Ada"}`},
	})
	if code != 200 && code != 201 {
		t.Fatalf("create execution: %d %v", code, ex)
	}
	exSID := ex["sid"].(string)
	deadline := time.Now().Add(30 * time.Second)
	var status string
	for time.Now().Before(deadline) {
		_, e := v2(t, g, "GET", "Flows/"+flowSID+"/Executions/"+exSID, nil)
		if status, _ = e["status"].(string); status == "ended" {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if status != "ended" {
		t.Fatalf("execution status %q, want ended once the flow hung up", status)
	}
	_, steps := v2(t, g, "GET", "Flows/"+flowSID+"/Executions/"+exSID+"/Steps", nil)
	list, _ := steps["steps"].([]any)
	if len(list) == 0 {
		t.Fatalf("no steps recorded: %v", steps)
	}
	_, ctx := v2(t, g, "GET", "Flows/"+flowSID+"/Executions/"+exSID+"/Context", nil)
	if !strings.Contains(fmt.Sprint(ctx["context"]), "Ada") {
		t.Errorf("execution context lacks flow.data: %v", ctx["context"])
	}
	if !strings.Contains(g.Logs(), "outbound call answered") {
		t.Errorf("the execution's outbound call was never answered")
	}
}
