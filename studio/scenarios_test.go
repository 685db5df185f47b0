package studio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/twiml"
)

func TestLegacyFlowRuns(t *testing.T) {
	h := newHarness(t, Options{})
	f := h.load(ivrSid, "testdata/legacy_flow.json", nil)
	if !f.Legacy || f.InitialState != "Trigger" || f.States[1].Type != "gather-input-on-call" || f.States[1].Next("keypress") != "enqueue_1" {
		t.Fatalf("legacy conversion: %+v", f)
	}
	if f.States[1].Properties.Has("play") || f.States[2].Properties.Has("workflow_sid") {
		t.Errorf("null properties must be dropped: %v", f.States[1].Properties)
	}
	if o, ok := f.States[1].Properties.Offset(); !ok || o.Y != 190.5 {
		t.Errorf("offset = %v, %v", o, ok)
	}
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"1"}})
	if e := verbOf[*twiml.Enqueue](t, r); e.QueueName != "support" {
		t.Fatalf("enqueue: %s", r.body)
	}
}

const subflowSid = "FW00000000000000000000000000000002"

func TestSubflowWithCallWidget(t *testing.T) {
	h := newHarness(t, Options{})
	h.loadJSON(subflowSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingParent", "next": "ask"}], "properties": {}},
	  {"name": "ask", "type": "gather-input-on-call", "transitions": [{"event": "keypress", "next": "keep"}],
	   "properties": {"say": "{{trigger.parent.parameters.question}}", "number_of_digits": 1}},
	  {"name": "keep", "type": "set-variables", "transitions": [{"event": "next"}],
	   "properties": {"variables": [{"key": "answer", "value": "{{widgets.ask.Digits}}"}, {"key": "caller", "value": "{{contact.channel.address}}"}]}}]}`, nil)
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "survey"}], "properties": {}},
	  {"name": "survey", "type": "run-subflow", "transitions": [{"event": "completed", "next": "echo"}, {"event": "failed", "next": "oops"}],
	   "properties": {"flow_sid": "`+subflowSid+`", "flow_revision": "LatestPublished", "parameters": [{"key": "question", "value": "Rate us, {{trigger.call.From}}"}]}},
	  {"name": "echo", "type": "say-play", "transitions": [], "properties": {"say": "You said {{widgets.survey.answer}} from {{widgets.survey.caller}}"}},
	  {"name": "oops", "type": "say-play", "transitions": [], "properties": {"say": "no survey"}}]}`, nil)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	g := verbOf[*twiml.Gather](t, r)
	if say := g.Children[0].(*twiml.Say).Text; say != "Rate us, +15551230001" {
		t.Fatalf("subflow prompt %q", say)
	}
	r = c.post(g.Action, url.Values{"Digits": {"4"}})
	if say := verbOf[*twiml.Say](t, r).Text; say != "You said 4 from +15551230001" {
		t.Fatalf("after the subflow: %q", say)
	}
	ex := h.execution(c.sid)
	want := []string{"Trigger -incomingCall-> survey", "Trigger -incomingParent-> ask", "ask -keypress-> keep",
		"keep -next-> Ended", "survey -completed-> echo"}
	if got := h.path(ex); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("steps:\n%s", strings.Join(got, "\n"))
	}
	steps, _ := h.store.Steps(context.Background(), ex.Sid)
	if steps[1].FlowSid != subflowSid || steps[1].ParentStepSid != steps[0].Sid || steps[4].FlowSid != ivrSid || steps[4].ParentStepSid != "" {
		t.Errorf("subflow steps: %+v", steps)
	}

	// A missing subflow takes "failed".
	h.flows.Delete(subflowSid)
	c = h.newCall("+15551230002")
	if say := verbOf[*twiml.Say](t, c.start(ivrSid)).Text; say != "no survey" {
		t.Errorf("missing subflow: %q", say)
	}
}

