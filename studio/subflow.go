package studio

import (
	"fmt"
	"strconv"
	"strings"
)

// enterSubflow runs a run-subflow widget: it pushes a frame for the
// subflow and returns the subflow's trigger with incomingParent. When the
// subflow cannot run, the widget takes "failed".
func (r *runner) enterSubflow(st *State) (*State, outcome, error) {
	b := r.bindings()
	_, cx := r.top()
	parentFlow := r.flows[len(r.flows)-1]
	if len(r.ex.Runtime.Subflows) >= r.x.limits.MaxSubflowDepth {
		return nil, outcome{}, fmt.Errorf("state %q (run-subflow): subflows nested deeper than %d", st.Name, r.x.limits.MaxSubflowDepth)
	}
	params, err := r.keyValues(st, "parameters", b)
	if err != nil {
		return nil, outcome{}, err
	}
	child, err := r.loadSubflow(st, b)
	if err != nil {
		r.log.Warn("studio: subflow cannot run", "widget", st.Name, "error", err)
		setWidget(cx, st.Name, map[string]any{})
		return st, finished(st, "failed"), nil
	}
	parameters := make(map[string]any, len(params))
	for _, kv := range params {
		parameters[kv.Key] = kv.Value
	}
	flowCx, _ := r.ex.Context["flow"].(map[string]any)
	frame := Frame{
		FlowSid: child.Sid, Revision: child.Revision, Widget: st.Name, ParentStep: r.ex.Runtime.LastStep,
		Context: map[string]any{
			"flow": map[string]any{
				"flow_sid": child.Sid, "sid": r.ex.Sid, "channel": flowCx["channel"],
				"data": map[string]any{}, "variables": map[string]any{},
			},
			"contact": r.ex.Context["contact"],
			"trigger": map[string]any{"parent": map[string]any{
				"parameters": parameters, "step_sid": r.ex.Runtime.LastStep, "execution_sid": r.ex.Sid,
				"flow_sid": parentFlow.Sid, "trigger_type": "incomingCall",
			}},
			"widgets": map[string]any{},
		},
	}
	r.ex.Runtime.Subflows = append(r.ex.Runtime.Subflows, frame)
	r.flows = append(r.flows, child)
	r.log.Info("studio: subflow entered", "widget", st.Name, "subflow_sid", child.Sid, "revision", child.Revision)
	trigger := child.State(child.InitialState)
	return trigger, finished(trigger, "incomingParent"), nil
}

// loadSubflow loads and validates the flow a run-subflow widget names.
func (r *runner) loadSubflow(st *State, b map[string]any) (*Flow, error) {
	sid := strings.TrimSpace(r.text(st, "flow_sid", b))
	if sid == "" {
		return nil, fmt.Errorf("flow_sid is empty")
	}
	revision := 0
	switch rev := strings.TrimSpace(r.text(st, "flow_revision", b)); rev {
	case "", "LatestPublished", "LatestDraft":
	default:
		n, err := strconv.Atoi(rev)
		if err != nil {
			return nil, fmt.Errorf("flow_revision %q: want LatestPublished, LatestDraft or a number", rev)
		}
		revision = n
	}
	child, err := r.x.loadFlow(r.ctx, sid, revision)
	if err != nil {
		return nil, err
	}
	if problems := Validate(child); HasErrors(problems) {
		for _, p := range problems {
			if p.Severity == SeverityError {
				return nil, fmt.Errorf("subflow %s is invalid: %s", sid, p)
			}
		}
	}
	return child, nil
}

// leaveSubflow pops the innermost subflow at the end of its branch: its
// flow.variables become the run-subflow widget's outputs, and the widget
// takes "completed".
func (r *runner) leaveSubflow() (*State, string, error) {
	rt := &r.ex.Runtime
	n := len(rt.Subflows)
	frame := rt.Subflows[n-1]
	rt.Subflows = rt.Subflows[:n-1]
	r.flows = r.flows[:len(r.flows)-1]
	fl, cx := r.top()
	vars := map[string]any{}
	for k, v := range sub(sub(frame.Context, "flow"), "variables") {
		vars[k] = v
	}
	setWidget(cx, frame.Widget, vars)
	st := fl.State(frame.Widget)
	if st == nil {
		return nil, "", fmt.Errorf("subflow %s ended but widget %q of the parent flow is gone", frame.FlowSid, frame.Widget)
	}
	r.log.Info("studio: subflow completed", "widget", st.Name, "subflow_sid", frame.FlowSid)
	return st, "completed", nil
}
