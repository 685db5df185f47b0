package studio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/twiml"
)

// fakeCalls is a CallControl that records what the executor asks for.
type fakeCalls struct {
	mu        sync.Mutex
	placed    []OutgoingCall
	redirects []redirected
	placeErr  error
	redirErr  error
}

type redirected struct {
	callSid string
	doc     []byte
}

func (f *fakeCalls) PlaceCall(_ context.Context, c OutgoingCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.placeErr != nil {
		return f.placeErr
	}
	f.placed = append(f.placed, c)
	return nil
}

func (f *fakeCalls) RedirectCall(_ context.Context, callSid string, doc []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.redirErr != nil {
		return f.redirErr
	}
	f.redirects = append(f.redirects, redirected{callSid, doc})
	return nil
}

func (f *fakeCalls) calls() []OutgoingCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]OutgoingCall(nil), f.placed...)
}

func (f *fakeCalls) redirected() []redirected {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]redirected(nil), f.redirects...)
}

// outgoingFlow: a REST start looks the contact up (HTTP), keeps the name,
// then calls the contact; answered → greeting; busy/failed → report
// (HTTP); noAnswer → a say-play, which needs a call. An inbound call goes
// straight to the outgoing call widget.
const outgoingFlow = `{"initial_state": "Trigger", "flags": {"allow_concurrent_calls": true}, "states": [
  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "call"}, {"event": "incomingRequest", "next": "lookup"}], "properties": {}},
  {"name": "lookup", "type": "make-http-request", "transitions": [{"event": "success", "next": "vars"}, {"event": "failed", "next": "vars"}],
   "properties": {"method": "GET", "url": "${API}/customer", "content_type": "application/json;charset=utf-8",
     "parameters": [{"key": "phone", "value": "{{contact.channel.address}}"}]}},
  {"name": "vars", "type": "set-variables", "transitions": [{"event": "next", "next": "call"}],
   "properties": {"variables": [{"key": "name", "value": "{{widgets.lookup.parsed.name}}"}]}},
  {"name": "call", "type": "make-outgoing-call-v2",
   "transitions": [{"event": "answered", "next": "greet"}, {"event": "busy", "next": "report"}, {"event": "noAnswer", "next": "sorry"}, {"event": "failed", "next": "report"}],
   "properties": {"timeout": 25, "send_digits": "ww1", "record": true, "recording_channels": "dual", "trim": "trim-silence",
     "recording_status_callback": "https://app.example/rec?to={{contact.channel.address}}"}},
  {"name": "greet", "type": "say-play", "transitions": [{"event": "audioComplete"}],
   "properties": {"say": "Hello {{flow.variables.name}}, {{widgets.call.CallStatus}} {{widgets.call.Direction}}"}},
  {"name": "sorry", "type": "say-play", "transitions": [{"event": "audioComplete"}], "properties": {"say": "nobody there"}},
  {"name": "report", "type": "make-http-request", "transitions": [{"event": "success"}, {"event": "failed"}],
   "properties": {"method": "POST", "url": "${API}/report", "content_type": "application/x-www-form-urlencoded;charset=utf-8",
     "parameters": [{"key": "status", "value": "{{widgets.call.CallStatus}}"}, {"key": "sid", "value": "{{widgets.call.CallSid}}"}]}}]}`

// outgoingHarness loads outgoingFlow with a contact API that knows Ada.
func outgoingHarness(t *testing.T, fc *fakeCalls) (*harness, *apiServer) {
	t.Helper()
	api := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/customer" && r.URL.Query().Get("phone") == "+15559990001" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"name": "Ada"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := newHarness(t, Options{Calls: fc})
	h.loadJSON(ivrSid, outgoingFlow, map[string]string{"API": api.srv.URL})
	return h, api
}

