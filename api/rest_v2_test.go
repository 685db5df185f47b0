package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/ivr/studio"
	"github.com/voxgate/voxgate/store"
)

// sayFlow is a valid flow: the trigger says hello on calls and REST
// starts, then the branch ends.
const sayFlow = `{"description":"t","initial_state":"Trigger","flags":{"allow_concurrent_calls":true},"states":[
 {"name":"Trigger","type":"trigger","transitions":[{"event":"incomingCall","next":"hello"},{"event":"incomingRequest","next":"hello"}],"properties":{}},
 {"name":"hello","type":"say-play","transitions":[{"event":"audioComplete"}],"properties":{"say":"Hello {{flow.data.name}}","loop":1}}]}`

// badFlow points a transition at a missing state.
const badFlow = `{"description":"t","initial_state":"Trigger","states":[
 {"name":"Trigger","type":"trigger","transitions":[{"event":"incomingCall","next":"nowhere"}],"properties":{}}]}`

// fakeFlowCaller records StartCall requests.
type fakeFlowCaller struct {
	mu    sync.Mutex
	calls []string // voice URLs
}

func (f *fakeFlowCaller) StartCall(_ context.Context, to, from, voiceURL string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, voiceURL)
	return fmt.Sprintf("CA%032d", len(f.calls)), nil
}

// v2Env is an env with the Studio API wired to an executor on its store.
type v2Env struct {
	*env
	x      *studio.Executor
	caller *fakeFlowCaller
}

func newV2Env(t *testing.T) *v2Env {
	v := &v2Env{caller: &fakeFlowCaller{}}
	v.env = newEnv(t, func(o *Options) {
		db := o.Store.(*store.SQLite)
		v.x = studio.NewExecutor(studio.Options{Flows: studio.NewSQLFlows(db), Store: studio.NewSQLStore(db),
			PublicURL: "http://gw.test", Logger: o.Logger})
		o.Flows = &FlowControl{Store: db, Executor: v.x, Calls: v.caller}
	})
	return v
}

