package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/voxgate/voxgate/studio"
)

// executionJSON is Twilio's Execution resource.
func (a *v2API) executionJSON(r *http.Request, ex *studio.Execution) map[string]any {
	self := a.base(r) + "/Flows/" + ex.FlowSid + "/Executions/" + ex.Sid
	initiated := ex.InitiatedBy
	if initiated == "" {
		initiated = "API"
	}
	return map[string]any{
		"sid":                     ex.Sid,
		"account_sid":             a.rest.opts.AccountSID,
		"flow_sid":                ex.FlowSid,
		"contact_sid":             ex.ContactSid,
		"contact_channel_address": ex.ContactAddress,
		"flow_version":            ex.FlowRevision,
		"context":                 contextOrEmpty(ex.Context),
		"status":                  ex.Status,
		"initiated_by":            initiated,
		"date_created":            iso8601(ex.DateCreated),
		"date_updated":            iso8601(ex.DateUpdated),
		"url":                     self,
		"links": map[string]string{
			"steps":             self + "/Steps",
			"execution_context": self + "/Context",
		},
	}
}

// contextOrEmpty is c, or {} when nil.
func contextOrEmpty(c map[string]any) map[string]any {
	if c == nil {
		return map[string]any{}
	}
	return c
}

// stepJSON is Twilio's Step resource.
func (a *v2API) stepJSON(r *http.Request, ex *studio.Execution, s *studio.Step) map[string]any {
	self := a.base(r) + "/Flows/" + ex.FlowSid + "/Executions/" + ex.Sid + "/Steps/" + s.Sid
	return map[string]any{
		"sid":               s.Sid,
		"account_sid":       a.rest.opts.AccountSID,
		"flow_sid":          ex.FlowSid,
		"execution_sid":     ex.Sid,
		"parent_step_sid":   nullable(s.ParentStepSid),
		"name":              s.Name,
		"context":           rawOrEmpty(s.Context),
		"transitioned_from": s.TransitionedFrom,
		"transitioned_to":   s.TransitionedTo,
		"type":              s.Type,
		"date_created":      iso8601(s.DateCreated),
		"date_updated":      iso8601(s.DateCreated),
		"url":               self,
		"links":             map[string]string{"step_context": self + "/Context"},
	}
}

