package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webchatFlowJSON is a Flex-style Webchat Flow: it asks the visitor
// whether the chat is about sales or support, routes by the answer and
// sends the chat to Flex (workflow) with the queue chosen.
func webchatFlowJSON(workflow string) string {
	flex := func(name, queue string) string {
		return `{"name": "` + name + `", "type": "send-to-flex", "properties": {"workflow": "` + workflow + `", "channel": "TC00000000000000000000000000000000",
	    "attributes": "{\"queue\": \"` + queue + `\", \"name\": \"{{trigger.message.ChannelAttributes.from}}\", \"question\": \"{{trigger.message.Body}}\", \"answer\": \"{{widgets.ask.inbound.Body}}\"}"},
	   "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}]}`
	}
	return `{"description": "Webchat Flow", "initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
	   "transitions": [{"event": "incomingMessage", "next": "ask"}, {"event": "incomingCall"}, {"event": "incomingRequest"}]},
	  {"name": "ask", "type": "send-and-wait-for-reply", "properties": {"body": "Hi {{trigger.message.ChannelAttributes.from}}! Is it about sales or support?", "timeout": "600"},
	   "transitions": [{"event": "incomingMessage", "next": "route"}, {"event": "timeout"}, {"event": "deliveryFailure"}]},
	  {"name": "route", "type": "split-based-on", "properties": {"input": "{{widgets.ask.inbound.Body | downcase}}"},
	   "transitions": [{"event": "noMatch", "next": "to_support"},
	     {"event": "match", "next": "to_sales", "conditions": [{"friendly_name": "sales", "arguments": ["{{widgets.ask.inbound.Body | downcase}}"], "type": "contains", "value": "sales"}]}]},
	  {"name": "to_sales", "type": "send-message", "properties": {"body": "Connecting you to sales."},
	   "transitions": [{"event": "sent", "next": "flex_sales"}, {"event": "failed"}]},
	  {"name": "to_support", "type": "send-message", "properties": {"body": "Connecting you to support."},
	   "transitions": [{"event": "sent", "next": "flex_support"}, {"event": "failed"}]},
	  ` + flex("flex_sales", "sales") + `,
	  ` + flex("flex_support", "support") + `
	]}`
}

const salesAgentYAML = `agents:
  - id: alice
    name: Alice
    secret: alice-secret-1
    queues: [sales, support]
`

// TestChromiumWebchatFlowToAgent: with webchat.flow, a visitor's chat on
// /webchat (headless Chromium) runs the Studio Webchat Flow first: the
// flow asks a question in the chat, the visitor's answer resumes the
// waiting execution and the split routes it to sales; send-to-flex makes
// a chat task through the workflow; the agent on /agent accepts it, sees
// the whole chat, and the two chat; completing the task ends the chat.
// The task and the execution are checked in the REST API.
func TestChromiumWebchatFlowToAgent(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	a := newApp(t)
	storage := t.TempDir()
	// The default workspace's SIDs stay across restarts: read the
	// workflow's, then start the gateway again with the flow naming it.
	g0 := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: salesAgentYAML, storageDir: storage})
	ws, workflow := defaultWorkflow(t, g0)
	g0.stop(t)
	flowFile := filepath.Join(t.TempDir(), "webchat_flow.json")
	if err := os.WriteFile(flowFile, []byte(webchatFlowJSON(workflow)), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: salesAgentYAML + "webchat:\n  flow: " + flowFile + "\n", storageDir: storage})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_chat_flow.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1")
	var stderr syncBuilder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("agent_chat_flow.js: %v\n%s\n%s", err, out, stderr.String())
	}
	_, line, ok := strings.Cut(string(out), "RESULT ")
	if !ok {
		t.Fatalf("no RESULT in %q (stderr %s)", out, stderr.String())
	}
	var res struct {
		Question, TaskSid, CardTitle, VisitorSaw, VisitorStatus string
		BotLines, AgentLines                                    []string
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatal(err)
	}
	wantAgent := []string{"visitor: Hello, I have a question", "bot: Hi Vera! Is it about sales or support?", "visitor: Sales, please",
		"bot: Connecting you to sales.", "alice joined the chat", "alice: Hi Vera, Alice from sales", "visitor: Great, thanks"}
	if !strings.Contains(res.Question, "Hi Vera! Is it about sales or support?") || len(res.BotLines) != 2 ||
		!strings.Contains(res.BotLines[1], "Connecting you to sales.") || !strings.HasPrefix(res.TaskSid, "WT") ||
		!strings.Contains(res.CardTitle, "Vera") || !strings.Contains(res.VisitorSaw, "Hi Vera, Alice from sales") ||
		strings.Join(res.AgentLines, "|") != strings.Join(wantAgent, "|") || !strings.Contains(res.VisitorStatus, "ended") {
		t.Errorf("chat: %+v\nwant agent lines %q", res, wantAgent)
	}
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
	convSID := fmt.Sprint(attrs["conversation_sid"])
	if task.AssignmentStatus != "completed" || task.Channel != "chat" || task.Queue != "sales" || task.Workflow != workflow ||
		attrs["channelType"] != "web" || attrs["name"] != "Vera" || attrs["question"] != "Hello, I have a question" ||
		attrs["answer"] != "Sales, please" || !strings.HasPrefix(convSID, "CH") ||
		attrs["from"] != "webchat_"+strings.TrimPrefix(convSID, "CH") || attrs["to"] != convSID {
		t.Errorf("task %+v", task)
	}
}
