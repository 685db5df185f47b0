package taskrouter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RESTPrefix is where the TaskRouter API is served.
const RESTPrefix = "/v1/Workspaces"

// Handler serves TaskRouter v1 under /v1/Workspaces with Twilio's paths,
// form parameters and JSON (ISO 8601 dates, list envelopes with meta).
// It does not authenticate: mount it behind the REST API's Basic auth.
//
//	Workspaces[/{WS}]                                   GET, POST (create/update), DELETE
//	Workspaces/{WS}/Activities[/{WA}]                   GET, POST, DELETE
//	Workspaces/{WS}/TaskChannels[/{TC|unique name}]     GET, POST, DELETE
//	Workspaces/{WS}/Workers[/{WK}]                      GET, POST, DELETE
//	Workspaces/{WS}/Workers/{WK}/Channels[/{WC|TC|name}] GET, POST (Capacity, Available)
//	Workspaces/{WS}/Workers/{WK}/Reservations[/{WR}]    GET, POST
//	Workspaces/{WS}/TaskQueues[/{WQ}]                   GET, POST, DELETE
//	Workspaces/{WS}/Workflows[/{WW}]                    GET, POST, DELETE
//	Workspaces/{WS}/Tasks[/{WT}]                        GET, POST, DELETE
//	Workspaces/{WS}/Tasks/{WT}/Reservations[/{WR}]      GET, POST
//	Workspaces/{WS}/Events[/{EV}]                       GET
//	Workspaces/{WS}/RealTimeStatistics, TaskQueues/{WQ}/RealTimeStatistics  GET
func (r *Router) Handler() http.Handler {
	a := &restAPI{r: r}
	mux := http.NewServeMux()
	p := RESTPrefix
	allowed := map[string][]string{} // path → methods, for 405 answers
	handle := func(pattern string, h func(w http.ResponseWriter, req *http.Request) error) {
		if method, path, ok := strings.Cut(pattern, " "); ok {
			if allowed[path] == nil {
				mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
					w.Header().Set("Allow", strings.Join(allowed[path], ", "))
					a.writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: 20004, Message: "Method not allowed"})
				})
			}
			allowed[path] = append(allowed[path], method)
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
			if err := req.ParseForm(); err != nil {
				a.writeError(w, errInvalid("Malformed form body: %v", err))
				return
			}
			if err := h(w, req); err != nil {
				a.writeError(w, err)
			}
		})
	}
	handle("GET "+p, a.listWorkspaces)
	handle("POST "+p, a.createWorkspace)
	handle("GET "+p+"/{ws}", a.fetchWorkspace)
	handle("POST "+p+"/{ws}", a.updateWorkspace)
	handle("DELETE "+p+"/{ws}", a.deleteWorkspace)
	handle("GET "+p+"/{ws}/RealTimeStatistics", a.workspaceStatistics)
	a.activityRoutes(handle, p+"/{ws}/Activities")
	a.channelRoutes(handle, p+"/{ws}/TaskChannels")
	a.workerRoutes(handle, p+"/{ws}/Workers")
	a.queueRoutes(handle, p+"/{ws}/TaskQueues")
	a.workflowRoutes(handle, p+"/{ws}/Workflows")
	a.taskRoutes(handle, p+"/{ws}/Tasks")
	handle("GET "+p+"/{ws}/Events", a.listEvents)
	handle("GET "+p+"/{ws}/Events/{ev}", a.fetchEvent)
	handle("/", func(w http.ResponseWriter, req *http.Request) error {
		return errNotFound("path", req.URL.Path)
	})
	return mux
}

type restAPI struct{ r *Router }

type handleFunc func(pattern string, h func(w http.ResponseWriter, req *http.Request) error)