// rawOrEmpty is raw, or {} when empty.
func rawOrEmpty(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

// execution loads execution ids[1] of flow ids[0] (404 when it belongs to
// another flow).
func (a *v2API) execution(r *http.Request, ids []string) (*studio.Execution, error) {
	if err := a.requireExecutor(); err != nil {
		return nil, err
	}
	ex, err := a.flows.Executor.Store().Execution(r.Context(), ids[1])
	if err != nil {
		return nil, studioError(r, "fetch execution", err)
	}
	if ex.FlowSid != ids[0] {
		return nil, notFound(r)
	}
	return ex, nil
}

// createExecution is POST /v2/Flows/{FW}/Executions: To, From,
// Parameters (a JSON object) → an execution that runs the flow from its
// incomingRequest transition in the background; its make-outgoing-call
// widget places the call.
func (a *v2API) createExecution(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireExecutor(); err != nil {
		return err
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	to, from := form.Get("To"), form.Get("From")
	if to == "" {
		return badRequest(codeNoTo, "Missing required parameter To in the post body")
	}
	if from == "" {
		return badRequest(codeNoFrom, "Missing required parameter From in the post body")
	}
	var data map[string]any
	if p := form.Get("Parameters"); p != "" {
		d := json.NewDecoder(bytes.NewReader([]byte(p)))
		d.UseNumber()
		if err := d.Decode(&data); err != nil {
			return badRequest(codeUnsupportedParam, "Parameters must be a JSON object: %v", err)
		}
	}
	ex, err := a.flows.Executor.StartExecution(r.Context(), ids[0], to, from, data)
	var busy *studio.ActiveExecutionError
	if errors.As(err, &busy) {
		return &Error{Status: http.StatusConflict, Code: codeConflict,
			Message: "Execution " + busy.ExecutionSid + " is already active for contact " + busy.Contact}
	}
	if err != nil {
		return studioError(r, "start execution", err)
	}
	writeJSON(w, http.StatusCreated, a.executionJSON(r, ex))
	return nil
}

// listExecutions is GET /v2/Flows/{FW}/Executions (Status,
// DateCreatedFrom, DateCreatedTo, paging).
func (a *v2API) listExecutions(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireExecutor(); err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := parseV2Page(q)
	if err != nil {
		return err
	}
	f := studio.ExecutionFilter{FlowSid: ids[0], Status: q.Get("Status")}
	if f.Status != "" && f.Status != studio.StatusActive && f.Status != studio.StatusEnded {
		return badRequest(codeUnsupportedParam, "Status must be active or ended, not %q", f.Status)
	}
	for name, dst := range map[string]*time.Time{"DateCreatedFrom": &f.CreatedFrom, "DateCreatedTo": &f.CreatedTo} {
		if v := q.Get(name); v != "" {
			t, _, err := parseFilterTime(v)
			if err != nil {
				return badRequest(codeUnsupportedParam, "%s: %v", name, err)
			}
			*dst = t
		}
	}
	all, err := a.flows.Executor.Store().Executions(r.Context(), f)
	if err != nil {
		return studioError(r, "list executions", err)
	}
	from, to := p.window(len(all))
	out := make([]map[string]any, 0, to-from)
	for _, ex := range all[from:to] {
		out = append(out, a.executionJSON(r, ex))
	}
	a.writeV2List(w, r, "executions", out, p, to < len(all))
	return nil
}

// fetchExecution is GET …/Executions/{FN}.
func (a *v2API) fetchExecution(w http.ResponseWriter, r *http.Request, ids []string) error {
	ex, err := a.execution(r, ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.executionJSON(r, ex))
	return nil
}

// updateExecution is POST …/Executions/{FN} with Status=ended.
func (a *v2API) updateExecution(w http.ResponseWriter, r *http.Request, ids []string) error {
	if _, err := a.execution(r, ids); err != nil {
		return err
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if s := form.Get("Status"); s != studio.StatusEnded {
		return badRequest(codeUnsupportedParam, "Status must be ended, not %q", s)
	}
	ex, err := a.flows.Executor.End(r.Context(), ids[1], "ended through the API")
	if err != nil {
		return studioError(r, "end execution", err)
	}
	writeJSON(w, http.StatusOK, a.executionJSON(r, ex))
	return nil
}

// deleteExecution is DELETE …/Executions/{FN}.
func (a *v2API) deleteExecution(w http.ResponseWriter, r *http.Request, ids []string) error {
	if _, err := a.execution(r, ids); err != nil {
		return err
	}
	if err := a.flows.Executor.Store().DeleteExecution(r.Context(), ids[1]); err != nil {
		return studioError(r, "delete execution", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// executionContext is GET …/Executions/{FN}/Context.
func (a *v2API) executionContext(w http.ResponseWriter, r *http.Request, ids []string) error {
	ex, err := a.execution(r, ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account_sid":   a.rest.opts.AccountSID,
		"context":       contextOrEmpty(ex.Context),
		"flow_sid":      ex.FlowSid,
		"execution_sid": ex.Sid,
		"url":           a.base(r) + "/Flows/" + ex.FlowSid + "/Executions/" + ex.Sid + "/Context",
	})
	return nil
}

// steps loads the execution and its steps.
func (a *v2API) steps(r *http.Request, ids []string) (*studio.Execution, []*studio.Step, error) {
	ex, err := a.execution(r, ids)
	if err != nil {
		return nil, nil, err
	}
	steps, err := a.flows.Executor.Store().Steps(r.Context(), ex.Sid)
	if err != nil {
		return nil, nil, studioError(r, "list steps", err)
	}
	return ex, steps, nil
}

// listSteps is GET …/Executions/{FN}/Steps.
func (a *v2API) listSteps(w http.ResponseWriter, r *http.Request, ids []string) error {
	p, err := parseV2Page(r.URL.Query())
	if err != nil {
		return err
	}
	ex, steps, err := a.steps(r, ids)
	if err != nil {
		return err
	}
	from, to := p.window(len(steps))
	out := make([]map[string]any, 0, to-from)
	for _, s := range steps[from:to] {
		out = append(out, a.stepJSON(r, ex, s))
	}
	a.writeV2List(w, r, "steps", out, p, to < len(steps))
	return nil
}

// step finds step ids[2].
func (a *v2API) step(r *http.Request, ids []string) (*studio.Execution, *studio.Step, error) {
	ex, steps, err := a.steps(r, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range steps {
		if s.Sid == ids[2] {
			return ex, s, nil
		}
	}
	return nil, nil, notFound(r)
}

// fetchStep is GET …/Steps/{FT}.
func (a *v2API) fetchStep(w http.ResponseWriter, r *http.Request, ids []string) error {
	ex, s, err := a.step(r, ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.stepJSON(r, ex, s))
	return nil
}

// stepContext is GET …/Steps/{FT}/Context.
func (a *v2API) stepContext(w http.ResponseWriter, r *http.Request, ids []string) error {
	ex, s, err := a.step(r, ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account_sid":   a.rest.opts.AccountSID,
		"context":       rawOrEmpty(s.Context),
		"execution_sid": ex.Sid,
		"flow_sid":      ex.FlowSid,
		"step_sid":      s.Sid,
		"url":           a.base(r) + "/Flows/" + ex.FlowSid + "/Executions/" + ex.Sid + "/Steps/" + s.Sid + "/Context",
	})
	return nil
}
