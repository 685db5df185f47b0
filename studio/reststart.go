package studio

import (
	"context"
	"errors"
	"fmt"
)

// ParamExecution is the query parameter naming the execution on the URL a
// make-outgoing-call widget's call requests when it answers.
const ParamExecution = "ExecutionSid"

// ActiveExecutionError is StartExecution's error when the contact already
// has an active execution of the flow (Studio allows one per contact).
type ActiveExecutionError struct {
	ExecutionSid string
	Contact      string
}

func (e *ActiveExecutionError) Error() string {
	return "studio: execution " + e.ExecutionSid + " is already active for contact " + e.Contact
}

// StartExecution starts a REST-triggered execution (POST
// /v2/Flows/{FW}/Executions): active, for contact to, with from as
// flow.channel.address and data as flow.data and
// trigger.request.parameters. It returns once the execution is stored;
// the flow then runs from the trigger's incomingRequest transition on a
// goroutine the executor owns, without a call: widgets that do not need
// one run at once, and a make-outgoing-call widget places the call
// (Options.Calls) that the rest of the flow runs on. A call widget
// reached without a call ends the execution with an error. A contact has
// at most one active execution of a flow (*ActiveExecutionError).
func (x *Executor) StartExecution(ctx context.Context, flowSid, to, from string, data map[string]any) (*Execution, error) {
	// One lock per flow and contact, so that two starts cannot both pass
	// the one-active-execution check.
	unlock, err := x.lockContact(ctx, flowSid, to)
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	defer unlock()
	fl, err := x.flowFor(ctx, flowSid, to)
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	if problems := Validate(fl); HasErrors(problems) {
		return nil, fmt.Errorf("start execution: flow %s revision %d is invalid", flowSid, fl.Revision)
	}
	active, err := x.store.Executions(ctx, ExecutionFilter{FlowSid: flowSid, Status: StatusActive, ContactAddress: to})
	if err != nil {
		return nil, fmt.Errorf("start execution: %w", err)
	}
	if len(active) > 0 {
		return nil, &ActiveExecutionError{ExecutionSid: active[0].Sid, Contact: to}
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
		return nil, fmt.Errorf("start execution: %w", err)
	}
	x.log.Info("studio: execution started through the API", "execution_sid", ex.Sid, "flow_sid", flowSid,
		"to", to, "from", from, "revision", fl.Revision)
	sid := ex.Sid
	if !x.spawn(func(ctx context.Context) { x.runRequest(ctx, sid) }) {
		_ = x.finish(ctx, ex, "the executor is shutting down")
		return nil, errors.New("start execution: the executor is shutting down")
	}
	return ex, nil
}

// runRequest runs a REST-started execution from its trigger's
// incomingRequest transition (in the background).
func (x *Executor) runRequest(ctx context.Context, sid string) {
	log := x.log.With("execution_sid", sid)
	ex, unlock, err := x.lockContactExecution(ctx, sid)
	if err != nil {
		log.Error("studio: loading the execution failed", "error", err)
		return
	}
	defer unlock()
	if ex.Status != StatusActive || ex.Runtime.Steps > 0 {
		return // ended through the API meanwhile
	}
	log = log.With("flow_sid", ex.FlowSid)
	r, ok := x.runnerOrEnd(ctx, log, ex)
	if !ok {
		return
	}
	fl, _ := r.top()
	trigger := fl.State(fl.InitialState)
	r.run(trigger, "incomingRequest", trigger.Next("incomingRequest"))
}