// writeError writes Twilio's error JSON.
func (a *restAPI) writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		a.r.log.Error("taskrouter: request failed", "error", err)
		e = &Error{Status: http.StatusInternalServerError, Code: 20500, Message: "Internal server error"}
	}
	writeJSON(w, e.Status, map[string]any{
		"code": e.Code, "message": e.Message, "status": e.Status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// base is the absolute URL of the API root ("https://gw/v1").
func (a *restAPI) base(req *http.Request) string {
	if a.r.opts.PublicURL != "" {
		return strings.TrimRight(a.r.opts.PublicURL, "/") + "/v1"
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host + "/v1"
}

// isoTime formats Twilio's v1 dates.
func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// page writes one page of items in Twilio's list envelope.
func (a *restAPI) page(w http.ResponseWriter, req *http.Request, key string, items []any) error {
	size, err := formInt(req.Form, "PageSize", 50)
	if err != nil {
		return err
	}
	num, err := formInt(req.Form, "Page", 0)
	if err != nil {
		return err
	}
	size = min(max(size, 1), 1000)
	num = max(num, 0)
	from := min(num*size, len(items))
	to := min(from+size, len(items))
	pageURL := func(n int) any {
		q := url.Values{}
		for k, v := range req.URL.Query() {
			if k != "Page" && k != "PageSize" && k != "PageToken" {
				q[k] = v
			}
		}
		q.Set("PageSize", strconv.Itoa(size))
		q.Set("Page", strconv.Itoa(n))
		return a.base(req) + strings.TrimPrefix(req.URL.Path, "/v1") + "?" + q.Encode()
	}
	meta := map[string]any{
		"page": num, "page_size": size, "first_page_url": pageURL(0), "url": pageURL(num), "key": key,
		"previous_page_url": nil, "next_page_url": nil,
	}
	if num > 0 {
		meta["previous_page_url"] = pageURL(num - 1)
	}
	if to < len(items) {
		meta["next_page_url"] = pageURL(num + 1)
	}
	out := items[from:to]
	if out == nil {
		out = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out, "meta": meta})
	return nil
}

func listOf[T any](items []T, view func(T) map[string]any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	return out
}

// Form helpers: a parameter that is absent gives nil (keep as is).

func formStr(f url.Values, key string) *string {
	if _, ok := f[key]; !ok {
		return nil
	}
	v := f.Get(key)
	return &v
}

func formInt(f url.Values, key string, def int) (int, error) {
	s := f.Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errInvalid("%s must be an integer, not %q", key, s)
	}
	return n, nil
}

func formIntPtr(f url.Values, key string) (*int, error) {
	if f.Get(key) == "" {
		return nil, nil
	}
	n, err := formInt(f, key, 0)
	return &n, err
}

func formBoolPtr(f url.Values, key string) (*bool, error) {
	s := f.Get(key)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, errInvalid("%s must be true or false, not %q", key, s)
	}
	return &b, nil
}