// startREST starts an execution for +15559990001 and waits until its
// background run has stopped.
func startREST(t *testing.T, h *harness) *Execution {
	t.Helper()
	ex, err := h.x.StartExecution(context.Background(), ivrSid, "+15559990001", "+15557770000", map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != StatusActive || ex.CallSid != "" || ex.Runtime.Steps != 0 {
		t.Fatalf("StartExecution returned %+v, want an active execution that has not run yet", ex)
	}
	h.x.wg.Wait()
	return h.stored(ex.Sid)
}

// stored reads an execution.
func (h *harness) stored(sid string) *Execution {
	h.t.Helper()
	ex, err := h.store.Execution(context.Background(), sid)
	if err != nil {
		h.t.Fatal(err)
	}
	return ex
}

// placedCall is the call engine's side of a call the executor placed.
func (h *harness) placedCall(oc OutgoingCall, status string) *call {
	return &call{h: h, sid: oc.CallSid, from: oc.From, to: oc.To, status: status}
}

// outbound are the parameters of an outbound-api call's requests.
var outbound = url.Values{"Direction": {"outbound-api"}}

func TestRESTExecutionPlacesTheCallWhenTheFlowReachesIt(t *testing.T) {
	fc := &fakeCalls{}
	h, api := outgoingHarness(t, fc)
	ex := startREST(t, h)

	// The non-call widgets ran at once; the call was placed with the
	// widget's rendered properties.
	calls := fc.calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls placed, want 1", len(calls))
	}
	oc := calls[0]
	if oc.To != "+15559990001" || oc.From != "+15557770000" || oc.Timeout != 25*time.Second || oc.SendDigits != "ww1" ||
		!strings.HasPrefix(oc.CallSid, "CA") || oc.URL != oc.StatusCallback ||
		!strings.Contains(oc.URL, "ExecutionSid="+ex.Sid) || !strings.Contains(oc.URL, "Step=call") {
		t.Errorf("placed %+v", oc)
	}
	if ex.CallSid != oc.CallSid || ex.Runtime.Parked != "call" || !ex.Runtime.Dialing || ex.Status != StatusActive {
		t.Errorf("execution while the call rings: call %q parked %q dialing %v %s", ex.CallSid, ex.Runtime.Parked, ex.Runtime.Dialing, ex.Status)
	}
	if got := api.recorded(); len(got) != 1 || got[0].path != "/customer" {
		t.Errorf("HTTP requests %+v", got)
	}
	if oc.Record == nil || oc.Record.Channels != 2 || !oc.Record.Trim || oc.Record.StatusCallback != "https://app.example/rec?to=+15559990001" {
		t.Errorf("record: %+v", oc.Record)
	}

	// The call answers: the flow goes on on it.
	c := h.placedCall(oc, "in-progress")
	r := c.post(oc.URL, outbound)
	if say := verbOf[*twiml.Say](t, r).Text; say != "Hello Ada, in-progress outbound-api" {
		t.Errorf("after answering: %q\n%s", say, r.body)
	}
	got := h.stored(ex.Sid)
	w := got.Context["widgets"].(map[string]any)["call"].(map[string]any)
	for k, want := range map[string]string{"CallSid": oc.CallSid, "CallStatus": "in-progress", "To": "+15559990001",
		"From": "+15557770000", "Direction": "outbound-api"} {
		if w[k] != want {
			t.Errorf("widgets.call.%s = %v, want %q", k, w[k], want)
		}
	}
	if _, leaked := w[ParamExecution]; leaked {
		t.Errorf("widgets.call has %s", ParamExecution)
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if r.verbs() != "Hangup" {
		t.Errorf("end of the branch: %s", r.body)
	}
	want := []string{"Trigger -incomingRequest-> lookup", "lookup -success-> vars", "vars -next-> call",
		"call -answered-> greet", "greet -audioComplete-> Ended"}
	if p := h.path(got); strings.Join(p, "|") != strings.Join(want, "|") {
		t.Errorf("steps:\n%s", strings.Join(p, "\n"))
	}
	if got = h.stored(ex.Sid); got.Status != StatusEnded {
		t.Errorf("execution %s after the flow ended", got.Status)
	}
}

func TestOutgoingCallNotAnswered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status string
		viaAPI bool // EndCall instead of the status callback
		both   bool // both report it
		event  string
		report bool // the report widget runs
		reason string
	}{
		{name: "busy callback", status: "busy", event: "busy", report: true, reason: `the flow ended after "report"`},
		{name: "failed callback", status: "failed", event: "failed", report: true, reason: `the flow ended after "report"`},
		{name: "canceled", status: "canceled", event: "failed", report: true, reason: `the flow ended after "report"`},
		{name: "busy EndCall", status: "busy", viaAPI: true, event: "busy", report: true, reason: `the flow ended after "report"`},
		{name: "busy both", status: "busy", both: true, event: "busy", report: true, reason: `the flow ended after "report"`},
		{name: "no answer needs a call", status: "no-answer", event: "noAnswer",
			reason: `"sorry" (say-play) needs a call, but the execution has none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeCalls{}
			h, api := outgoingHarness(t, fc)
			ex := startREST(t, h)
			oc := fc.calls()[0]
			if !tc.viaAPI {
				c := h.placedCall(oc, tc.status)
				extra := url.Values{"Direction": {"outbound-api"}, "CallbackSource": {"call-progress-events"}}
				if r := c.post(oc.StatusCallback, extra); r.status != http.StatusOK || r.verbs() != "" {
					t.Fatalf("status callback answered %d %s", r.status, r.body)
				}
			}
			if tc.viaAPI || tc.both {
				if err := h.x.EndCall(context.Background(), oc.CallSid, tc.status); err != nil {
					t.Fatal(err)
				}
			}
			h.x.wg.Wait()
			got := h.stored(ex.Sid)
			if got.Status != StatusEnded || !strings.Contains(got.EndReason, tc.reason) || got.CallSid != "" {
				t.Errorf("execution %s (call %q): %q, want it to contain %q", got.Status, got.CallSid, got.EndReason, tc.reason)
			}
			steps := h.path(got)
			if step := "call -" + tc.event + "-> "; len(steps) < 4 || !strings.HasPrefix(steps[3], step) {
				t.Errorf("steps %v, want the 4th to start with %q", steps, step)
			}
			var reports []recorded
			for _, r := range api.recorded() {
				if r.path == "/report" {
					reports = append(reports, r)
				}
			}
			switch {
			case !tc.report && len(reports) > 0:
				t.Errorf("report requested: %+v", reports)
			case tc.report && len(reports) != 1:
				t.Errorf("%d reports, want 1", len(reports))
			case tc.report:
				if f, _ := url.ParseQuery(reports[0].body); f.Get("status") != tc.status || f.Get("sid") != oc.CallSid {
					t.Errorf("report %q, want status %s and sid %s", reports[0].body, tc.status, oc.CallSid)
				}
			}
			// A late request from the call finds nothing to run.
			if r := h.placedCall(oc, "in-progress").post(oc.URL, outbound); r.verbs() != "Hangup" {
				t.Errorf("late answer: %s", r.body)
			}
		})
	}
}

func TestOutgoingCallCannotBePlaced(t *testing.T) {
	fc := &fakeCalls{placeErr: errors.New("no route to +15559990001")}
	h, api := outgoingHarness(t, fc)
	ex := startREST(t, h)
	got := h.stored(ex.Sid)
	if got.Status != StatusEnded || got.CallSid != "" {
		t.Fatalf("execution %s call %q: %q", got.Status, got.CallSid, got.EndReason)
	}
	if r := api.recorded(); len(r) != 2 || r[1].path != "/report" || !strings.Contains(r[1].body, "status=failed") {
		t.Errorf("requests %+v", r)
	}
	if !strings.Contains(h.logs.String(), "no route to +15559990001") {
		t.Errorf("the placing error is not logged")
	}
}

func TestOutgoingCallFromACallTakesFailed(t *testing.T) {
	fc := &fakeCalls{}
	h, api := outgoingHarness(t, fc)
	c := h.newCall("+15551230001")
	if r := c.start(ivrSid); r.verbs() != "Hangup" {
		t.Fatalf("answer %s", r.body)
	}
	if len(fc.calls()) != 0 {
		t.Errorf("a call was placed from an inbound call's execution")
	}
	if r := api.recorded(); len(r) != 1 || !strings.Contains(r[0].body, "status=failed") {
		t.Errorf("requests %+v", r)
	}
	if !strings.Contains(h.logs.String(), "the execution already has a call ("+c.sid+")") {
		t.Errorf("no reason logged:\n%s", h.logs.String())
	}
	want := []string{"Trigger -incomingCall-> call", "call -failed-> report", "report -success-> Ended"}
	if p := h.path(h.execution(c.sid)); strings.Join(p, "|") != strings.Join(want, "|") {
		t.Errorf("steps %v", p)
	}
}

func TestRESTExecutionWithoutOutgoingCall(t *testing.T) {
	fc := &fakeCalls{}
	h := newHarness(t, Options{Calls: fc})
	// A call widget before any call: the execution ends with an error.
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingRequest", "next": "vars"}], "properties": {}},
	  {"name": "vars", "type": "set-variables", "transitions": [{"event": "next", "next": "hello"}], "properties": {"variables": [{"key": "a", "value": "1"}]}},
	  {"name": "hello", "type": "say-play", "transitions": [], "properties": {"say": "hi"}}]}`, nil)
	ex := startREST(t, h)
	if !strings.Contains(ex.EndReason, `state "hello" (say-play) needs a call`) || ex.Status != StatusEnded {
		t.Errorf("execution %s: %q", ex.Status, ex.EndReason)
	}
	if !strings.Contains(h.logs.String(), "needs a call") {
		t.Errorf("the error is not logged")
	}
	// No incomingRequest transition: the execution ends at once.
	h.loadJSON(ivrSid, `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "hello"}], "properties": {}},
	  {"name": "hello", "type": "say-play", "transitions": [], "properties": {"say": "hi"}}]}`, nil)
	ex2, err := h.x.StartExecution(context.Background(), ivrSid, "+15559990002", "+1555", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.x.wg.Wait()
	if got := h.stored(ex2.Sid); got.Status != StatusEnded || got.EndReason != `the flow ended after "Trigger" (incomingRequest)` {
		t.Errorf("without incomingRequest: %s %q", got.Status, got.EndReason)
	}
	if len(fc.calls()) != 0 {
		t.Errorf("calls placed: %+v", fc.calls())
	}
}

func TestRESTExecutionOnePerContact(t *testing.T) {
	fc := &fakeCalls{}
	h, _ := outgoingHarness(t, fc)
	ex := startREST(t, h) // rings
	_, err := h.x.StartExecution(context.Background(), ivrSid, "+15559990001", "+1555", nil)
	var busy *ActiveExecutionError
	if !errors.As(err, &busy) || busy.ExecutionSid != ex.Sid {
		t.Fatalf("second start: %v", err)
	}
	if _, err := h.x.StartExecution(context.Background(), "FW"+strings.Repeat("9", 32), "+1", "+2", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown flow: %v", err)
	}
	// Ending it through the API frees the contact; the ringing call is
	// hung up when it answers.
	if _, err := h.x.End(context.Background(), ex.Sid, ""); err != nil {
		t.Fatal(err)
	}
	oc := fc.calls()[0]
	if r := h.placedCall(oc, "in-progress").post(oc.URL, outbound); r.verbs() != "Hangup" {
		t.Errorf("answer after End: %s", r.body)
	}
	if _, err := h.x.StartExecution(context.Background(), ivrSid, "+15559990001", "+1555", nil); err != nil {
		t.Errorf("start after End: %v", err)
	}
	h.x.wg.Wait()
}

// twimlRedirectFlow is redirectFlow with the timeout branch ending.
func twimlRedirectFlowEnding() string {
	return strings.Replace(redirectFlow("60"), `{"event": "timeout", "next": "late"}`, `{"event": "timeout"}`, 1)
}

func TestAddTwimlRedirectTimer(t *testing.T) {
	fc := &fakeCalls{}
	h := newHarness(t, Options{Calls: fc})
	h.loadJSON(ivrSid, redirectFlow("60"), nil)

	// The external TwiML never returns: at the deadline the execution
	// takes timeout and the live call is redirected to the next widget.
	c := h.newCall("+15551230001")
	c.start(ivrSid)
	h.clock.Advance(59 * time.Second)
	h.x.wg.Wait()
	if len(fc.redirected()) != 0 {
		t.Fatalf("redirected before the deadline")
	}
	h.clock.Advance(2 * time.Second)
	h.x.wg.Wait()
	rs := fc.redirected()
	if len(rs) != 1 || rs[0].callSid != c.sid {
		t.Fatalf("redirects %+v", rs)
	}
	doc, _, err := twiml.Parse(rs[0].doc)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: http.StatusOK, body: string(rs[0].doc), doc: doc}
	if say := verbOf[*twiml.Say](t, r).Text; say != "Too late" {
		t.Errorf("redirected to %s", rs[0].doc)
	}
	ex := h.execution(c.sid)
	if ex.Status != StatusActive || ex.Runtime.Parked != "late" {
		t.Errorf("after the timeout: %s parked %q", ex.Status, ex.Runtime.Parked)
	}
	if r := c.post(verbOf[*twiml.Redirect](t, r).URL, nil); r.verbs() != "Hangup" {
		t.Errorf("the call goes on in the flow: %s", r.body)
	}
	if p := h.path(ex); len(p) != 3 || p[1] != "ext -timeout-> late" || p[2] != "late -audioComplete-> Ended" {
		t.Errorf("steps %v", p)
	}

	// It returns in time: the timer is stopped.
	c = h.newCall("+15551230002")
	c.start(ivrSid)
	c.post(h.srv.URL+"/studio/"+ivrSid+"?FlowEvent=return", nil)
	if n := len(h.clock.Pending()); n != 0 {
		t.Errorf("%d timers after the return", n)
	}
	// The call ends: the timer is stopped.
	c = h.newCall("+15551230003")
	c.start(ivrSid)
	if err := h.x.EndCall(context.Background(), c.sid, "completed"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.clock.Pending()); n != 0 {
		t.Errorf("%d timers after the call ended", n)
	}
	// The call is gone when the timer fires: the execution ends.
	c = h.newCall("+15551230004")
	c.start(ivrSid)
	fc.mu.Lock()
	fc.redirErr = errors.New("no such live call")
	fc.mu.Unlock()
	h.clock.Advance(61 * time.Second)
	h.x.wg.Wait()
	if ex := h.execution(c.sid); ex.Status != StatusEnded || !strings.Contains(ex.EndReason, "could not be taken back") {
		t.Errorf("call gone: %s %q", ex.Status, ex.EndReason)
	}
	// Close stops the timers.
	c = h.newCall("+15551230005")
	c.start(ivrSid)
	h.x.Close()
	if n := len(h.clock.Pending()); n != 0 {
		t.Errorf("%d timers after Close", n)
	}
}

func TestAddTwimlRedirectTimeoutToTheEnd(t *testing.T) {
	fc := &fakeCalls{}
	h := newHarness(t, Options{Calls: fc})
	h.loadJSON(ivrSid, twimlRedirectFlowEnding(), nil)
	c := h.newCall("+15551230001")
	c.start(ivrSid)
	h.clock.Advance(61 * time.Second)
	h.x.wg.Wait()
	ex := h.execution(c.sid)
	if ex.Status != StatusEnded || len(fc.redirected()) != 0 {
		t.Errorf("execution %s %q, %d redirects: the call must stay with the external TwiML", ex.Status, ex.EndReason, len(fc.redirected()))
	}
	if !strings.Contains(h.logs.String(), "stays with the external TwiML") {
		t.Errorf("not logged")
	}
}