func redirectFlow(timeout string) string {
	return `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "ext"}], "properties": {}},
	  {"name": "ext", "type": "add-twiml-redirect", "transitions": [{"event": "return", "next": "back"}, {"event": "timeout", "next": "late"}, {"event": "fail", "next": "broken"}],
	   "properties": {"url": "https://apps.example/ivr", "timeout": "` + timeout + `"}},
	  {"name": "back", "type": "say-play", "transitions": [], "properties": {"say": "Back with {{widgets.ext.order}}"}},
	  {"name": "late", "type": "say-play", "transitions": [], "properties": {"say": "Too late"}},
	  {"name": "broken", "type": "say-play", "transitions": [], "properties": {"say": "Broken {{widgets.ext.ErrorCode}}"}}]}`
}

func TestAddTwimlRedirect(t *testing.T) {
	h := newHarness(t, Options{})
	h.loadJSON(ivrSid, redirectFlow("60"), nil)
	returnURL := h.srv.URL + "/studio/" + ivrSid + "?FlowEvent=return&order=42"

	c := h.newCall("+15551230001")
	if rd := verbOf[*twiml.Redirect](t, c.start(ivrSid)); rd.URL != "https://apps.example/ivr" || rd.Method != "POST" {
		t.Fatalf("redirect %+v", rd)
	}
	if say := verbOf[*twiml.Say](t, c.post(returnURL, nil)).Text; say != "Back with 42" {
		t.Errorf("return: %q", say)
	}

	c = h.newCall("+15551230002")
	c.start(ivrSid)
	h.clock.Advance(61 * time.Second)
	if say := verbOf[*twiml.Say](t, c.post(returnURL, nil)).Text; say != "Too late" {
		t.Errorf("late return: %q", say)
	}

	// The external TwiML failed: the engine requests the fallback URL (the flow).
	c = h.newCall("+15551230003")
	c.start(ivrSid)
	r := c.post(h.x.VoiceURL(ivrSid), url.Values{"ErrorCode": {"11200"}, "ErrorUrl": {"https://apps.example/ivr"}})
	if say := verbOf[*twiml.Say](t, r).Text; say != "Broken 11200" {
		t.Errorf("fail: %q", say)
	}

	// Timeout 0: the call leaves the flow, the execution ends.
	h.loadJSON(ivrSid, redirectFlow("0"), nil)
	c = h.newCall("+15551230004")
	c.start(ivrSid)
	if ex := h.execution(c.sid); ex.Status != StatusEnded || !strings.Contains(ex.EndReason, "handed the call") {
		t.Errorf("timeout 0: %s %q", ex.Status, ex.EndReason)
	}
}

