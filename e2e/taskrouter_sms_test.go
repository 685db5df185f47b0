package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging/smpp/smsctest"
)

// smsFlexFlow greets the contact and sends the conversation to Flex
// through workflow.
func smsFlexFlow(workflow string) string {
	return `{"description": "SMS to Flex", "initial_state": "Trigger", "states": [
  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
   "transitions": [{"event": "incomingMessage", "next": "greet"}, {"event": "incomingCall"}, {"event": "incomingRequest"}]},
  {"name": "greet", "type": "send-message", "properties": {"body": "Connecting you to an agent."},
   "transitions": [{"event": "sent", "next": "flex"}, {"event": "failed"}]},
  {"name": "flex", "type": "send-to-flex", "properties": {"workflow": "` + workflow + `", "channel": "TC00000000000000000000000000000000",
    "attributes": "{\"queue\": \"support\", \"first_message\": \"{{trigger.message.Body}}\"}"},
   "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}]}]}`
}

// defaultWorkflow reads the SIDs of the "Voxgate" workspace and its
// "Voxgate queues" workflow.
func defaultWorkflow(t *testing.T, g *gateway) (ws, wf string) {
	t.Helper()
	var wss struct {
		Workspaces []struct{ Sid string } `json:"workspaces"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces?FriendlyName=Voxgate", &wss)
	if len(wss.Workspaces) != 1 {
		t.Fatalf("workspaces %+v", wss)
	}
	var wfs struct {
		Workflows []struct{ Sid string } `json:"workflows"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+wss.Workspaces[0].Sid+"/Workflows?FriendlyName="+url.QueryEscape("Voxgate queues"), &wfs)
	if len(wfs.Workflows) != 1 {
		t.Fatalf("workflows %+v", wfs)
	}
	return wss.Workspaces[0].Sid, wfs.Workflows[0].Sid
}

// textsTo waits for n submit_sm to a handset and returns their texts.
func textsTo(t *testing.T, smsc *smsctest.SMSC, to string, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var out []string
		for _, e := range smsc.Events("submit_sm") {
			if e.Str("to") == to {
				out = append(out, e.Str("text"))
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("texts to %s: %q, want %d", to, out, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestChromiumAgentTakesSMSFromFlex: a handset texts the gateway through
// the fake SMSC; the number's Studio messaging flow greets it and its
// send-to-flex hands the conversation to TaskRouter as an sms task; an
// agent on the /agent desktop in headless Chromium accepts the
// reservation, sees the message and replies; the reply reaches the SMSC
// as submit_sm to the handset; the handset's next message appears on the
// desktop (not in a new flow execution); the agent completes the task and
// the handset's next message starts the flow again.
func TestChromiumAgentTakesSMSFromFlex(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	a := newApp(t)
	storage := t.TempDir()
	// The default workspace's SIDs stay across restarts: read the
	// workflow's, then start the gateway again with a flow naming it.
	g0 := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: agentYAML, storageDir: storage})
	ws, workflow := defaultWorkflow(t, g0)
	g0.stop(t)
	flowFile := filepath.Join(t.TempDir(), "sms_flex.json")
	if err := os.WriteFile(flowFile, []byte(smsFlexFlow(workflow)), 0o644); err != nil {
		t.Fatal(err)
	}
	smsc := smsctest.Start(t)
	yaml := fmt.Sprintf(`  - number: %q
    flow: %q
trunks:
  - name: carrier
    messaging: smpp
    smpp:
      host: %s
      system_id: voxgate
      password: secret
`, smsNumber, flowFile, smsc.Addr) + agentYAML
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: yaml, storageDir: storage})
	smsc.WaitEvents(t, "bind_transceiver", 1, 10*time.Second)
	handset, ours := strings.TrimPrefix(smsMobile, "+"), strings.TrimPrefix(smsNumber, "+")

	smsc.MO(t, handset, ours, "My parcel is late", 1, false)
	if got := textsTo(t, smsc, handset, 1, 15*time.Second); got[0] != "Connecting you to an agent." {
		t.Fatalf("greeting %q", got)
	}
	const reply = "Sorry! Checking your parcel now"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_sms.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1", "REPLY="+reply)
	var stdout, stderr syncBuilder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nodeDone := make(chan error, 1)
	go func() { nodeDone <- cmd.Wait() }()
	// The agent's reply reaches the SMSC; then the handset writes again.
	deadline := time.Now().Add(40 * time.Second)
	for {
		texts := textsTo(t, smsc, handset, 1, time.Second)
		if len(texts) >= 2 {
			if texts[1] != reply {
				t.Fatalf("texts to the handset %q, want the agent's reply second", texts)
			}
			break
		}
		select {
		case err := <-nodeDone:
			t.Fatalf("agent_sms.js ended before the reply reached the SMSC: %v\n%s\n%s", err, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's reply never reached the SMSC; texts %q\n%s", texts, stderr.String())
		}
	}
	smsc.MO(t, handset, ours, "It was due on Monday", 1, false)
	if err := <-nodeDone; err != nil {
		t.Fatalf("agent_sms.js: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	_, line, ok := strings.Cut(stdout.String(), "RESULT ")
	if !ok {
		t.Fatalf("no RESULT in %q (stderr %s)", stdout.String(), stderr.String())
	}
	var res struct {
		TaskSid, CardTitle, FirstSeen, ReplyShown, AgentAfter string
		ContactLines                                          []string
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.TaskSid, "WT") || !strings.Contains(res.CardTitle, smsMobile) || !strings.Contains(res.FirstSeen, "My parcel is late") ||
		!strings.Contains(res.ReplyShown, reply) || len(res.ContactLines) != 2 || !strings.Contains(res.ContactLines[1], "It was due on Monday") ||
		!strings.Contains(res.AgentAfter, "No tasks") {
		t.Errorf("desktop: %+v", res)
	}
	// The task in the REST API: an sms task through the workflow, completed.
	var task struct {
		AssignmentStatus string `json:"assignment_status"`
		Channel          string `json:"task_channel_unique_name"`
		Queue            string `json:"task_queue_friendly_name"`
		Workflow         string `json:"workflow_sid"`
		Attributes       string `json:"attributes"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+res.TaskSid, &task)
	var attrs map[string]any
	_ = json.Unmarshal([]byte(task.Attributes), &attrs)
	if task.AssignmentStatus != "completed" || task.Channel != "sms" || task.Queue != "support" || task.Workflow != workflow ||
		attrs["channelType"] != "sms" || attrs["from"] != smsMobile || attrs["to"] != smsNumber || attrs["first_message"] != "My parcel is late" ||
		!strings.HasPrefix(fmt.Sprint(attrs["conversation_sid"]), "CH") {
		t.Errorf("task %+v", task)
	}
	// The reply is an outbound message like any other.
	var list struct {
		Messages []struct{ Body, Direction, From string } `json:"messages"`
	}
	g.rest(t, "GET", "/Messages.json?To="+url.QueryEscape(smsMobile), nil, &list)
	found := false
	for _, m := range list.Messages {
		found = found || m.Body == reply && m.Direction == "outbound-api" && m.From == smsNumber
	}
	if !found {
		t.Errorf("the reply is not in the Messages API: %+v", list.Messages)
	}
	// The conversation is over: the handset's next message runs the flow again.
	smsc.MO(t, handset, ours, "Thanks", 1, false)
	if got := textsTo(t, smsc, handset, 3, 15*time.Second); got[2] != "Connecting you to an agent." {
		t.Errorf("after the task: texts %q", got)
	}
}