func (a *restAPI) workspaceView(req *http.Request, ws Workspace) map[string]any {
	u := a.base(req) + "/Workspaces/" + ws.SID
	names := a.r.activityNames(ws.SID)
	return map[string]any{
		"sid": ws.SID, "account_sid": a.r.opts.AccountSID, "friendly_name": ws.FriendlyName,
		"event_callback_url": nullIfEmpty(ws.EventCallbackURL), "events_filter": nullIfEmpty(ws.EventsFilter),
		"default_activity_sid": ws.DefaultActivitySID, "default_activity_name": names[ws.DefaultActivitySID],
		"timeout_activity_sid": ws.TimeoutActivitySID, "timeout_activity_name": names[ws.TimeoutActivitySID],
		"multi_task_enabled": ws.MultiTaskEnabled, "prioritize_queue_order": ws.PrioritizeQueueOrder,
		"date_created": isoTime(ws.Created), "date_updated": isoTime(ws.Updated), "url": u,
		"links": map[string]any{
			"activities": u + "/Activities", "task_channels": u + "/TaskChannels", "workers": u + "/Workers",
			"task_queues": u + "/TaskQueues", "workflows": u + "/Workflows", "tasks": u + "/Tasks", "events": u + "/Events",
			"statistics": u + "/Statistics", "real_time_statistics": u + "/RealTimeStatistics", "cumulative_statistics": u + "/CumulativeStatistics",
		},
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// activityNames maps a workspace's activity SIDs to names.
func (r *Router) activityNames(wsSID string) map[string]string {
	acts, _ := r.Activities(wsSID)
	m := make(map[string]string, len(acts))
	for _, a := range acts {
		m[a.SID] = a.FriendlyName
	}
	return m
}

func workspaceParams(f url.Values) (WorkspaceParams, error) {
	p := WorkspaceParams{
		FriendlyName: formStr(f, "FriendlyName"), EventCallbackURL: formStr(f, "EventCallbackUrl"),
		EventsFilter: formStr(f, "EventsFilter"), DefaultActivitySID: formStr(f, "DefaultActivitySid"),
		TimeoutActivitySID: formStr(f, "TimeoutActivitySid"), PrioritizeQueueOrder: formStr(f, "PrioritizeQueueOrder"),
		Template: f.Get("Template"),
	}
	var err error
	p.MultiTaskEnabled, err = formBoolPtr(f, "MultiTaskEnabled")
	return p, err
}

func (a *restAPI) listWorkspaces(w http.ResponseWriter, req *http.Request) error {
	list := a.r.Workspaces(req.Form.Get("FriendlyName"))
	return a.page(w, req, "workspaces", listOf(list, func(ws Workspace) map[string]any { return a.workspaceView(req, ws) }))
}

func (a *restAPI) createWorkspace(w http.ResponseWriter, req *http.Request) error {
	p, err := workspaceParams(req.Form)
	if err != nil {
		return err
	}
	ws, err := a.r.CreateWorkspace(p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.workspaceView(req, ws))
	return nil
}

func (a *restAPI) fetchWorkspace(w http.ResponseWriter, req *http.Request) error {
	ws, err := a.r.Workspace(req.PathValue("ws"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.workspaceView(req, ws))
	return nil
}

func (a *restAPI) updateWorkspace(w http.ResponseWriter, req *http.Request) error {
	p, err := workspaceParams(req.Form)
	if err != nil {
		return err
	}
	ws, err := a.r.UpdateWorkspace(req.PathValue("ws"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.workspaceView(req, ws))
	return nil
}

func (a *restAPI) deleteWorkspace(w http.ResponseWriter, req *http.Request) error {
	if err := a.r.DeleteWorkspace(req.PathValue("ws")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// wsURL is the absolute URL of a workspace's sub-resource path.
func (a *restAPI) wsURL(req *http.Request, ws string, parts ...string) string {
	return a.base(req) + "/Workspaces/" + ws + "/" + strings.Join(parts, "/")
}

func (a *restAPI) workspaceStatistics(w http.ResponseWriter, req *http.Request) error {
	st, err := a.r.WorkspaceStatistics(req.PathValue("ws"))
	if err != nil {
		return err
	}
	acts := make([]any, 0, len(st.Activities))
	for _, c := range st.Activities {
		acts = append(acts, map[string]any{"sid": c.SID, "friendly_name": c.FriendlyName, "workers": c.Workers})
	}
	ws := req.PathValue("ws")
	writeJSON(w, http.StatusOK, map[string]any{
		"account_sid": a.r.opts.AccountSID, "workspace_sid": ws, "activity_statistics": acts,
		"longest_task_waiting_age": st.LongestWaitingAge, "longest_task_waiting_sid": nullIfEmpty(st.LongestWaitingSID),
		"tasks_by_priority": st.TasksByPriority, "tasks_by_status": st.TasksByStatus, "total_tasks": st.TotalTasks,
		"total_workers": st.TotalWorkers, "url": a.wsURL(req, ws, "RealTimeStatistics"),
	})
	return nil
}
