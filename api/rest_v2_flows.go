package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// codeInvalidFlow is the code of an invalid flow definition (Twilio
// answers FlowValidate failures with 400 and details.errors[]).
const codeInvalidFlow = 20001

// flowProblem is one entry of a flow's errors/warnings and of
// details.errors[] in a 400.
type flowProblem struct {
	Message      string `json:"message"`
	PropertyPath string `json:"property_path"`
}

// checkedDefinition is a Definition parameter parsed and validated.
type checkedDefinition struct {
	raw      json.RawMessage
	errors   []flowProblem
	warnings []flowProblem
}

// checkDefinition parses and validates a Definition parameter. A
// definition that is not a flow at all yields one error at "#/".
func checkDefinition(def string) checkedDefinition {
	c := checkedDefinition{raw: json.RawMessage(def), errors: []flowProblem{}, warnings: []flowProblem{}}
	f, err := studio.Parse([]byte(def))
	if err != nil {
		c.errors = append(c.errors, flowProblem{Message: err.Error(), PropertyPath: "#/"})
		if !json.Valid(c.raw) {
			c.raw = nil
		}
		return c
	}
	for _, p := range studio.Validate(f) {
		fp := flowProblem{Message: p.String(), PropertyPath: p.Path}
		if fp.PropertyPath == "" {
			fp.PropertyPath = "#/"
		}
		if p.Severity == studio.SeverityWarning {
			c.warnings = append(c.warnings, fp)
		} else {
			c.errors = append(c.errors, fp)
		}
	}
	return c
}

// writeInvalidFlow writes Twilio's 400 for an invalid definition, with
// details.errors[] holding {message, property_path}.
func writeInvalidFlow(w http.ResponseWriter, problems []flowProblem) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"code":      codeInvalidFlow,
		"message":   "Invalid Flow Definition",
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", codeInvalidFlow),
		"status":    http.StatusBadRequest,
		"details":   map[string]any{"errors": problems},
	})
}

// flowForm is a validated create/update/validate request.
type flowForm struct {
	name, status, commit string
	def                  *checkedDefinition // nil when Definition is absent
}

// readFlowForm parses the request's form and reads FriendlyName, Status,
// Definition and CommitMessage; create says which must be present
// (create and validate need all three, update only Status).
func readFlowForm(w http.ResponseWriter, r *http.Request, create bool) (flowForm, error) {
	form, err := parseForm(w, r)
	if err != nil {
		return flowForm{}, err
	}
	f := flowForm{name: form.Get("FriendlyName"), status: form.Get("Status"), commit: form.Get("CommitMessage")}
	if f.status == "" {
		return f, badRequest(codeUnsupportedParam, "Missing required parameter Status in the post body")
	}
	if f.status != store.FlowDraft && f.status != store.FlowPublished {
		return f, badRequest(codeUnsupportedParam, "Status must be draft or published, not %q", f.status)
	}
	if create && f.name == "" {
		return f, badRequest(codeInvalidName, "Missing required parameter FriendlyName in the post body")
	}
	if def, ok := form["Definition"]; ok && len(def) > 0 {
		c := checkDefinition(def[0])
		f.def = &c
	} else if create {
		return f, badRequest(codeUnsupportedParam, "Missing required parameter Definition in the post body")
	}
	return f, nil
}

// invalid reports whether the form's definition cannot be saved: it is
// not JSON at all, or it has errors and is to be published (drafts may be
// saved with errors, marked valid=false).
func (f flowForm) invalid() bool {
	if f.def == nil {
		return false
	}
	return f.def.raw == nil || (len(f.def.errors) > 0 && f.status == store.FlowPublished)
}

// flowJSON is Twilio's Flow resource (or, with revision set, FlowRevision).
func (a *v2API) flowJSON(r *http.Request, fr store.FlowRevision, withDefinition, revision bool) map[string]any {
	base := a.base(r)
	self := base + "/Flows/" + fr.FlowSID
	m := map[string]any{
		"sid":            fr.FlowSID,
		"account_sid":    fr.AccountSID,
		"friendly_name":  fr.FriendlyName,
		"definition":     nil,
		"status":         fr.Status,
		"revision":       fr.Revision,
		"commit_message": nullable(fr.CommitMessage),
		"valid":          fr.Valid,
		"errors":         fr.Errors,
		"date_created":   iso8601(fr.DateCreated),
		"date_updated":   iso8601(fr.DateUpdated),
		"url":            self,
	}
	if withDefinition {
		m["definition"] = fr.Definition
	}
	if revision {
		m["url"] = self + "/Revisions/" + strconv.Itoa(fr.Revision)
		return m
	}
	m["warnings"] = fr.Warnings
	m["webhook_url"] = a.rest.baseURL(r) + "/studio/" + fr.FlowSID
	m["links"] = map[string]string{
		"test_users": self + "/TestUsers",
		"revisions":  self + "/Revisions",
		"executions": self + "/Executions",
	}
	return m
}

// revisionOf is the store revision the form describes.
func (a *v2API) revisionOf(sid string, f flowForm) store.FlowRevision {
	fr := store.FlowRevision{FlowSID: sid, AccountSID: a.rest.opts.AccountSID, FriendlyName: f.name, Status: f.status,
		CommitMessage: f.commit}
	if f.def != nil {
		fr.Definition = f.def.raw
		fr.Valid = len(f.def.errors) == 0
		fr.Errors, _ = json.Marshal(f.def.errors)
		fr.Warnings, _ = json.Marshal(f.def.warnings)
	}
	return fr
}