// callFlow sends one webhook request of callSid to the executor at
// rawURL (the voice URL) and returns the TwiML.
func (v *v2Env) callFlow(rawURL, callSid string) string {
	v.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		v.t.Fatal(err)
	}
	u.Fragment = ""
	form := url.Values{"CallSid": {callSid}, "From": {"+15550001"}, "To": {"+15550002"}, "CallStatus": {"in-progress"}}
	req := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	v.x.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		v.t.Fatalf("flow webhook: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

type flowResp struct {
	Sid          string            `json:"sid"`
	AccountSid   string            `json:"account_sid"`
	FriendlyName string            `json:"friendly_name"`
	Definition   map[string]any    `json:"definition"`
	Status       string            `json:"status"`
	Revision     int               `json:"revision"`
	Valid        bool              `json:"valid"`
	Errors       []flowProblem     `json:"errors"`
	WebhookURL   string            `json:"webhook_url"`
	URL          string            `json:"url"`
	DateCreated  string            `json:"date_created"`
	Links        map[string]string `json:"links"`
}

type v2Meta struct {
	Page        int     `json:"page"`
	PageSize    int     `json:"page_size"`
	NextPageURL *string `json:"next_page_url"`
	PrevPageURL *string `json:"previous_page_url"`
	FirstURL    string  `json:"first_page_url"`
	URL         string  `json:"url"`
	Key         string  `json:"key"`
}

type invalidResp struct {
	Code    int `json:"code"`
	Status  int `json:"status"`
	Details struct {
		Errors []flowProblem `json:"errors"`
	} `json:"details"`
}

func (v *v2Env) createFlow(name, status, def string) flowResp {
	v.t.Helper()
	var f flowResp
	decode(v.t, v.do(http.MethodPost, "/v2/Flows", url.Values{"FriendlyName": {name}, "Status": {status}, "Definition": {def}}), http.StatusCreated, &f)
	return f
}

func TestV2FlowsCRUDAndRevisions(t *testing.T) {
	v := newV2Env(t)
	f := v.createFlow("Main", "published", sayFlow)
	if !strings.HasPrefix(f.Sid, "FW") || len(f.Sid) != 34 || f.AccountSid != testAccount || f.Revision != 1 || !f.Valid ||
		f.WebhookURL != testPublic+"/studio/"+f.Sid || f.URL != testPublic+"/v2/Flows/"+f.Sid || f.Definition["initial_state"] != "Trigger" ||
		f.Links["revisions"] != f.URL+"/Revisions" || !strings.HasSuffix(f.DateCreated, "Z") || f.Errors == nil {
		t.Fatalf("created flow %+v", f)
	}
	var up flowResp
	decode(t, v.do(http.MethodPost, "/v2/Flows/"+f.Sid, url.Values{"Status": {"draft"}, "CommitMessage": {"wip"}, "Definition": {badFlow}}), http.StatusOK, &up)
	if up.Revision != 2 || up.Valid || len(up.Errors) == 0 || up.FriendlyName != "Main" || up.Status != "draft" {
		t.Fatalf("updated %+v", up)
	}
	var got flowResp
	decode(t, v.do(http.MethodGet, "/v2/Flows/"+f.Sid, nil), http.StatusOK, &got)
	if got.Revision != 2 {
		t.Fatalf("fetched %+v", got)
	}
	for rev, want := range map[string]int{"1": 1, "2": 2, "LatestPublished": 1, "LatestDraft": 2, "LatestRevision": 2} {
		var r flowResp
		decode(t, v.do(http.MethodGet, "/v2/Flows/"+f.Sid+"/Revisions/"+rev, nil), http.StatusOK, &r)
		if r.Revision != want || r.Definition == nil || r.URL != f.URL+"/Revisions/"+fmt.Sprint(want) {
			t.Errorf("revision %s: %+v", rev, r)
		}
	}
	expectError(t, v.do(http.MethodGet, "/v2/Flows/"+f.Sid+"/Revisions/9", nil), http.StatusNotFound, 20404)
	var revs struct {
		Revisions []flowResp `json:"revisions"`
		Meta      v2Meta     `json:"meta"`
	}
	decode(t, v.do(http.MethodGet, "/v2/Flows/"+f.Sid+"/Revisions", url.Values{"PageSize": {"1"}}), http.StatusOK, &revs)
	if len(revs.Revisions) != 1 || revs.Revisions[0].Revision != 2 || revs.Meta.Key != "revisions" || revs.Meta.NextPageURL == nil {
		t.Fatalf("revisions page %+v", revs)
	}
	// Follow next_page_url as SDKs do.
	next, _ := url.Parse(*revs.Meta.NextPageURL)
	decode(t, v.do(http.MethodGet, next.Path+"?"+next.RawQuery, nil), http.StatusOK, &revs)
	if len(revs.Revisions) != 1 || revs.Revisions[0].Revision != 1 || revs.Meta.NextPageURL != nil || revs.Meta.PrevPageURL == nil || revs.Meta.Page != 1 {
		t.Fatalf("revisions page 2 %+v", revs)
	}
	v.createFlow("Second", "draft", sayFlow)
	var list struct {
		Flows []flowResp `json:"flows"`
		Meta  v2Meta     `json:"meta"`
	}
	decode(t, v.do(http.MethodGet, "/v2/Flows", nil), http.StatusOK, &list)
	if len(list.Flows) != 2 || list.Meta.Key != "flows" || list.Meta.PageSize != 50 || list.Meta.NextPageURL != nil || list.Flows[0].Definition != nil {
		t.Fatalf("list %+v", list)
	}
	resp := v.do(http.MethodDelete, "/v2/Flows/"+f.Sid, nil)
	decode(t, resp, http.StatusNoContent, nil)
	expectError(t, v.do(http.MethodGet, "/v2/Flows/"+f.Sid, nil), http.StatusNotFound, 20404)
	expectError(t, v.do(http.MethodDelete, "/v2/Flows/"+f.Sid, nil), http.StatusNotFound, 20404)
}

func TestV2FlowErrors(t *testing.T) {
	v := newV2Env(t)
	var inv invalidResp
	decode(t, v.do(http.MethodPost, "/v2/Flows", url.Values{"FriendlyName": {"x"}, "Status": {"published"}, "Definition": {badFlow}}), http.StatusBadRequest, &inv)
	if inv.Code != codeInvalidFlow || inv.Status != 400 || len(inv.Details.Errors) == 0 || !strings.HasPrefix(inv.Details.Errors[0].PropertyPath, "#/states/0/transitions") {
		t.Fatalf("invalid flow answer %+v", inv)
	}
	decode(t, v.do(http.MethodPost, "/v2/Flows/Validate", url.Values{"FriendlyName": {"x"}, "Status": {"draft"}, "Definition": {badFlow}}), http.StatusBadRequest, &inv)
	if len(inv.Details.Errors) == 0 || inv.Details.Errors[0].PropertyPath == "" {
		t.Fatalf("validate answer %+v", inv)
	}
	decode(t, v.do(http.MethodPost, "/v2/Flows/Validate", url.Values{"FriendlyName": {"x"}, "Status": {"draft"}, "Definition": {"{not json"}}), http.StatusBadRequest, &inv)
	var ok map[string]any
	decode(t, v.do(http.MethodPost, "/v2/Flows/Validate", url.Values{"FriendlyName": {"x"}, "Status": {"draft"}, "Definition": {sayFlow}}), http.StatusOK, &ok)
	if ok["valid"] != true {
		t.Fatalf("validate ok %v", ok)
	}
	tests := []struct {
		name string
		form url.Values
		code int
	}{
		{"no status", url.Values{"FriendlyName": {"x"}, "Definition": {sayFlow}}, codeUnsupportedParam},
		{"bad status", url.Values{"FriendlyName": {"x"}, "Status": {"live"}, "Definition": {sayFlow}}, codeUnsupportedParam},
		{"no name", url.Values{"Status": {"draft"}, "Definition": {sayFlow}}, codeInvalidName},
		{"no definition", url.Values{"FriendlyName": {"x"}, "Status": {"draft"}}, codeUnsupportedParam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, v.do(http.MethodPost, "/v2/Flows", tc.form), http.StatusBadRequest, tc.code)
		})
	}
	expectError(t, v.request(http.MethodGet, "/v2/Flows", nil, false), http.StatusUnauthorized, 20003)
	expectError(t, v.do(http.MethodPut, "/v2/Flows", nil), http.StatusMethodNotAllowed, 20004)
	expectError(t, v.do(http.MethodGet, "/v2/Nothing", nil), http.StatusNotFound, 20404)
	plain := newEnv(t)
	expectError(t, plain.do(http.MethodGet, "/v2/Flows", nil), http.StatusNotImplemented, 20503)
}

