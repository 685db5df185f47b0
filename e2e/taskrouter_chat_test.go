package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestChromiumAgentChatsWithVisitor: in headless Chromium, a visitor
// opens the gateway's /webchat widget and writes; the chat becomes a
// TaskRouter chat task routed to the agent's queue; the agent on the
// /agent desktop accepts the reservation, reads the message, replies
// (the visitor sees it) and completes the task (the visitor sees the
// chat end). The task is then completed in the REST API.
func TestChromiumAgentChatsWithVisitor(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	a := newApp(t)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: agentYAML + "webchat:\n  queue: support\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "agent_chat.js")
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1")
	var stderr syncBuilder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("agent_chat.js: %v\n%s\n%s", err, out, stderr.String())
	}
	_, line, ok := strings.Cut(string(out), "RESULT ")
	if !ok {
		t.Fatalf("no RESULT in %q (stderr %s)", out, stderr.String())
	}
	var res struct{ TaskSid, CardTitle, AgentSaw, VisitorSaw, VisitorStatus, AgentAfter string }
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.TaskSid, "WT") || !strings.Contains(res.CardTitle, "Vera") ||
		!strings.Contains(res.AgentSaw, "Hello, my parcel is late") || !strings.Contains(res.VisitorSaw, "Sorry about that, checking now") ||
		!strings.Contains(res.VisitorStatus, "ended") || !strings.Contains(res.AgentAfter, "No tasks") {
		t.Errorf("chat: %+v", res)
	}
	// The REST API tells the same story.
	var list struct {
		Workspaces []struct {
			Sid          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"workspaces"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces?FriendlyName=Voxgate", &list)
	if len(list.Workspaces) != 1 {
		t.Fatalf("workspaces %+v", list)
	}
	var task struct {
		AssignmentStatus string `json:"assignment_status"`
		Channel          string `json:"task_channel_unique_name"`
		Queue            string `json:"task_queue_friendly_name"`
		Attributes       string `json:"attributes"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+list.Workspaces[0].Sid+"/Tasks/"+res.TaskSid, &task)
	if task.AssignmentStatus != "completed" || task.Channel != "chat" || task.Queue != "support" || !strings.Contains(task.Attributes, `"conversation_sid":"CH`) {
		t.Errorf("task %+v", task)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
