package studio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/twiml"
)

const ivrSid = "FW00000000000000000000000000000001"

// customerAPI answers the lookup widget: +15551230001 is Alice (gold).
func customerAPI(t *testing.T) *apiServer {
	return newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/customers" && r.URL.Query().Get("phone") == "+15551230001":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"name": "Alice", "tier": "gold", "balance": 12.5}`))
		case r.URL.Path == "/customers":
			http.Error(w, "unknown caller", http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

func loadIVR(t *testing.T) (*harness, *apiServer) {
	h := newHarness(t, Options{})
	api := customerAPI(t)
	h.load(ivrSid, "testdata/ivr_flow.json", map[string]string{"HTTP_BASE": api.srv.URL})
	return h, api
}

func TestIVRKnownCallerReachesSales(t *testing.T) {
	h, api := loadIVR(t)
	c := h.newCall("+15551230001")

	// 1. The call arrives: lookup (HTTP), greeting (Liquid), then the menu.
	r := c.start(ivrSid)
	if got := r.verbs(); got != "Gather(Say) Redirect" {
		t.Fatalf("first answer: %s\n%s", got, r.body)
	}
	g := verbOf[*twiml.Gather](t, r)
	if say := g.Children[0].(*twiml.Say); say.Text != "Hello Alice. Press 1 for sales, 2 for support, 3 to leave a message." || say.Voice != "alice" {
		t.Errorf("menu prompt = %q (voice %q)", say.Text, say.Voice)
	}
	if g.NumDigits != 1 || g.Timeout != 7 || g.FinishOnKey != "#" || !g.Input.DTMF() || g.Input.Speech() {
		t.Errorf("gather = %+v", g)
	}
	wantAction := h.srv.URL + "/studio/" + ivrSid + "?FlowEvent=action&Step=menu"
	if action, _, _ := strings.Cut(g.Action, "#"); action != wantAction {
		t.Errorf("gather action = %q, want %q", g.Action, wantAction)
	}
	if rd := verbOf[*twiml.Redirect](t, r); !strings.Contains(rd.URL, "FlowEvent=timeout&Step=menu") {
		t.Errorf("no-input redirect = %q", rd.URL)
	}
	reqs := api.recorded()
	if len(reqs) != 1 || reqs[0].method != "GET" || reqs[0].path != "/customers" || reqs[0].query != "phone=%2B15551230001" {
		t.Fatalf("lookup requests = %+v", reqs)
	}

	// 2. The caller presses 1: route → sales (Dial).
	r = c.post(g.Action, url.Values{"Digits": {"1"}, "FinishedOnKey": {""}})
	d := verbOf[*twiml.Dial](t, r)
	if len(d.Nouns) != 1 || d.Nouns[0].(*twiml.Number).Number != "+15550001111" || d.CallerID != "+15551230001" || d.Timeout != 20 {
		t.Fatalf("dial = %+v\n%s", d, r.body)
	}

	// 3. The agent answered and hung up: after_sales → goodbye.
	r = c.post(d.Action, url.Values{"DialCallStatus": {"completed"}, "DialCallSid": {"CA" + strings.Repeat("9", 32)}, "DialCallDuration": {"42"}})
	if got := r.verbs(); got != "Say Redirect" || verbOf[*twiml.Say](t, r).Text != "Goodbye." {
		t.Fatalf("after the dial: %s\n%s", got, r.body)
	}

	// 4. audioComplete: the branch ends, the call is hung up.
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if got := r.verbs(); got != "Hangup" {
		t.Fatalf("end: %s", r.body)
	}

	ex := h.execution(c.sid)
	if ex.Status != StatusEnded {
		t.Errorf("status = %s, want ended", ex.Status)
	}
	want := []string{
		"Trigger -incomingCall-> lookup",
		"lookup -success-> greeting",
		"greeting -next-> menu",
		"menu -keypress-> route",
		"route -match-> sales",
		"sales -callCompleted-> after_sales",
		"after_sales -match-> goodbye",
		"goodbye -audioComplete-> Ended",
	}
	if got := h.path(ex); !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The context holds the trigger, the widgets' outputs and the variables.
	cx, _ := json.Marshal(ex.Context)
	for _, s := range []string{`"From":"+15551230001"`, `"greeting":"Hello Alice"`, `"tier":"gold"`, `"Digits":"1"`,
		`"DialCallStatus":"completed"`, `"status_code":200`, `"flow_sid":"` + ivrSid + `"`, `"sid":"` + ex.Sid + `"`,
		`"contact":{"channel":{"address":"+15551230001"}}`} {
		if !strings.Contains(string(cx), s) {
			t.Errorf("context lacks %s:\n%s", s, cx)
		}
	}
	// Steps carry context snapshots as they stood.
	steps, _ := h.store.Steps(context.Background(), ex.Sid)
	if strings.Contains(string(steps[0].Context), `"lookup"`) || !strings.Contains(string(steps[1].Context), `"parsed":{"balance":12.5`) {
		t.Errorf("step snapshots: first %s\nsecond %s", steps[0].Context, steps[1].Context)
	}
	if steps[0].Type != "trigger" || steps[1].Type != "make-http-request" || steps[1].ParentStepSid != "" || !strings.HasPrefix(steps[0].Sid, "FT") {
		t.Errorf("steps[0..1] = %+v %+v", steps[0], steps[1])
	}
}

func TestIVRUnknownCallerTimesOutThreeTimes(t *testing.T) {
	h, _ := loadIVR(t)
	c := h.newCall("+15559999999")
	r := c.start(ivrSid)
	if say := verbOf[*twiml.Gather](t, r).Children[0].(*twiml.Say); !strings.HasPrefix(say.Text, "Hello caller.") {
		t.Fatalf("lookup failed, so the default greeting: %q", say.Text)
	}
	for i := 1; i <= 2; i++ {
		r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil) // the Gather timed out
		if r.verbs() != "Gather(Say) Redirect" {
			t.Fatalf("timeout %d: %s", i, r.body)
		}
		vars := h.execution(c.sid).Context["flow"].(map[string]any)["variables"].(map[string]any)
		if got := vars["retries"]; got != json.Number(string(rune('0'+i))) {
			t.Errorf("after timeout %d retries = %#v", i, got)
		}
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if verbOf[*twiml.Say](t, r).Text != "Goodbye." {
		t.Fatalf("third timeout: %s", r.body)
	}
	// The caller hangs up before the goodbye ends: the status callback ends the execution.
	c.status = "completed"
	r = c.post(h.x.VoiceURL(ivrSid), url.Values{"CallbackSource": {"call-progress-events"}, "CallDuration": {"30"}})
	if r.verbs() != "" {
		t.Errorf("status callback answer: %s", r.body)
	}
	ex := h.execution(c.sid)
	if ex.Status != StatusEnded || !strings.Contains(ex.EndReason, "call ended") {
		t.Errorf("execution %s: %s", ex.Status, ex.EndReason)
	}
	want := []string{"Trigger -incomingCall-> lookup", "lookup -failed-> greeting", "greeting -next-> menu",
		"menu -timeout-> count_retry", "count_retry -next-> check_retries", "check_retries -noMatch-> menu",
		"menu -timeout-> count_retry", "count_retry -next-> check_retries", "check_retries -noMatch-> menu",
		"menu -timeout-> count_retry", "count_retry -next-> check_retries", "check_retries -match-> goodbye"}
	if got := h.path(ex); !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n%s", strings.Join(got, "\n"))
	}
	// A late callback finds no execution: the call is hung up.
	c.status = "in-progress"
	if r := c.post(h.srv.URL+"/studio/"+ivrSid+"?FlowEvent=audioComplete&Step=goodbye", nil); r.verbs() != "Hangup" {
		t.Errorf("late callback: %s", r.body)
	}
}

func TestIVRSupportGoesToFlexWithTaskAttributes(t *testing.T) {
	h, api := loadIVR(t)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"2"}})
	e := verbOf[*twiml.Enqueue](t, r)
	if e.WorkflowSID != "WW0123456789abcdef0123456789abcdef" || e.WaitURL != api.srv.URL+"/hold" || e.WaitURLMethod != "GET" {
		t.Fatalf("enqueue = %+v\n%s", e, r.body)
	}
	if e.Task == nil || e.Task.Priority != 10 || e.Task.Timeout != 3600 {
		t.Fatalf("task = %+v", e.Task)
	}
	var attrs map[string]string
	if err := json.Unmarshal([]byte(e.Task.JSON), &attrs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"type": "inbound", "name": "+15551230001", "tier": "gold", "call_sid": c.sid,
		"from": "+15551230001", "to": "+15557770000", "direction": "inbound", "called": "+15557770000",
		"caller": "+15551230001", "account_sid": "AC" + strings.Repeat("1", 32)}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("task attributes = %v\nwant %v", attrs, want)
	}
	// The agent talked to the caller and hung up: callComplete has no next.
	r = c.post(e.Action, url.Values{"QueueResult": {"bridged"}, "QueueSid": {"QU1"}, "QueueTime": {"12"}})
	if r.verbs() != "Hangup" {
		t.Fatalf("after the queue: %s", r.body)
	}
	ex := h.execution(c.sid)
	if got := h.path(ex); got[len(got)-1] != "support -callComplete-> Ended" {
		t.Errorf("last step %q", got[len(got)-1])
	}
	if ex.Context["widgets"].(map[string]any)["support"].(map[string]any)["QueueResult"] != "bridged" {
		t.Errorf("widgets.support = %v", ex.Context["widgets"].(map[string]any)["support"])
	}
}

