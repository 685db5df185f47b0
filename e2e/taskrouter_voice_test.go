package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// trPost POSTs a form to the TaskRouter API and decodes the JSON answer.
func trPost(t *testing.T, g *gateway, path string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.httpURL+"/v1/Workspaces"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

// sipWorkerWorkspace creates over REST a workspace with a support queue,
// a workflow sending type == 'support' there, and an available worker
// whose contact_uri is a baresip phone (auto-answer). It returns the
// workspace and workflow SIDs.
func sipWorkerWorkspace(t *testing.T, g *gateway) (string, string) {
	t.Helper()
	callee, _ := baresipCallee(t, 600)
	ws := trPost(t, g, "", url.Values{"FriendlyName": {"voice"}})["sid"].(string)
	q := trPost(t, g, "/"+ws+"/TaskQueues", url.Values{"FriendlyName": {"support"}, "TargetWorkers": {"skills HAS 'support'"}})["sid"].(string)
	cfg := fmt.Sprintf(`{"task_routing":{"filters":[{"expression":"type == 'support'","targets":[{"queue":%q}]}]}}`, q)
	workflow := trPost(t, g, "/"+ws+"/Workflows", url.Values{"FriendlyName": {"support"}, "Configuration": {cfg}})["sid"].(string)
	var acts struct {
		Activities []struct {
			Sid          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"activities"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Activities?FriendlyName=Available", &acts)
	attrs := fmt.Sprintf(`{"skills":["support"],"contact_uri":"sip:judge@127.0.0.1:%d"}`, callee)
	trPost(t, g, "/"+ws+"/Workers", url.Values{"FriendlyName": {"judge"}, "Attributes": {attrs}, "ActivitySid": {acts.Activities[0].Sid}})
	return ws, workflow
}

// callerHangsUpAfter runs a SIPp caller in the background that hangs up
// after ms milliseconds.
func callerHangsUpAfter(t *testing.T, g *gateway, ms int) <-chan string {
	peer := newRTPPeer(t)
	done := make(chan string, 1)
	go func() {
		code, out := g.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pause_ms": fmt.Sprint(ms)}, 30*time.Second)
		if code != 0 {
			done <- fmt.Sprintf("caller: sipp exit %d\n%s", code, out)
			return
		}
		done <- ""
	}()
	return done
}

type trTask struct {
	Sid              string `json:"sid"`
	AssignmentStatus string `json:"assignment_status"`
	Attributes       string `json:"attributes"`
	Priority         int    `json:"priority"`
}

// dequeueOnlyTask waits for the workspace's one task to be reserved,
// accepts its reservation with Instruction=dequeue and waits until the
// caller is bridged.
func dequeueOnlyTask(t *testing.T, g *gateway, ws string) trTask {
	t.Helper()
	var tasks struct {
		Tasks []trTask `json:"tasks"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(tasks.Tasks) == 0 || tasks.Tasks[0].AssignmentStatus != "reserved" {
		if time.Now().After(deadline) {
			t.Fatalf("tasks %+v\n%s", tasks, g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
		getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks", &tasks)
	}
	task := tasks.Tasks[0]
	var res struct {
		Reservations []struct{ Sid string } `json:"reservations"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task.Sid+"/Reservations", &res)
	trPost(t, g, "/"+ws+"/Tasks/"+task.Sid+"/Reservations/"+res.Reservations[0].Sid, url.Values{"Instruction": {"dequeue"}})
	for !strings.Contains(g.Logs(), "ivr: caller bridged to the worker") {
		if time.Now().After(deadline) {
			t.Fatalf("the caller was not bridged\n%s", g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return task
}

// TestEnqueueWorkflowBridgesSIPWorker: a SIPp caller runs <Enqueue
// workflowSid> with a <Task>; the task is routed by a skills-based
// workflow to a worker whose contact_uri is a SIP phone (baresip,
// auto-answer); the caller hears the wait URL until the reservation is
// accepted over REST, then is bridged to the phone. When the caller hangs
// up the task goes to wrapping and the Enqueue action is told
// QueueResult=bridged with the TaskSid.
func TestEnqueueWorkflowBridgesSIPWorker(t *testing.T) {
	a := newApp(t)
	var workflow string
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Enqueue workflowSid="` + workflow + `" waitUrl="/wait" action="/after">` +
			`<Task priority="5" timeout="300">{"type":"support","language":"en"}</Task></Enqueue></Response>`
	})
	a.twiml("/wait", `<Response><Say>Please hold for the next agent.</Say></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	var ws string
	ws, workflow = sipWorkerWorkspace(t, g)

	sippDone := callerHangsUpAfter(t, g, 7000) // hangs up in the middle of the bridge
	a.waitRequests(t, "/wait", 1, 15*time.Second)
	task := dequeueOnlyTask(t, g, ws)
	if task.Priority != 5 || !strings.Contains(task.Attributes, `"call_sid":"CA`) || !strings.Contains(task.Attributes, `"type":"support"`) {
		t.Errorf("task %+v", task)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)[0]
	if after.Form.Get("QueueResult") != "bridged" || after.Form.Get("TaskSid") != task.Sid {
		t.Errorf("action %v", after.Form)
	}
	var tv trTask
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task.Sid, &tv)
	if tv.AssignmentStatus != "wrapping" {
		t.Errorf("task after the call: %s", tv.AssignmentStatus)
	}
}

// TestStudioSendToFlexBridgesSIPWorker: a Studio flow (created with the
// v2 API) whose send-to-flex widget renders the task attributes with
// Liquid sends the caller through the workflow to the SIP worker.
func TestStudioSendToFlexBridgesSIPWorker(t *testing.T) {
	a := newApp(t)
	var flowURL string
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Redirect>` + flowURL + `</Redirect></Response>`
	})
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	ws, workflow := sipWorkerWorkspace(t, g)
	def := `{"description": "flex", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true}, "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}}, "transitions": [{"event": "incomingCall", "next": "flex"}]},
	  {"name": "flex", "type": "send-to-flex", "properties": {"workflow": "` + workflow + `", "channel": "TC00000000000000000000000000000000",
	    "attributes": "{\"type\": \"support\", \"name\": \"{{trigger.call.From}}\"}", "priority": "4", "timeout": "600"},
	   "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}]}]}`
	code, flow := v2(t, g, "POST", "Flows", url.Values{"FriendlyName": {"flex"}, "Status": {"published"}, "Definition": {def}})
	if code != 201 {
		t.Fatalf("create flow: %d %v", code, flow)
	}
	flowURL = flow["webhook_url"].(string)
	sippDone := callerHangsUpAfter(t, g, 6000)
	task := dequeueOnlyTask(t, g, ws)
	if task.Priority != 4 || !strings.Contains(task.Attributes, `"name":"+15550001111"`) {
		t.Errorf("task %+v", task)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
}
