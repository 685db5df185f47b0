package studio

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// defaultOutgoingTimeout is how long a make-outgoing-call rings when its
// timeout is not set (Twilio's Calls default).
const defaultOutgoingTimeout = 60

// maxOutgoingTimeout bounds a make-outgoing-call's ring time (Twilio's
// Calls maximum).
const maxOutgoingTimeout = 600

// outgoingURL is what the call a make-outgoing-call widget placed
// requests when it answers, and its status callback: the flow URL naming
// the execution and the widget.
func (x *Executor) outgoingURL(flowSid, step, executionSid string) string {
	q := url.Values{ParamExecution: {executionSid}, ParamFlowEvent: {EventAction}, ParamStep: {step}}
	return x.flowURL(flowSid) + "?" + q.Encode() + "#" + x.overrides()
}

// placeCall runs a make-outgoing-call widget. In an execution without a
// call it places one (placed: the execution now waits for it to answer);
// otherwise, or when the call cannot be placed, the widget finishes with
// event "failed".
func (r *runner) placeCall(st *State) (placed bool, event string, err error) {
	_, cx := r.top()
	b := r.bindings()
	vars := map[string]any{"Direction": "outbound-api"}
	fail := func(why string, args ...any) (bool, string, error) {
		r.log.Warn("studio: make-outgoing-call takes failed: "+fmt.Sprintf(why, args...), "widget", st.Name, "type", st.Type)
		vars["CallStatus"] = "failed"
		setWidget(cx, st.Name, vars)
		return false, "failed", nil
	}
	if r.ex.CallSid != "" {
		return fail("the execution already has a call (%s): a flow places a call only from a REST-started execution that has none", r.ex.CallSid)
	}
	if r.x.opts.Calls == nil {
		return fail("this gateway places no calls from flows (no call control configured)")
	}
	to := strings.TrimSpace(r.withDefault(st, "to", "{{contact.channel.address}}", b))
	from := strings.TrimSpace(r.withDefault(st, "from", "{{flow.channel.address}}", b))
	vars["To"], vars["From"] = to, from
	if to == "" || from == "" {
		return fail("the rendered to (%q) or from (%q) is empty", to, from)
	}
	timeout := r.intProp(st, "timeout", defaultOutgoingTimeout, b)
	if timeout <= 0 {
		timeout = defaultOutgoingTimeout
	}
	timeout = min(timeout, maxOutgoingTimeout)
	var record *RecordingOptions
	if r.boolProp(st, "record", false, b) {
		record = &RecordingOptions{Channels: 1, StatusCallbackMethod: "POST",
			StatusCallback: strings.TrimSpace(r.text(st, "recording_status_callback", b))}
		if strings.TrimSpace(r.text(st, "recording_channels", b)) == "dual" {
			record.Channels = 2
		}
		switch strings.TrimSpace(r.text(st, "trim", b)) {
		case "trim-silence", "true":
			record.Trim = true
		}
	}
	if md := strings.TrimSpace(r.text(st, "machine_detection", b)); md == "Enable" || md == "DetectMessageEnd" || r.boolProp(st, "detect_answering_machine", false, b) {
		r.log.Warn("studio: make-outgoing-call: answering machine detection is not supported; AnsweredBy is not set", "widget", st.Name)
	}
	if strings.TrimSpace(r.text(st, "sip_auth_username", b)) != "" {
		r.log.Warn("studio: make-outgoing-call: sip_auth_username/password are not supported; the call is placed without them", "widget", st.Name)
	}
	callSid := r.x.opts.NewSid("CA")
	vars["CallSid"], vars["CallStatus"] = callSid, "queued"
	setWidget(cx, st.Name, vars)
	// Bind the execution to the call before it can ring, so its requests
	// find the execution.
	rt := &r.ex.Runtime
	r.ex.CallSid, rt.Parked, rt.Dialing = callSid, st.Name, true
	r.ex.DateUpdated = r.x.opts.Clock.Now().UTC()
	if err := r.x.store.UpdateExecution(r.ctx, r.ex); err != nil {
		return false, "", fmt.Errorf("state %q (%s): saving the execution: %w", st.Name, st.Type, err)
	}
	u := r.x.outgoingURL(r.ex.FlowSid, st.Name, r.ex.Sid)
	err = r.x.opts.Calls.PlaceCall(r.ctx, OutgoingCall{
		CallSid: callSid, To: to, From: from, URL: u, StatusCallback: u,
		Timeout: time.Duration(timeout) * time.Second, SendDigits: strings.TrimSpace(r.text(st, "send_digits", b)),
		Record: record,
	})
	if err != nil {
		r.ex.CallSid, rt.Parked, rt.Dialing = "", "", false
		delete(vars, "CallSid")
		return fail("the call could not be placed: %v", err)
	}
	r.log.Info("studio: outgoing call placed", "widget", st.Name, "call_sid", callSid, "to", to, "from", from, "timeout", timeout,
		"record", record != nil)
	return true, "", nil
}