func TestIVRQueueResults(t *testing.T) {
	for _, tc := range []struct{ result, event string }{
		{"bridged", "callComplete"}, {"leave", "callComplete"}, {"redirected", "callComplete"},
		{"queue-full", "failedToEnqueue"}, {"error", "failedToEnqueue"},
		{"system-error", "callFailure"}, {"hangup", "callFailure"},
	} {
		t.Run(tc.result, func(t *testing.T) {
			h, _ := loadIVR(t)
			c := h.newCall("+15551230001")
			r := c.start(ivrSid)
			r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"2"}})
			r = c.post(verbOf[*twiml.Enqueue](t, r).Action, url.Values{"QueueResult": {tc.result}})
			path := h.path(h.execution(c.sid))
			if got := path[len(path)-1]; !strings.HasPrefix(got, "support -"+tc.event+"-> ") {
				t.Errorf("QueueResult %s: last step %q, want event %s", tc.result, got, tc.event)
			}
			if tc.event == "failedToEnqueue" && r.verbs() != "Record Redirect" {
				t.Errorf("failedToEnqueue leads to the voicemail: %s", r.body)
			}
		})
	}
}

func TestIVRVoicemail(t *testing.T) {
	h, api := loadIVR(t)

	t.Run("recorded", func(t *testing.T) {
		c := h.newCall("+15551230001")
		r := c.start(ivrSid)
		r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"3"}})
		rec := verbOf[*twiml.Record](t, r)
		if rec.MaxLength != 120 || rec.Timeout != 5 || rec.FinishOnKey != "#" || !rec.PlayBeep || rec.Trim != twiml.TrimSilence {
			t.Fatalf("record = %+v", rec)
		}
		r = c.post(rec.Action, url.Values{"RecordingUrl": {"http://gw/rec/RE1"}, "RecordingSid": {"RE1"}, "RecordingDuration": {"7"}, "Digits": {"#"}})
		if say := verbOf[*twiml.Say](t, r); say.Text != "Thanks, we got your 7 second message." {
			t.Errorf("thanks = %q", say.Text)
		}
	})
	t.Run("no audio", func(t *testing.T) {
		c := h.newCall("+15551230001")
		r := c.start(ivrSid)
		r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"9"}})
		r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil) // nothing recorded: the engine goes on to the Redirect
		if verbOf[*twiml.Say](t, r).Text != "Goodbye." {
			t.Errorf("noAudio: %s", r.body)
		}
	})
	t.Run("caller hangs up while recording", func(t *testing.T) {
		c := h.newCall("+15551230001")
		r := c.start(ivrSid)
		r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"3"}})
		before := len(api.recorded())
		c.status = "completed"
		r = c.post(verbOf[*twiml.Record](t, r).Action, url.Values{"RecordingUrl": {"http://gw/rec/RE2"}, "Digits": {"hangup"}})
		if r.doc == nil || len(r.doc.Verbs) != 0 {
			t.Errorf("answer after hang-up: %s", r.body)
		}
		ex := h.execution(c.sid)
		path := h.path(ex)
		if ex.Status != StatusEnded || path[len(path)-2] != "voicemail -hangup-> log_hangup" {
			t.Errorf("status %s, steps %v", ex.Status, path)
		}
		reqs := api.recorded()[before:]
		if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].path != "/hangups" || reqs[0].contentType != "application/json;charset=utf-8" ||
			reqs[0].body != `{"call": "`+c.sid+`", "widget": "gold", "dial": ""}` {
			t.Errorf("hang-up notification = %+v", reqs)
		}
	})
}