type execResp struct {
	Sid            string            `json:"sid"`
	FlowSid        string            `json:"flow_sid"`
	Status         string            `json:"status"`
	InitiatedBy    string            `json:"initiated_by"`
	FlowVersion    int               `json:"flow_version"`
	ContactAddress string            `json:"contact_channel_address"`
	Context        map[string]any    `json:"context"`
	Links          map[string]string `json:"links"`
}

type stepResp struct {
	Sid              string         `json:"sid"`
	Name             string         `json:"name"`
	TransitionedFrom string         `json:"transitioned_from"`
	TransitionedTo   string         `json:"transitioned_to"`
	Type             string         `json:"type"`
	Context          map[string]any `json:"context"`
	URL              string         `json:"url"`
}

func TestV2ExecutionsOfACallAndARESTStart(t *testing.T) {
	v := newV2Env(t)
	f := v.createFlow("Main", "published", sayFlow)
	flowURL := "http://gw.test/studio/" + f.Sid

	// An inbound call runs the flow; the API reads what the executor wrote.
	twiml := v.callFlow(flowURL, "CA00000000000000000000000000000077")
	if !strings.Contains(twiml, "Hello") {
		t.Fatalf("twiml %s", twiml)
	}
	var list struct {
		Executions []execResp `json:"executions"`
		Meta       v2Meta     `json:"meta"`
	}
	path := "/v2/Flows/" + f.Sid + "/Executions"
	decode(t, v.do(http.MethodGet, path, nil), http.StatusOK, &list)
	if len(list.Executions) != 1 || list.Executions[0].Status != "active" || list.Executions[0].FlowVersion != 1 || list.Meta.Key != "executions" {
		t.Fatalf("executions %+v", list)
	}
	ex := list.Executions[0]
	var steps struct {
		Steps []stepResp `json:"steps"`
	}
	decode(t, v.do(http.MethodGet, path+"/"+ex.Sid+"/Steps", nil), http.StatusOK, &steps)
	if len(steps.Steps) != 1 || steps.Steps[0].Name != "incomingCall" || steps.Steps[0].TransitionedFrom != "Trigger" || steps.Steps[0].TransitionedTo != "hello" {
		t.Fatalf("steps %+v", steps)
	}
	var st stepResp
	decode(t, v.do(http.MethodGet, path+"/"+ex.Sid+"/Steps/"+steps.Steps[0].Sid, nil), http.StatusOK, &st)
	if st.Sid != steps.Steps[0].Sid || st.Type != "trigger" {
		t.Fatalf("step %+v", st)
	}
	var sc struct {
		Context map[string]any `json:"context"`
		StepSid string         `json:"step_sid"`
	}
	decode(t, v.do(http.MethodGet, path+"/"+ex.Sid+"/Steps/"+st.Sid+"/Context", nil), http.StatusOK, &sc)
	if sc.StepSid != st.Sid || sc.Context["trigger"] == nil {
		t.Fatalf("step context %+v", sc)
	}
	expectError(t, v.do(http.MethodGet, path+"/"+ex.Sid+"/Steps/FTnope", nil), http.StatusNotFound, 20404)
	var cx struct {
		Context      map[string]any `json:"context"`
		ExecutionSid string         `json:"execution_sid"`
	}
	decode(t, v.do(http.MethodGet, path+"/"+ex.Sid+"/Context", nil), http.StatusOK, &cx)
	if cx.ExecutionSid != ex.Sid || cx.Context["flow"] == nil {
		t.Fatalf("context %+v", cx)
	}
	// End it through the API.
	expectError(t, v.do(http.MethodPost, path+"/"+ex.Sid, url.Values{"Status": {"active"}}), http.StatusBadRequest, codeUnsupportedParam)
	var ended execResp
	decode(t, v.do(http.MethodPost, path+"/"+ex.Sid, url.Values{"Status": {"ended"}}), http.StatusOK, &ended)
	if ended.Status != "ended" {
		t.Fatalf("ended %+v", ended)
	}
	decode(t, v.do(http.MethodGet, path, url.Values{"Status": {"active"}}), http.StatusOK, &list)
	if len(list.Executions) != 0 {
		t.Fatalf("active after end %+v", list)
	}
	decode(t, v.do(http.MethodGet, path, url.Values{"DateCreatedFrom": {"2200-01-01T00:00:00Z"}}), http.StatusOK, &list)
	if len(list.Executions) != 0 {
		t.Fatalf("future filter %+v", list)
	}
	decode(t, v.do(http.MethodGet, path, url.Values{"DateCreatedTo": {"2200-01-01T00:00:00Z"}}), http.StatusOK, &list)
	if len(list.Executions) != 1 {
		t.Fatalf("past filter %+v", list)
	}

	// A REST start: the call is placed with the prepared execution's URL.
	expectError(t, v.do(http.MethodPost, path, url.Values{"From": {"+1555"}}), http.StatusBadRequest, codeNoTo)
	expectError(t, v.do(http.MethodPost, path, url.Values{"To": {"+1666"}, "From": {"+1555"}, "Parameters": {"[1"}}), http.StatusBadRequest, codeUnsupportedParam)
	var started execResp
	decode(t, v.do(http.MethodPost, path, url.Values{"To": {"+15550001"}, "From": {"+15550002"}, "Parameters": {`{"name":"Ada"}`}}), http.StatusCreated, &started)
	if started.Status != "active" || started.ContactAddress != "+15550001" || !strings.HasPrefix(started.InitiatedBy, "CA") || len(v.caller.calls) != 1 {
		t.Fatalf("started %+v calls %v", started, v.caller.calls)
	}
	expectError(t, v.do(http.MethodPost, path, url.Values{"To": {"+15550001"}, "From": {"+15550002"}}), http.StatusConflict, codeConflict)
	twiml = v.callFlow(v.caller.calls[0], "CA00000000000000000000000000000078")
	if !strings.Contains(twiml, "Hello Ada") {
		t.Fatalf("REST-started twiml %s", twiml)
	}
	decode(t, v.do(http.MethodGet, path+"/"+started.Sid+"/Steps", nil), http.StatusOK, &steps)
	if len(steps.Steps) != 1 || steps.Steps[0].Name != "incomingRequest" {
		t.Fatalf("REST steps %+v", steps)
	}
	var fetched execResp
	decode(t, v.do(http.MethodGet, path+"/"+started.Sid, nil), http.StatusOK, &fetched)
	data := fetched.Context["flow"].(map[string]any)["data"].(map[string]any)
	if data["name"] != "Ada" || fetched.InitiatedBy != "CA00000000000000000000000000000078" {
		t.Fatalf("fetched %+v", fetched)
	}
	// Delete.
	decode(t, v.do(http.MethodDelete, path+"/"+started.Sid, nil), http.StatusNoContent, nil)
	expectError(t, v.do(http.MethodGet, path+"/"+started.Sid, nil), http.StatusNotFound, 20404)
	expectError(t, v.do(http.MethodGet, "/v2/Flows/FWother/Executions/"+ex.Sid, nil), http.StatusNotFound, 20404)
}
