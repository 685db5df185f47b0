package e2e

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestChromiumAgentVoiceAndChat: one agent desktop session in headless
// Chromium holds a TaskRouter voice task and a web chat at once. A SIPp
// caller runs <Enqueue workflowSid> on the default workspace's workflow
// (task attribute queue=support); the agent accepts the reservation on
// the desktop, the page answers the call itself over WebRTC (audio both
// ways), takes a visitor's chat meanwhile and replies, hangs up, and
// completes both tasks.
func TestChromiumAgentVoiceAndChat(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	a := newApp(t)
	var workflow string
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Enqueue workflowSid="` + workflow + `" action="/after"><Task>{"queue":"support","type":"inbound"}</Task></Enqueue></Response>`
	})
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML + "webchat:\n  queue: support\n"})
	var list struct {
		Workspaces []struct {
			Sid string `json:"sid"`
		} `json:"workspaces"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces?FriendlyName=Voxgate", &list)
	var wfs struct {
		Workflows []struct {
			Sid string `json:"sid"`
		} `json:"workflows"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+list.Workspaces[0].Sid+"/Workflows?FriendlyName=Voxgate+queues", &wfs)
	workflow = wfs.Workflows[0].Sid

	waitLine, wait := pageScript(t, "agent_voice_chat.js", "BASE="+g.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1")
	waitLine("READY")
	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second)
	sippDone := g.waitingCaller(t, peer, "", 60*time.Second)
	waitLine("CONNECTED")
	resLine := waitLine("RESULT ")
	waitLine("ENDED")
	wait()
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	var res struct {
		VoiceTitle      string
		TasksDuringCall []string
		VisitorSaw      string
		Stats           struct{ PacketsReceived, PacketsSent int }
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(resLine, "RESULT ")), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.VoiceTitle, "+15550001111") || !slices.Contains(res.TasksDuringCall, "voice:accepted") ||
		!slices.Contains(res.TasksDuringCall, "chat:pending") || !strings.Contains(res.VisitorSaw, "Yes, one moment please") ||
		res.Stats.PacketsReceived < 50 || res.Stats.PacketsSent < 50 {
		t.Errorf("desktop: %+v", res)
	}
	var tasks struct {
		Tasks []struct {
			Status  string `json:"assignment_status"`
			Channel string `json:"task_channel_unique_name"`
		} `json:"tasks"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+list.Workspaces[0].Sid+"/Tasks", &tasks)
	done := map[string]string{}
	for _, tk := range tasks.Tasks {
		done[tk.Channel] = tk.Status
	}
	if len(tasks.Tasks) != 2 || done["voice"] != "completed" || done["chat"] != "completed" {
		t.Errorf("tasks after the session: %+v", tasks.Tasks)
	}
}
