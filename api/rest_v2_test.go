package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// sayFlow is a valid flow: an inbound call hears hello; a REST start
// calls the contact, who hears hello when answering. Then the branch ends.
const sayFlow = `{"description":"t","initial_state":"Trigger","flags":{"allow_concurrent_calls":true},"states":[
 {"name":"Trigger","type":"trigger","transitions":[{"event":"incomingCall","next":"hello"},{"event":"incomingRequest","next":"call"}],"properties":{}},
 {"name":"call","type":"make-outgoing-call-v2","transitions":[{"event":"answered","next":"hello"}],"properties":{"to":"{{contact.channel.address}}","from":"{{flow.channel.address}}","timeout":30}},
 {"name":"hello","type":"say-play","transitions":[{"event":"audioComplete"}],"properties":{"say":"Hello {{flow.data.name}}","loop":1}}]}`

// badFlow points a transition at a missing state.
const badFlow = `{"description":"t","initial_state":"Trigger","states":[
 {"name":"Trigger","type":"trigger","transitions":[{"event":"incomingCall","next":"nowhere"}],"properties":{}}]}`

// fakeFlowCalls records the calls the executor places.
type fakeFlowCalls struct {
	mu    sync.Mutex
	calls []studio.OutgoingCall
}

func (f *fakeFlowCalls) PlaceCall(_ context.Context, c studio.OutgoingCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return nil
}

func (f *fakeFlowCalls) RedirectCall(context.Context, string, []byte) error {
	return errors.New("not live")
}

// wait returns the n-th placed call once it is placed.
func (f *fakeFlowCalls) wait(t *testing.T, n int) studio.OutgoingCall {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		if len(f.calls) >= n {
			c := f.calls[n-1]
			f.mu.Unlock()
			return c
		}
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("call %d was never placed", n)
	return studio.OutgoingCall{}
}

// v2Env is an env with the Studio API wired to an executor on its store.
type v2Env struct {
	*env
	x     *studio.Executor
	calls *fakeFlowCalls
}

func newV2Env(t *testing.T) *v2Env {
	v := &v2Env{calls: &fakeFlowCalls{}}
	v.env = newEnv(t, func(o *Options) {
		db := o.Store.(*store.SQLite)
		v.x = studio.NewExecutor(studio.Options{Flows: studio.NewSQLFlows(db), Store: studio.NewSQLStore(db),
			Calls: v.calls, PublicURL: "http://gw.test", Logger: o.Logger})
		t.Cleanup(v.x.Close)
		o.Flows = &FlowControl{Store: db, Executor: v.x}
	})
	return v
}

// callFlow sends one webhook request of callSid to the executor at
// rawURL (the voice URL) and returns the TwiML.
func (v *v2Env) callFlow(rawURL, callSid string) string {
	v.t.Helper()
	return v.callFlowFrom(rawURL, callSid, "+15550001")
}

// callFlowFrom is callFlow for a call from caller.
func (v *v2Env) callFlowFrom(rawURL, callSid, caller string) string {
	v.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		v.t.Fatal(err)
	}
	u.Fragment = ""
	form := url.Values{"CallSid": {callSid}, "From": {caller}, "To": {"+15550002"}, "CallStatus": {"in-progress"}}
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

	// A REST start: 201 at once; the flow runs to its make-outgoing-call
	// widget in the background, which places the call.
	expectError(t, v.do(http.MethodPost, path, url.Values{"From": {"+1555"}}), http.StatusBadRequest, codeNoTo)
	expectError(t, v.do(http.MethodPost, path, url.Values{"To": {"+1666"}, "From": {"+1555"}, "Parameters": {"[1"}}), http.StatusBadRequest, codeUnsupportedParam)
	expectError(t, v.do(http.MethodPost, "/v2/Flows/FW"+strings.Repeat("0", 32)+"/Executions", url.Values{"To": {"+1666"}, "From": {"+1555"}}),
		http.StatusNotFound, 20404)
	var started execResp
	decode(t, v.do(http.MethodPost, path, url.Values{"To": {"+15550001"}, "From": {"+15550002"}, "Parameters": {`{"name":"Ada"}`}}), http.StatusCreated, &started)
	if started.Status != "active" || started.ContactAddress != "+15550001" || started.InitiatedBy != "API" || started.FlowVersion != 1 {
		t.Fatalf("started %+v", started)
	}
	expectError(t, v.do(http.MethodPost, path, url.Values{"To": {"+15550001"}, "From": {"+15550002"}}), http.StatusConflict, codeConflict)
	placed := v.calls.wait(t, 1)
	if placed.To != "+15550001" || placed.From != "+15550002" || placed.Timeout != 30*time.Second ||
		!strings.HasPrefix(placed.URL, "http://gw.test/studio/"+f.Sid+"?") || !strings.Contains(placed.URL, "ExecutionSid="+started.Sid) {
		t.Fatalf("placed %+v", placed)
	}
	twiml = v.callFlow(placed.URL, placed.CallSid)
	if !strings.Contains(twiml, "Hello Ada") {
		t.Fatalf("REST-started twiml %s", twiml)
	}
	decode(t, v.do(http.MethodGet, path+"/"+started.Sid+"/Steps", nil), http.StatusOK, &steps)
	if len(steps.Steps) != 2 || steps.Steps[0].Name != "incomingRequest" || steps.Steps[1].Name != "answered" || steps.Steps[1].TransitionedTo != "hello" {
		t.Fatalf("REST steps %+v", steps)
	}
	var fetched execResp
	decode(t, v.do(http.MethodGet, path+"/"+started.Sid, nil), http.StatusOK, &fetched)
	data := fetched.Context["flow"].(map[string]any)["data"].(map[string]any)
	call := fetched.Context["widgets"].(map[string]any)["call"].(map[string]any)
	if data["name"] != "Ada" || call["CallSid"] != placed.CallSid || fetched.Status != "active" {
		t.Fatalf("fetched %+v", fetched)
	}
	// Delete.
	decode(t, v.do(http.MethodDelete, path+"/"+started.Sid, nil), http.StatusNoContent, nil)
	expectError(t, v.do(http.MethodGet, path+"/"+started.Sid, nil), http.StatusNotFound, 20404)
	expectError(t, v.do(http.MethodGet, "/v2/Flows/FWother/Executions/"+ex.Sid, nil), http.StatusNotFound, 20404)
}

