package studio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ParamExecution is the query parameter of the voice URL
// [Executor.PrepareExecution] returns: the call that requests it runs the
// prepared execution instead of starting a new one.
const ParamExecution = "ExecutionSid"

// PrepareExecution creates the execution of a REST start (POST
// /v2/Flows/{FW}/Executions): active, for contact to, with from as
// flow.channel.address and data as flow.data and trigger.request.parameters.
// It returns the execution and the voice URL the outbound call to `to`
// must request (use it as the status callback too, so that a call that is
// never answered ends the execution). When the call answers, the flow
// runs from the trigger's incomingRequest transition; a
// make-outgoing-call-v2 widget there counts as the call just placed
// (event answered). Without an incomingRequest transition, incomingCall
// is followed.
func (x *Executor) PrepareExecution(ctx context.Context, flowSid, to, from string, data map[string]any) (*Execution, string, error) {
	fl, err := x.opts.Flows.Flow(ctx, flowSid)
	if err != nil {
		return nil, "", fmt.Errorf("prepare execution: %w", err)
	}
	if problems := Validate(fl); HasErrors(problems) {
		return nil, "", fmt.Errorf("prepare execution: flow %s revision %d is invalid", flowSid, fl.Revision)
	}
	if data == nil {
		data = map[string]any{}
	}
	now := x.opts.Clock.Now().UTC()
	ex := &Execution{
		Sid: x.opts.NewSid("FN"), FlowSid: flowSid, FlowRevision: fl.Revision,
		ContactSid: ContactSid(to), ContactAddress: to, Status: StatusActive,
		DateCreated: now, DateUpdated: now,
	}
	ex.Context = map[string]any{
		"flow": map[string]any{
			"flow_sid": flowSid, "sid": ex.Sid,
			"channel":   map[string]any{"address": from},
			"data":      data,
			"variables": map[string]any{},
		},
		"contact": map[string]any{"channel": map[string]any{"address": to}},
		"trigger": map[string]any{"request": map[string]any{"from": from, "to": to, "parameters": data}},
		"widgets": map[string]any{},
	}
	if err := x.store.CreateExecution(ctx, ex); err != nil {
		return nil, "", fmt.Errorf("prepare execution: %w", err)
	}
	q := url.Values{ParamExecution: {ex.Sid}}
	return ex, x.flowURL(flowSid) + "?" + q.Encode() + "#" + x.overrides(), nil
}

// adopt runs the prepared execution named by the request's
// ParamExecution for the call that requested it.
func (x *Executor) adopt(ctx context.Context, log *slog.Logger, req request) ([]byte, int) {
	sid := req.params.Get(ParamExecution)
	req.params.Del(ParamExecution)
	ex, err := x.store.Execution(ctx, sid)
	if err != nil {
		log.Warn("studio: call for an unknown prepared execution", "execution_sid", sid, "error", err)
		return twimlDocument(elem("Hangup")), http.StatusOK
	}
	log = log.With("execution_sid", ex.Sid)
	if ex.Status != StatusActive || ex.FlowSid != req.flowSid || (ex.CallSid != "" && ex.CallSid != req.callSid) {
		return twimlDocument(elem("Hangup")), http.StatusOK
	}
	ex.CallSid, ex.InitiatedBy = req.callSid, req.callSid
	if trig, ok := ex.Context["trigger"].(map[string]any); ok {
		trig["call"] = paramMap(req.params)
	}
	if req.final {
		if err := x.finish(ctx, ex, "the call ended ("+req.params.Get("CallStatus")+")"); err != nil {
			log.Error("studio: ending execution failed", "error", err)
		}
		return twimlDocument(), http.StatusOK
	}
	ex.DateUpdated = x.opts.Clock.Now().UTC()
	if err := x.store.UpdateExecution(ctx, ex); err != nil {
		log.Error("studio: saving the execution failed", "error", err)
		return []byte("studio: execution store: " + err.Error()), http.StatusInternalServerError
	}
	if req.progress {
		return twimlDocument(), http.StatusOK
	}
	r, err := x.newRunner(ctx, log, ex)
	if err != nil {
		log.Error("studio: cannot load the execution's flow", "error", err)
		_ = x.finish(ctx, ex, err.Error())
		return x.errorDocument(false), http.StatusOK
	}
	fl, cx := r.top()
	trigger := fl.State(fl.InitialState)
	next := trigger.Next("incomingRequest")
	if next == "" {
		return r.run(trigger, "incomingCall", trigger.Next("incomingCall")), http.StatusOK
	}
	out := fl.State(next)
	if out == nil || !strings.HasPrefix(out.Type, "make-outgoing-call") {
		return r.run(trigger, "incomingRequest", next), http.StatusOK
	}
	if err := r.step(fl, trigger, "incomingRequest", next, cx); err != nil {
		return r.abort(err), http.StatusOK
	}
	if widgets, ok := cx["widgets"].(map[string]any); ok {
		widgets[out.Name] = map[string]any{"CallSid": req.callSid, "CallStatus": req.params.Get("CallStatus"),
			"To": req.params.Get("To"), "From": req.params.Get("From")}
	}
	return r.run(out, "answered", out.Next("answered")), http.StatusOK
}
