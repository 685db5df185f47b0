package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// FlowControl is what the Studio API (/v2) needs: the flows' store and
// the flow executor. Set Options.Flows to serve /v2; a nil Executor makes
// the endpoints that need it answer 501, and so does a Store that is not
// also a store.FlowTestUserStore for …/TestUsers.
type FlowControl struct {
	// Store keeps flows and their revisions (*store.SQLite).
	Store store.FlowStore
	// Executor runs flows and keeps executions (*studio.Executor).
	Executor FlowExecutor
}

// FlowExecutor is the part of *studio.Executor the API uses.
type FlowExecutor interface {
	// Store returns where executions and steps are kept.
	Store() studio.ExecutionStore
	// End ends an execution (POST …/Executions/{FN} Status=ended).
	End(ctx context.Context, executionSid, reason string) (*studio.Execution, error)
	// StartExecution starts a REST-triggered execution, which runs the
	// flow in the background and places its call with a
	// make-outgoing-call widget (*studio.ActiveExecutionError when the
	// contact already has an active execution of the flow).
	StartExecution(ctx context.Context, flowSid, to, from string, data map[string]any) (*studio.Execution, error)
}

// v2Version is the Studio API's version path segment.
const v2Version = "v2"

// v2API serves the Studio REST API under /v2/ with the 2010 API's
// credentials and error JSON.
type v2API struct {
	rest   *restAPI
	flows  FlowControl
	routes []route
}

func newV2API(opts Options) *v2API {
	a := &v2API{rest: &restAPI{opts: opts, log: opts.Logger}}
	if opts.Flows != nil {
		a.flows = *opts.Flows
	}
	get := http.MethodGet
	a.routes = []route{
		{pattern: split("Flows"), methods: map[string]restHandler{get: a.listFlows, http.MethodPost: a.createFlow}},
		{pattern: split("Flows/Validate"), methods: map[string]restHandler{http.MethodPost: a.validateFlow}},
		{pattern: split("Flows/{}"), methods: map[string]restHandler{get: a.fetchFlow, http.MethodPost: a.updateFlow, http.MethodDelete: a.deleteFlow}},
		{pattern: split("Flows/{}/Revisions"), methods: map[string]restHandler{get: a.listRevisions}},
		{pattern: split("Flows/{}/Revisions/{}"), methods: map[string]restHandler{get: a.fetchRevision}},
		{pattern: split("Flows/{}/TestUsers"), methods: map[string]restHandler{get: a.fetchTestUsers, http.MethodPost: a.updateTestUsers}},
		{pattern: split("Flows/{}/Executions"), methods: map[string]restHandler{get: a.listExecutions, http.MethodPost: a.createExecution}},
		{pattern: split("Flows/{}/Executions/{}"), methods: map[string]restHandler{get: a.fetchExecution, http.MethodPost: a.updateExecution, http.MethodDelete: a.deleteExecution}},
		{pattern: split("Flows/{}/Executions/{}/Context"), methods: map[string]restHandler{get: a.executionContext}},
		{pattern: split("Flows/{}/Executions/{}/Steps"), methods: map[string]restHandler{get: a.listSteps}},
		{pattern: split("Flows/{}/Executions/{}/Steps/{}"), methods: map[string]restHandler{get: a.fetchStep}},
		{pattern: split("Flows/{}/Executions/{}/Steps/{}/Context"), methods: map[string]restHandler{get: a.stepContext}},
	}
	return a
}

// ServeHTTP checks credentials, finds the route and runs it.
func (a *v2API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.rest.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, a.rest.log, &Error{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
		return
	}
	rest := strings.Split(strings.TrimPrefix(r.URL.Path, "/"+v2Version+"/"), "/")
	for i := range a.routes {
		if ids, ok := a.routes[i].match(rest); ok {
			a.rest.dispatch(w, r, &a.routes[i], ids)
			return
		}
	}
	writeError(w, a.rest.log, notFound(r))
}

// requireFlows answers 501 when no flow store is wired.
func (a *v2API) requireFlows() error {
	if a.flows.Store == nil {
		return errUnavailable("the Studio API (no flow store configured)")
	}
	return nil
}

// requireExecutor answers 501 when no executor is wired.
func (a *v2API) requireExecutor() error {
	if err := a.requireFlows(); err != nil {
		return err
	}
	if a.flows.Executor == nil {
		return errUnavailable("flow executions (no flow executor configured)")
	}
	return nil
}

// base is the absolute URL of the v2 API ("https://gw/v2").
func (a *v2API) base(r *http.Request) string {
	return a.rest.baseURL(r) + "/" + v2Version
}

// iso8601 formats t as the v2 APIs' dates, nil for the zero time.
func iso8601(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05Z")
	return &s
}

// v2Page is a v2 list request: PageSize (default 50, at most 1000) and Page.
type v2Page struct {
	size, page int
}

// parseV2Page reads PageSize and Page.
func parseV2Page(q url.Values) (v2Page, error) {
	p, err := parsePage(q)
	if err != nil {
		return v2Page{}, err
	}
	return v2Page{size: p.size, page: p.page}, nil
}

// window returns the bounds of the page in a list of n items.
func (p v2Page) window(n int) (from, to int) {
	from = min(p.page*p.size, n)
	to = min(from+p.size, n)
	return from, to
}

// writeV2List writes the v2 list envelope: the page's records under key
// and meta {page, page_size, first_page_url, previous_page_url,
// next_page_url, url, key}; more says whether a next page exists. Links
// keep the request's filters.
func (a *v2API) writeV2List(w http.ResponseWriter, r *http.Request, key string, records any, p v2Page, more bool) {
	filters := url.Values{}
	for k, v := range r.URL.Query() {
		switch k {
		case "Page", "PageSize", "PageToken":
		default:
			filters[k] = v
		}
	}
	link := func(page int) string {
		q := url.Values{}
		for k, v := range filters {
			q[k] = v
		}
		q.Set("PageSize", strconv.Itoa(p.size))
		q.Set("Page", strconv.Itoa(page))
		return a.rest.baseURL(r) + r.URL.EscapedPath() + "?" + q.Encode()
	}
	var next, prev *string
	if more {
		s := link(p.page + 1)
		next = &s
	}
	if p.page > 0 {
		s := link(p.page - 1)
		prev = &s
	}
	writeJSON(w, http.StatusOK, map[string]any{
		key: records,
		"meta": map[string]any{
			"page":              p.page,
			"page_size":         p.size,
			"first_page_url":    link(0),
			"previous_page_url": prev,
			"next_page_url":     next,
			"url":               link(p.page),
			"key":               key,
		},
	})
}