func TestV2TestUsersGetTheDraft(t *testing.T) {
	v := newV2Env(t)
	f := v.createFlow("Main", "published", sayFlow)
	draft := strings.Replace(sayFlow, `"Hello {{flow.data.name}}"`, `"Draft hello"`, 1)
	decode(t, v.do(http.MethodPost, "/v2/Flows/"+f.Sid, url.Values{"Status": {"draft"}, "Definition": {draft}}), http.StatusOK, nil)
	path := "/v2/Flows/" + f.Sid + "/TestUsers"
	type testUsers struct {
		Sid       string   `json:"sid"`
		TestUsers []string `json:"test_users"`
		URL       string   `json:"url"`
	}
	var tu testUsers
	decode(t, v.do(http.MethodGet, path, nil), http.StatusOK, &tu)
	if tu.Sid != f.Sid || tu.TestUsers == nil || len(tu.TestUsers) != 0 || tu.URL != testPublic+path {
		t.Fatalf("no test users: %+v", tu)
	}
	expectError(t, v.do(http.MethodPost, path, url.Values{}), http.StatusBadRequest, codeUnsupportedParam)
	expectError(t, v.do(http.MethodGet, "/v2/Flows/FWnope/TestUsers", nil), http.StatusNotFound, 20404)
	expectError(t, v.do(http.MethodPost, "/v2/Flows/FWnope/TestUsers", url.Values{"TestUsers": {"+1"}}), http.StatusNotFound, 20404)
	decode(t, v.do(http.MethodPost, path, url.Values{"TestUsers": {"+15550007", "client:ada", "+15550007"}}), http.StatusOK, &tu)
	if strings.Join(tu.TestUsers, ",") != "+15550007,client:ada" || tu.Sid != f.Sid {
		t.Fatalf("set: %+v", tu)
	}
	decode(t, v.do(http.MethodGet, path, nil), http.StatusOK, &tu)
	if strings.Join(tu.TestUsers, ",") != "+15550007,client:ada" {
		t.Fatalf("fetched: %+v", tu)
	}

	// A test user's call runs the draft (revision 2); anyone else's the
	// published revision 1.
	if twiml := v.callFlowFrom("http://gw.test/studio/"+f.Sid, "CA00000000000000000000000000000001", "+15550007"); !strings.Contains(twiml, "Draft hello") {
		t.Errorf("test user heard %s", twiml)
	}
	if twiml := v.callFlowFrom("http://gw.test/studio/"+f.Sid, "CA00000000000000000000000000000002", "+15550008"); strings.Contains(twiml, "Draft") {
		t.Errorf("another caller heard %s", twiml)
	}
	// A REST start for a test user runs the draft too.
	var started execResp
	decode(t, v.do(http.MethodPost, "/v2/Flows/"+f.Sid+"/Executions", url.Values{"To": {"client:ada"}, "From": {"+15550002"}}), http.StatusCreated, &started)
	if started.FlowVersion != 2 {
		t.Errorf("test user's REST execution runs revision %d, want 2", started.FlowVersion)
	}
	// Clearing the list.
	decode(t, v.do(http.MethodPost, path, url.Values{"TestUsers": {""}}), http.StatusOK, &tu)
	if len(tu.TestUsers) != 0 {
		t.Errorf("cleared: %+v", tu)
	}
	// A draft-only flow has nothing to run for other contacts.
	d := v.createFlow("Draft only", "draft", sayFlow)
	expectError(t, v.do(http.MethodPost, "/v2/Flows/"+d.Sid+"/Executions", url.Values{"To": {"+1666"}, "From": {"+1555"}}), http.StatusNotFound, 20404)
	decode(t, v.do(http.MethodPost, "/v2/Flows/"+d.Sid+"/TestUsers", url.Values{"TestUsers": {"+1666"}}), http.StatusOK, nil)
	decode(t, v.do(http.MethodPost, "/v2/Flows/"+d.Sid+"/Executions", url.Values{"To": {"+1666"}, "From": {"+1555"}}), http.StatusCreated, nil)
}
