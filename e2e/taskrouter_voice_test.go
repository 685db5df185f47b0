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

// TestEnqueueWorkflowBridgesSIPWorker: a SIPp caller runs <Enqueue
// workflowSid> with a <Task>; the task is routed by a skills-based
// workflow to a worker whose contact_uri is a SIP phone (baresip,
// auto-answer); the caller hears the wait URL until the reservation is
// accepted over REST, then is bridged to the phone. When the caller hangs
// up the task goes to wrapping and the Enqueue action is told
// QueueResult=bridged with the TaskSid.
func TestEnqueueWorkflowBridgesSIPWorker(t *testing.T) {
	callee, _ := baresipCallee(t, 600)
	a := newApp(t)
	var workflow string
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Enqueue workflowSid="` + workflow + `" waitUrl="/wait" action="/after">` +
			`<Task priority="5" timeout="300">{"type":"support","language":"en"}</Task></Enqueue></Response>`
	})
	a.twiml("/wait", `<Response><Say>Please hold for the next agent.</Say></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})

	ws := trPost(t, g, "", url.Values{"FriendlyName": {"voice"}})["sid"].(string)
	q := trPost(t, g, "/"+ws+"/TaskQueues", url.Values{"FriendlyName": {"support"}, "TargetWorkers": {"skills HAS 'support'"}})["sid"].(string)
	cfg := fmt.Sprintf(`{"task_routing":{"filters":[{"expression":"type == 'support'","targets":[{"queue":%q}]}]}}`, q)
	workflow = trPost(t, g, "/"+ws+"/Workflows", url.Values{"FriendlyName": {"support"}, "Configuration": {cfg}})["sid"].(string)
	var avail string
	var acts struct {
		Activities []struct {
			Sid          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"activities"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Activities", &acts)
	for _, x := range acts.Activities {
		if x.FriendlyName == "Available" {
			avail = x.Sid
		}
	}
	attrs := fmt.Sprintf(`{"skills":["support"],"contact_uri":"sip:judge@127.0.0.1:%d"}`, callee)
	trPost(t, g, "/"+ws+"/Workers", url.Values{"FriendlyName": {"judge"}, "Attributes": {attrs}, "ActivitySid": {avail}})

	// The caller stays 7 s, then hangs up (in the middle of the bridge).
	peer := newRTPPeer(t)
	sippDone := make(chan string, 1)
	go func() {
		code, out := g.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pause_ms": "7000"}, 30*time.Second)
		if code != 0 {
			sippDone <- fmt.Sprintf("caller: sipp exit %d\n%s", code, out)
			return
		}
		sippDone <- ""
	}()
	a.waitRequests(t, "/wait", 1, 15*time.Second)

	var tasks struct {
		Tasks []struct {
			Sid              string `json:"sid"`
			AssignmentStatus string `json:"assignment_status"`
			Attributes       string `json:"attributes"`
			Priority         int    `json:"priority"`
		} `json:"tasks"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks", &tasks)
	if len(tasks.Tasks) != 1 || tasks.Tasks[0].AssignmentStatus != "reserved" || tasks.Tasks[0].Priority != 5 ||
		!strings.Contains(tasks.Tasks[0].Attributes, `"call_sid":"CA`) || !strings.Contains(tasks.Tasks[0].Attributes, `"type":"support"`) {
		t.Fatalf("tasks %+v", tasks)
	}
	task := tasks.Tasks[0].Sid
	var res struct {
		Reservations []struct{ Sid string } `json:"reservations"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task+"/Reservations", &res)
	trPost(t, g, "/"+ws+"/Tasks/"+task+"/Reservations/"+res.Reservations[0].Sid, url.Values{"Instruction": {"dequeue"}})

	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(g.Logs(), "ivr: caller bridged to the worker") {
		if time.Now().After(deadline) {
			t.Fatalf("the caller was not bridged\n%s", g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)[0]
	if after.Form.Get("QueueResult") != "bridged" || after.Form.Get("TaskSid") != task {
		t.Errorf("action %v", after.Form)
	}
	var tv struct {
		AssignmentStatus string `json:"assignment_status"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task, &tv)
	if tv.AssignmentStatus != "wrapping" {
		t.Errorf("task after the call: %s", tv.AssignmentStatus)
	}
}