func TestConcurrentCallsRefusedWhenTheFlowSaysSo(t *testing.T) {
	h := newHarness(t, Options{})
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "flags": {"allow_concurrent_calls": false}, "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "w"}], "properties": {}},
	  {"name": "w", "type": "gather-input-on-call", "transitions": [], "properties": {"say": "hi"}}]}`, nil)
	first := h.newCall("+15551230001")
	first.start(ivrSid)
	second := h.newCall("+15551230001")
	if say := verbOf[*twiml.Say](t, second.start(ivrSid)).Text; say != BusyMessage {
		t.Errorf("second call: %q", say)
	}
	if other := h.newCall("+15551230002").start(ivrSid); other.verbs() != "Gather(Say) Redirect" {
		t.Errorf("another caller: %s", other.body)
	}
	if err := h.x.EndCall(context.Background(), first.sid, ""); err != nil {
		t.Fatal(err)
	}
	if r := h.newCall("+15551230001").start(ivrSid); r.verbs() != "Gather(Say) Redirect" {
		t.Errorf("after the first call ended: %s", r.body)
	}
}

func TestRequestWithoutFlowEventRestarts(t *testing.T) {
	h := newHarness(t, Options{})
	h.loadJSON(ivrSid, redirectFlow("60"), nil)
	c := h.newCall("+15551230001")
	c.start(ivrSid)
	old := h.execution(c.sid)
	c.start(ivrSid)
	all, _ := h.store.Executions(context.Background(), ExecutionFilter{FlowSid: ivrSid})
	if len(all) != 2 {
		t.Fatalf("%d executions, want 2", len(all))
	}
	for _, e := range all {
		if e.Sid == old.Sid && (e.Status != StatusEnded || e.EndReason != "the call requested the flow again") ||
			e.Sid != old.Sid && e.Status != StatusActive {
			t.Errorf("execution %s: %s %q", e.Sid, e.Status, e.EndReason)
		}
	}
}

func TestStaleCallbackAndBadRequests(t *testing.T) {
	h, _ := loadIVR(t)
	c := h.newCall("+15551230001")
	c.start(ivrSid)
	r := c.post(h.srv.URL+"/studio/"+ivrSid+"?FlowEvent=action&Step=voicemail", url.Values{"RecordingUrl": {"x"}})
	expectError(t, h, c, r, `callback for widget "voicemail" arrived while the execution waits on "menu"`)

	c = h.newCall("+15551230001")
	c.start(ivrSid)
	r = c.post(h.srv.URL+"/studio/"+ivrSid+"?FlowEvent=bogus&Step=menu", nil)
	expectError(t, h, c, r, `FlowEvent "bogus" is not an event of the widget`)

	if r := h.newCall("+1").start("FW" + strings.Repeat("f", 32)); r.status != http.StatusNotFound {
		t.Errorf("unknown flow: %d %s", r.status, r.body)
	}
	resp, err := http.PostForm(h.srv.URL+"/studio/"+ivrSid, url.Values{"From": {"+1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no CallSid: %d", resp.StatusCode)
	}
}

func TestUnsupportedWidgetsOnACall(t *testing.T) {
	const flow = `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "w"}], "properties": {}},
	  %s,
	  {"name": "next", "type": "say-play", "transitions": [], "properties": {"say": "went on"}}]}`
	for _, tc := range []struct{ name, widget, err string }{
		{"record-call fails", `{"name": "w", "type": "record-call", "transitions": [{"event": "failed", "next": "next"}], "properties": {"record_call": true}}`, ""},
		{"send-message fails", `{"name": "w", "type": "send-message", "transitions": [{"event": "failed", "next": "next"}], "properties": {"to": "x", "from": "y", "body": "z"}}`, ""},
		{"SIPREC fork-stream skipped", `{"name": "w", "type": "fork-stream", "transitions": [{"event": "next", "next": "next"}], "properties": {"stream_action": "start", "stream_transport_type": "siprec", "stream_connector": "c"}}`, ""},
		{"conference", `{"name": "w", "type": "connect-call-to", "transitions": [], "properties": {"noun": "conference", "to": "room", "caller_id": "x"}}`,
			"connecting to a conference is not supported"},
		{"legacy virtual agent", `{"name": "w", "type": "connect-virtual-agent", "transitions": [], "properties": {}}`, "virtual agents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.loadJSON(ivrSid, strings.Replace(flow, "%s", tc.widget, 1), nil)
			c := h.newCall("+15551230001")
			r := c.start(ivrSid)
			if tc.err != "" {
				expectError(t, h, c, r, tc.err)
				return
			}
			if say := verbOf[*twiml.Say](t, r).Text; say != "went on" {
				t.Errorf("answer %s", r.body)
			}
		})
	}
}

func TestInvalidFlowIsNotRun(t *testing.T) {
	h := newHarness(t, Options{})
	f, err := Parse([]byte(`{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "nowhere"}], "properties": {}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h.flows.Put(ivrSid, f)
	r := h.newCall("+15551230001").start(ivrSid)
	if r.verbs() != "Say Hangup" || !strings.Contains(h.logs.String(), `next \"nowhere\" does not exist`) {
		t.Errorf("answer %s\nlog %s", r.body, h.logs.String())
	}
}

func TestSignatureRequired(t *testing.T) {
	const token = "secret-token"
	h := newHarness(t, Options{AuthToken: token})
	h.loadJSON(ivrSid, redirectFlow("60"), nil)
	c := h.newCall("+15551230001")
	if r := c.start(ivrSid); r.status != http.StatusForbidden {
		t.Fatalf("unsigned: %d", r.status)
	}
	target := h.srv.URL + "/studio/" + ivrSid
	params := c.params(nil)
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", webhook.Signature(token, target, params))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("signed: %d", resp.StatusCode)
	}
}