// createFlow is POST /v2/Flows.
func (a *v2API) createFlow(w http.ResponseWriter, r *http.Request, _ []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	f, err := readFlowForm(w, r, true)
	if err != nil {
		return err
	}
	if f.invalid() {
		writeInvalidFlow(w, f.def.errors)
		return nil
	}
	fr, err := a.flows.Store.CreateFlow(r.Context(), a.revisionOf("", f))
	if err != nil {
		return storeError(r, "create flow", err)
	}
	writeJSON(w, http.StatusCreated, a.flowJSON(r, fr, true, false))
	return nil
}

// updateFlow is POST /v2/Flows/{FW}: a new revision; absent FriendlyName
// and Definition keep the current ones.
func (a *v2API) updateFlow(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	f, err := readFlowForm(w, r, false)
	if err != nil {
		return err
	}
	cur, err := a.flows.Store.GetFlow(r.Context(), ids[0])
	if err != nil {
		return storeError(r, "update flow", err)
	}
	if f.name == "" {
		f.name = cur.FriendlyName
	}
	if f.def == nil {
		c := checkDefinition(string(cur.Definition))
		f.def = &c
	}
	if f.invalid() {
		writeInvalidFlow(w, f.def.errors)
		return nil
	}
	fr, err := a.flows.Store.UpdateFlow(r.Context(), a.revisionOf(ids[0], f))
	if err != nil {
		return storeError(r, "update flow", err)
	}
	writeJSON(w, http.StatusOK, a.flowJSON(r, fr, true, false))
	return nil
}

// validateFlow is POST /v2/Flows/Validate.
func (a *v2API) validateFlow(w http.ResponseWriter, r *http.Request, _ []string) error {
	f, err := readFlowForm(w, r, true)
	if err != nil {
		return err
	}
	if f.def.raw == nil || len(f.def.errors) > 0 {
		writeInvalidFlow(w, f.def.errors)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true})
	return nil
}

// fetchFlow is GET /v2/Flows/{FW}.
func (a *v2API) fetchFlow(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	fr, err := a.flows.Store.GetFlow(r.Context(), ids[0])
	if err != nil {
		return storeError(r, "fetch flow", err)
	}
	writeJSON(w, http.StatusOK, a.flowJSON(r, fr, true, false))
	return nil
}

// deleteFlow is DELETE /v2/Flows/{FW}.
func (a *v2API) deleteFlow(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	if err := a.flows.Store.DeleteFlow(r.Context(), ids[0]); err != nil {
		return storeError(r, "delete flow", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listFlows is GET /v2/Flows (definition null in lists).
func (a *v2API) listFlows(w http.ResponseWriter, r *http.Request, _ []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	p, err := parseV2Page(r.URL.Query())
	if err != nil {
		return err
	}
	all, err := allRevisions(func(pg store.Page) ([]store.FlowRevision, store.PageToken, error) {
		return a.flows.Store.ListFlows(r.Context(), a.rest.opts.AccountSID, pg)
	})
	if err != nil {
		return storeError(r, "list flows", err)
	}
	a.writeRevisionList(w, r, "flows", all, p, false)
	return nil
}

// listRevisions is GET /v2/Flows/{FW}/Revisions.
func (a *v2API) listRevisions(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	p, err := parseV2Page(r.URL.Query())
	if err != nil {
		return err
	}
	all, err := allRevisions(func(pg store.Page) ([]store.FlowRevision, store.PageToken, error) {
		return a.flows.Store.ListFlowRevisions(r.Context(), ids[0], pg)
	})
	if err != nil {
		return storeError(r, "list revisions", err)
	}
	a.writeRevisionList(w, r, "revisions", all, p, true)
	return nil
}

// allRevisions reads every page list gives, in order.
func allRevisions(list func(store.Page) ([]store.FlowRevision, store.PageToken, error)) ([]store.FlowRevision, error) {
	var all []store.FlowRevision
	for token := store.PageToken(""); ; {
		page, next, err := list(store.Page{Size: store.MaxPageSize, Token: token})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// writeRevisionList writes p's window of all as a v2 list under key, as
// Flow resources or, with revisions set, FlowRevision resources.
func (a *v2API) writeRevisionList(w http.ResponseWriter, r *http.Request, key string, all []store.FlowRevision, p v2Page, revisions bool) {
	from, to := p.window(len(all))
	out := make([]map[string]any, 0, to-from)
	for _, fr := range all[from:to] {
		out = append(out, a.flowJSON(r, fr, false, revisions))
	}
	a.writeV2List(w, r, key, out, p, to < len(all))
}

// fetchRevision is GET /v2/Flows/{FW}/Revisions/{n|LatestPublished|LatestDraft|LatestRevision}.
func (a *v2API) fetchRevision(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	var (
		fr  store.FlowRevision
		err error
	)
	switch ids[1] {
	case "LatestPublished":
		fr, err = a.flows.Store.LatestFlowRevision(r.Context(), ids[0], store.FlowPublished)
	case "LatestDraft":
		fr, err = a.flows.Store.LatestFlowRevision(r.Context(), ids[0], store.FlowDraft)
	case "LatestRevision":
		fr, err = a.flows.Store.LatestFlowRevision(r.Context(), ids[0], "")
	default:
		n, convErr := strconv.Atoi(ids[1])
		if convErr != nil || n < 1 {
			return notFound(r)
		}
		fr, err = a.flows.Store.GetFlowRevision(r.Context(), ids[0], n)
	}
	if err != nil {
		return storeError(r, "fetch revision", err)
	}
	writeJSON(w, http.StatusOK, a.flowJSON(r, fr, true, true))
	return nil
}

// studioError maps an ivr/studio error: not found becomes r's 404.
func studioError(r *http.Request, op string, err error) error {
	if errors.Is(err, studio.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return notFound(r)
	}
	if errors.Is(err, store.ErrInvalid) {
		return badRequest(codeUnsupportedParam, "Invalid request: %v", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