// withDefault renders a string property, or def when it is absent or blank.
func (r *runner) withDefault(st *State, name, def string, b map[string]any) string {
	tmpl := st.Properties.Text(name)
	if strings.TrimSpace(tmpl) == "" {
		tmpl = def
	}
	return r.render(st, name, tmpl, b)
}

// outgoingEvent is a make-outgoing-call's event for its call's status.
func outgoingEvent(widgetType, callStatus, answeredBy string) string {
	switch callStatus {
	case "busy":
		return "busy"
	case "no-answer":
		return "noAnswer"
	case "failed", "canceled":
		return "failed"
	}
	if widgetType == "make-outgoing-call-v1" && strings.HasPrefix(answeredBy, "machine") {
		return "answeredByMachine"
	}
	return "answered"
}

// outgoingOver goes on with an execution whose outgoing call ended
// before answering (its status callback, or EndCall): in the background,
// so the call engine's request is answered at once.
func (x *Executor) outgoingOver(executionSid, callSid, status string, params url.Values) {
	p := paramMap(params)
	delete(p, ParamExecution)
	x.spawn(func(ctx context.Context) { x.continueWithoutCall(ctx, executionSid, callSid, status, p) })
}

// continueWithoutCall takes the make-outgoing-call transition for status
// and runs the flow on without a call (or, for a call that answered and
// already ended, until its next call widget).
func (x *Executor) continueWithoutCall(ctx context.Context, executionSid, callSid, status string, params map[string]any) {
	log := x.log.With("execution_sid", executionSid)
	ex, unlock, err := x.lockExecution(ctx, executionSid)
	if err != nil {
		log.Error("studio: loading the execution failed", "error", err)
		return
	}
	defer unlock()
	rt := &ex.Runtime
	if ex.Status != StatusActive || !rt.Dialing || ex.CallSid != callSid {
		return // already handled (status callback and EndCall both report it)
	}
	log = log.With("flow_sid", ex.FlowSid)
	r, ok := x.runnerOrEnd(ctx, log, ex)
	if !ok {
		return
	}
	fl, cx := r.top()
	st := fl.State(rt.Parked)
	if st == nil {
		r.abort(fmt.Errorf("the outgoing call %s ended while the execution waits on %q, which is not in the flow", callSid, rt.Parked))
		return
	}
	event := outgoingEvent(st.Type, status, "")
	vars := map[string]any{}
	if old, ok := sub(cx, "widgets")[st.Name].(map[string]any); ok {
		for k, v := range old {
			vars[k] = v
		}
	}
	for k, v := range params {
		vars[k] = v
	}
	vars["CallStatus"] = status
	setWidget(cx, st.Name, vars)
	rt.Parked, rt.Dialing = "", false
	if event == "answered" {
		r.hungUp = true // it answered, and is already over
	} else {
		ex.CallSid = "" // the flow goes on without a call
	}
	log.Info("studio: outgoing call ended", "call_sid", callSid, "widget", st.Name, "call_status", status, "event", event)
	r.run(st, event, st.Next(event))
}

// redirectTimedOut is an add-twiml-redirect's timer: if the execution
// still waits on that widget, it takes "timeout". When the path reaches a
// call widget, the live call is redirected into the flow; when it ends,
// the call stays with the external TwiML.
func (x *Executor) redirectTimedOut(ctx context.Context, executionSid, callSid, widget string, deadline time.Time) {
	unlockCall := x.locks.lock(callSid) // as a request of the call would
	defer unlockCall()
	log := x.log.With("call_sid", callSid, "execution_sid", executionSid)
	ex, unlock, err := x.lockExecution(ctx, executionSid)
	if err != nil {
		log.Error("studio: loading the execution failed", "error", err)
		return
	}
	defer unlock()
	rt := &ex.Runtime
	if ex.Status != StatusActive || ex.CallSid != callSid || rt.Parked != widget || !rt.Deadline.Equal(deadline) {
		return // it returned, ended or moved on meanwhile
	}
	log = log.With("flow_sid", ex.FlowSid)
	r, ok := x.runnerOrEnd(ctx, log, ex)
	if !ok {
		return
	}
	fl, cx := r.top()
	st := fl.State(widget)
	if st == nil || st.Type != "add-twiml-redirect" {
		r.abort(fmt.Errorf("the add-twiml-redirect timer fired for %q, which is not an add-twiml-redirect of the flow", widget))
		return
	}
	log.Info("studio: add-twiml-redirect timed out", "widget", widget)
	setWidget(cx, st.Name, map[string]any{})
	rt.Parked, rt.Deadline = "", time.Time{}
	doc := r.run(st, "timeout", st.Next("timeout"))
	if ex.Status != StatusActive && !r.handedOff {
		log.Info("studio: the call stays with the external TwiML", "reason", ex.EndReason)
		return
	}
	if err := x.opts.Calls.RedirectCall(ctx, callSid, doc); err != nil {
		log.Warn("studio: the call could not be taken back into the flow", "error", err)
		r.end("the call could not be taken back after the add-twiml-redirect timeout: " + err.Error())
		return
	}
	log.Info("studio: call taken back into the flow", "widget", rt.Parked)
}
