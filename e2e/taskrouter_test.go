package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTwilioNodeTaskRouter runs e2e/sdk/twilio_taskrouter.js (the twilio
// npm package's TaskRouter client, unchanged) against the gateway:
// workspaces, queues, a skills-based workflow, a worker, a task routed,
// accepted and completed, lists of tasks, workers and events, bad
// expressions refused with their position, and the workspace's event
// callback.
func TestTwilioNodeTaskRouter(t *testing.T) {
	if _, err := os.Stat(filepath.Join("sdk", "node_modules", "twilio", "package.json")); err != nil {
		t.Fatalf("the twilio npm package is not installed: run `make deps-test` (npm --prefix e2e/sdk install)")
	}
	a := newApp(t)
	a.handle("/events", func(webhookRequest) (int, string, string) { return 204, "", "" })
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	cmd := exec.Command("node", "twilio_taskrouter.js")
	cmd.Dir = "sdk"
	cmd.Env = append(os.Environ(), "BASE="+g.httpURL, "SID="+testAccountSID, "TOKEN="+testAuthToken, "EVENTS="+a.url("/events"))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("twilio_taskrouter.js: %v\n%s\n%s", err, out, stderr)
	}
	type apiErr struct {
		Status, Code int
		Message      string
	}
	var res struct {
		Workspace struct {
			Sid                 string
			MultiTaskEnabled    bool
			DefaultActivityName string
		}
		Activities, Channels []string
		Queue                struct {
			TargetWorkers, TaskOrder string
			MaxReservedWorkers       int
		}
		BadQueue, BadWorkflow apiErr
		Workflow              struct {
			Sid                    string
			TaskReservationTimeout int
			Configuration          map[string]any
		}
		Worker struct {
			ActivityName string
			Available    bool
		}
		ChatCapacity int
		Created      struct {
			Status, Queue, Channel string
			Priority               int
		}
		Reservations       []struct{ Status, Worker string }
		Assigned           string
		WorkerReservations []string
		Completed          struct{ Status, Reason string }
		Other              struct{ Status, Queue string }
		Canceled           struct{ Status, Reason string }
		Tasks              int
		CompletedTasks     []string
		TaskSid            string
		Workers            []string
		Events             []string
		Event              struct {
			Type, ResourceType string
			HasData            bool
		}
		NotFound struct{ Status, Code int }
		Listed   bool
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: twilio-node saw %s", what, out)
		}
	}
	check("workspace", strings.HasPrefix(res.Workspace.Sid, "WS") && res.Workspace.MultiTaskEnabled && res.Workspace.DefaultActivityName == "Offline")
	check("activities", slices.Equal(res.Activities, []string{"Available", "Break", "Offline", "Unavailable"}))
	check("channels", slices.Contains(res.Channels, "voice") && slices.Contains(res.Channels, "chat") && slices.Contains(res.Channels, "sms") && slices.Contains(res.Channels, "default"))
	check("queue", res.Queue.TargetWorkers == "routing.skills HAS 'support'" && res.Queue.TaskOrder == "FIFO" && res.Queue.MaxReservedWorkers == 1)
	check("bad queue", res.BadQueue.Status == 400 && res.BadQueue.Code == 20001 && strings.Contains(res.BadQueue.Message, "position 19"))
	check("bad workflow", res.BadWorkflow.Status == 400 && res.BadWorkflow.Code == 20001 &&
		strings.Contains(res.BadWorkflow.Message, "task_routing.filters[0].expression: position 29"))
	check("workflow", res.Workflow.TaskReservationTimeout == 60 && res.Workflow.Configuration["task_routing"] != nil)
	check("worker", res.Worker.ActivityName == "Available" && res.Worker.Available && res.ChatCapacity == 3)
	check("created", res.Created.Status == "reserved" && res.Created.Queue == "support" && res.Created.Priority == 5 && res.Created.Channel == "voice")
	check("reservations", len(res.Reservations) == 1 && res.Reservations[0].Status == "pending" && res.Reservations[0].Worker == "alice")
	check("assigned", res.Assigned == "assigned" && slices.Equal(res.WorkerReservations, []string{"accepted"}))
	check("completed", res.Completed.Status == "completed" && res.Completed.Reason == "resolved")
	check("default filter", res.Other.Status == "reserved" && res.Other.Queue == "everyone") // alice has room on the default channel
	check("canceled", res.Canceled.Status == "canceled" && res.Canceled.Reason == "caller hung up")
	check("lists", res.Tasks == 2 && slices.Equal(res.CompletedTasks, []string{res.TaskSid}) && slices.Equal(res.Workers, []string{"alice"}) && res.Listed)
	for _, ev := range []string{"task.created", "workflow.target-matched", "task-queue.entered", "reservation.created", "reservation.accepted", "task.wrapup", "task.completed", "reservation.completed"} {
		check("event "+ev, slices.Contains(res.Events, ev))
	}
	check("event fetch", res.Event.Type != "" && res.Event.ResourceType != "" && res.Event.HasData)
	check("404", res.NotFound.Status == 404 && res.NotFound.Code == 20404)

	// The workspace's event callback got the same story, signed.
	deadline := time.Now().Add(10 * time.Second)
	var types []string
	for time.Now().Before(deadline) {
		types = types[:0]
		for _, r := range a.requests("/events") {
			if r.Form.Get("TaskSid") == res.TaskSid {
				types = append(types, r.Form.Get("EventType"))
				if r.Form.Get("WorkspaceSid") != res.Workspace.Sid || r.Signature != expectedSignature(testAuthToken, r.URL, r.Form, true) {
					t.Fatalf("event callback %v signature %q", r.Form, r.Signature)
				}
			}
		}
		if slices.Contains(types, "task.completed") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Contains(types, "reservation.accepted") || !slices.Contains(types, "task.completed") {
		t.Errorf("event callbacks for the task: %v", types)
	}
}