func TestEndAndSweep(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{MaxExecutionAge: time.Hour}})
	h.loadJSON(ivrSid, redirectFlow("60"), nil)
	a, b := h.newCall("+15551230001"), h.newCall("+15551230002")
	a.start(ivrSid)
	h.clock.Advance(50 * time.Minute)
	b.start(ivrSid)
	h.clock.Advance(20 * time.Minute)
	n, err := h.x.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("swept %d, %v", n, err)
	}
	if h.execution(a.sid).Status != StatusEnded || h.execution(b.sid).Status != StatusActive {
		t.Errorf("sweep ended the wrong execution")
	}
	ex, err := h.x.End(context.Background(), h.execution(b.sid).Sid, "")
	if err != nil || ex.Status != StatusEnded || ex.EndReason != "ended through the API" {
		t.Fatalf("End: %+v %v", ex, err)
	}
	// The call's next request is hung up.
	if r := b.post(h.srv.URL+"/studio/"+ivrSid+"?FlowEvent=return", nil); r.verbs() != "Hangup" {
		t.Errorf("after End: %s", r.body)
	}
}

// templateFlow loads a flex-template fixture.
func templateFlow(t *testing.T, h *harness, name string, repl map[string]string) {
	t.Helper()
	path := filepath.Join(fixturesDir, "flex-template", name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	h.load(ivrSid, path, repl)
}

func TestFlexTemplateCallbackFlow(t *testing.T) {
	h := newHarness(t, Options{})
	templateFlow(t, h, "template_example_callback_flow.json", map[string]string{"WORKFLOW_SID": "WW" + strings.Repeat("a", 32),
		"SERVERLESS_DOMAIN": "serverless.example"})
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	e := verbOf[*twiml.Enqueue](t, r)
	if e.WorkflowSID != "WW"+strings.Repeat("a", 32) || e.WaitURL != "https://serverless.example/features/callback-and-voicemail/studio/wait-experience" || e.WaitURLMethod != "POST" {
		t.Fatalf("enqueue %+v", e)
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(e.Task.JSON), &attrs); err != nil {
		t.Fatal(err)
	}
	if attrs["type"] != "inbound" || attrs["name"] != "+15551230001" || attrs["conversations"].(map[string]any)["hang_up_by"] != "Customer" {
		t.Errorf("attributes %v", attrs)
	}
	if e.Task.Priority != 0 || e.Task.Timeout != 0 {
		t.Errorf("task %+v", e.Task)
	}
}

func TestFlexTemplateScheduleFlowWithFunctions(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
		want         string // say text, or "Enqueue"
	}{
		{"open", `{"isOpen": true}`, 200, "Enqueue"},
		{"holiday", `{"isOpen": false, "closedReason": "holiday"}`, 200, "We are currently closed due to the holiday."},
		{"closed", `{"isOpen": false}`, 200, "We are currently closed. Please call back during our normal business hours."},
		{"function broken", `oops`, 500, "Enqueue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.answer))
			})
			h := newHarness(t, Options{FunctionsURL: fn.srv.URL + "/fn"})
			templateFlow(t, h, "template_example_schedule_flow.json", map[string]string{"WORKFLOW_SID": "WW" + strings.Repeat("b", 32)})
			r := h.newCall("+15551230001").start(ivrSid)
			if tc.want == "Enqueue" {
				verbOf[*twiml.Enqueue](t, r)
			} else if say := verbOf[*twiml.Say](t, r).Text; !strings.HasPrefix(say, tc.want) || !strings.HasSuffix(say, "Thank you for calling and have a great day.") {
				t.Errorf("say %q", say)
			}
			reqs := fn.recorded()
			if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].path != "/fn/check-schedule" || reqs[0].body != "name=Example" {
				t.Errorf("function requests %+v", reqs)
			}
		})
	}
}