func TestIVRInvalidChoiceAndDialHangup(t *testing.T) {
	h, _ := loadIVR(t)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"7"}})
	if verbOf[*twiml.Say](t, r).Text != "Sorry, 7 is not an option." {
		t.Fatalf("invalid: %s", r.body)
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	r = c.post(verbOf[*twiml.Gather](t, r).Action, url.Values{"Digits": {"1"}})
	d := verbOf[*twiml.Dial](t, r)
	// Nobody answered: after_sales sends the caller to the voicemail.
	r = c.post(d.Action, url.Values{"DialCallStatus": {"no-answer"}})
	if r.verbs() != "Record Redirect" {
		t.Fatalf("no-answer: %s", r.body)
	}
}

func TestTwimlRendersEveryCallWidget(t *testing.T) {
	const flow = `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "w"}], "properties": {}},
	  %s]}`
	for _, tc := range []struct {
		name, widget string
		want         []string
	}{
		{"say with loop", `{"name": "w", "type": "say-play", "transitions": [], "properties": {"say": "Hi <b>&", "loop": 3, "language": "fr-FR"}}`,
			[]string{`<Say language="fr-FR" loop="3">Hi &lt;b&gt;&amp;</Say>`, `FlowEvent=audioComplete&amp;Step=w`}},
		{"say with SSML", `{"name": "w", "type": "say-play", "transitions": [], "properties": {"say": "<speak>Hello <break time=\"1s\"/> you</speak>"}}`,
			[]string{`<Say>Hello <break time="1s"/> you</Say>`}},
		{"play", `{"name": "w", "type": "say-play", "transitions": [], "properties": {"play": "https://x/a.mp3", "loop": "0"}}`,
			[]string{`<Play loop="0">https://x/a.mp3</Play>`}},
		{"digits", `{"name": "w", "type": "say-play", "transitions": [], "properties": {"digits": "12w3"}}`,
			[]string{`<Play digits="12w3"/>`}},
		{"gather speech", `{"name": "w", "type": "gather-input-on-call", "transitions": [{"event": "speech", "next": "w"}], "properties": {"play": "https://x/p.wav", "stop_gather": "false", "speech_timeout": "auto", "gather_language": "en-GB", "hints": "a,b", "profanity_filter": "false", "speech_model": "phone_call"}}`,
			[]string{`input="dtmf speech"`, `finishOnKey=""`, `speechTimeout="auto"`, `language="en-GB"`, `hints="a,b"`, `profanityFilter="false"`, `speechModel="phone_call"`, `<Play>https://x/p.wav</Play></Gather>`}},
		{"number-multi", `{"name": "w", "type": "connect-call-to", "transitions": [], "properties": {"noun": "number-multi", "to": "+1, +2 ,+3", "caller_id": "{{flow.channel.address}}", "time_limit": "600", "record": true}}`,
			[]string{`callerId="+15557770000"`, `timeLimit="600"`, `record="record-from-answer"`, `<Number>+1</Number><Number>+2</Number><Number>+3</Number>`}},
		{"client", `{"name": "w", "type": "connect-call-to", "transitions": [], "properties": {"noun": "client", "to": "client:alice", "caller_id": "x"}}`,
			[]string{`<Client>alice</Client>`}},
		{"sip", `{"name": "w", "type": "connect-call-to", "transitions": [], "properties": {"noun": "sip", "sip_endpoint": "bob@example.com", "sip_username": "u", "sip_password": "p", "caller_id": "x"}}`,
			[]string{`<Sip username="u" password="p">sip:bob@example.com</Sip>`}},
		{"enqueue by name", `{"name": "w", "type": "enqueue-call", "transitions": [], "properties": {"queue_name": "support"}}`,
			[]string{`method="POST">support</Enqueue>`}},
		{"enqueue to workflow", `{"name": "w", "type": "enqueue-call", "transitions": [], "properties": {"workflow_sid": "WW1", "task_attributes": "{\"a\": 1}", "priority": 5, "timeout": 30, "wait_url": "https://x/hold", "wait_url_method": "post"}}`,
			[]string{`workflowSid="WW1"`, `waitUrl="https://x/hold" waitUrlMethod="POST"`, `<Task priority="5" timeout="30">{&#34;a&#34;:1}</Task>`}},
		{"redirect", `{"name": "w", "type": "add-twiml-redirect", "transitions": [], "properties": {"url": "https://x/twiml?a=1&b=2", "method": "GET", "timeout": "60"}}`,
			[]string{`<Redirect method="GET">https://x/twiml?a=1&amp;b=2</Redirect>`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.loadJSON(ivrSid, strings.Replace(flow, "%s", tc.widget, 1), nil)
			r := h.newCall("+15551230001").start(ivrSid)
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("TwiML lacks %s:\n%s", w, r.body)
				}
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	h, _ := loadIVR(t)
	calls := make([]*call, 20)
	for i := range calls {
		calls[i] = h.newCall("+15551230001")
	}
	errs := make(chan string, len(calls))
	done := make(chan struct{})
	for _, c := range calls {
		go func(c *call) {
			defer func() { done <- struct{}{} }()
			r := c.start(ivrSid)
			if r.doc == nil || len(r.doc.Verbs) == 0 {
				errs <- r.body
				return
			}
			g, ok := r.doc.Verbs[0].(*twiml.Gather)
			if !ok {
				errs <- r.body
				return
			}
			r = c.post(g.Action, url.Values{"Digits": {"3"}})
			if r.verbs() != "Record Redirect" {
				errs <- r.body
			}
		}(c)
	}
	for range calls {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Errorf("unexpected answer: %s", e)
	}
	active, _ := h.store.Executions(context.Background(), ExecutionFilter{Status: StatusActive, FlowSid: ivrSid})
	if len(active) != len(calls) {
		t.Errorf("%d active executions, want %d", len(active), len(calls))
	}
}
