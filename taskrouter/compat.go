package taskrouter

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// DefaultWorkspaceName is the workspace that mirrors the gateway's
// configured queues and agents.
const DefaultWorkspaceName = "Voxgate"

// DefaultAgent is a configured browser agent (config agents:).
type DefaultAgent struct {
	ID, Name string
	Queues   []string
}

// Defaults are the gateway's configured queues and agents.
type Defaults struct {
	Queues []string // queue names (besides those the agents list)
	Agents []DefaultAgent
}

// DefaultIDs name what EnsureDefaults made.
type DefaultIDs struct {
	WorkspaceSID string
	WorkflowSID  string            // routes a task with {"queue": name} to that queue
	Queues       map[string]string // queue name → WQ
	Workers      map[string]string // agent ID → WK
}

// EnsureDefaults maps today's queues: and agents: configuration onto
// TaskRouter: a workspace "Voxgate" with a task queue per queue name
// (target_workers `queues HAS 'name'`) plus "Everyone" (1==1), a workflow
// "Voxgate queues" sending a task whose attribute queue names a queue to
// it (else to Everyone), and a worker per agent (attributes contact_uri
// client:ID, full_name, queues, routing.skills). It runs at every start:
// what exists is kept (found by name) and brought in line with the
// configuration, so SIDs stay stable across restarts. The agents' workers
// start in the workspace's default activity (Offline): no agent page is
// open yet, and signing in makes them available.
func (r *Router) EnsureDefaults(d Defaults) (DefaultIDs, error) {
	ids := DefaultIDs{Queues: map[string]string{}, Workers: map[string]string{}}
	ws, err := r.ensureWorkspace()
	if err != nil {
		return ids, err
	}
	ids.WorkspaceSID = ws
	names := slices.Clone(d.Queues)
	for _, a := range d.Agents {
		names = append(names, a.Queues...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if ids.Queues["Everyone"], err = r.ensureQueue(ws, "Everyone", "1==1"); err != nil {
		return ids, err
	}
	var filters []map[string]any
	for _, n := range names {
		sid, err := r.ensureQueue(ws, n, "queues HAS "+quote(n))
		if err != nil {
			return ids, err
		}
		ids.Queues[n] = sid
		filters = append(filters, map[string]any{"filter_friendly_name": n, "expression": "queue == " + quote(n),
			"targets": []any{map[string]any{"queue": sid}}})
	}
	if filters == nil {
		filters = []map[string]any{}
	}
	cfg, _ := json.Marshal(map[string]any{"task_routing": map[string]any{"filters": filters,
		"default_filter": map[string]any{"queue": ids.Queues["Everyone"]}}})
	if ids.WorkflowSID, err = r.ensureWorkflow(ws, "Voxgate queues", string(cfg)); err != nil {
		return ids, err
	}
	for _, a := range d.Agents {
		if ids.Workers[a.ID], err = r.ensureWorker(ws, a); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// quote makes a string constant of the expression language.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (r *Router) ensureWorkspace() (string, error) {
	if list := r.Workspaces(DefaultWorkspaceName); len(list) > 0 {
		return list[len(list)-1].SID, nil // the oldest
	}
	ws, err := r.CreateWorkspace(WorkspaceParams{FriendlyName: ptrTo(DefaultWorkspaceName)})
	return ws.SID, err
}

func (r *Router) ensureQueue(ws, name, target string) (string, error) {
	list, err := r.TaskQueues(ws, name)
	if err != nil {
		return "", err
	}
	if len(list) > 0 {
		if list[0].TargetWorkers != target {
			_, err = r.UpdateTaskQueue(ws, list[0].SID, QueueParams{TargetWorkers: &target})
		}
		return list[0].SID, err
	}
	q, err := r.CreateTaskQueue(ws, QueueParams{FriendlyName: &name, TargetWorkers: &target})
	if err != nil {
		return "", fmt.Errorf("taskrouter: default queue %q: %w", name, err)
	}
	return q.SID, nil
}

func (r *Router) ensureWorkflow(ws, name, cfg string) (string, error) {
	list, err := r.Workflows(ws, name)
	if err != nil {
		return "", err
	}
	if len(list) > 0 {
		if list[0].Configuration != cfg {
			_, err = r.UpdateWorkflow(ws, list[0].SID, WorkflowParams{Configuration: &cfg})
		}
		return list[0].SID, err
	}
	wf, err := r.CreateWorkflow(ws, WorkflowParams{FriendlyName: &name, Configuration: &cfg})
	return wf.SID, err
}

func (r *Router) ensureWorker(ws string, a DefaultAgent) (string, error) {
	queues := slices.Clone(a.Queues)
	if queues == nil {
		queues = []string{}
	}
	attrs := map[string]any{"contact_uri": "client:" + a.ID, "full_name": a.Name, "queues": queues,
		"routing": map[string]any{"skills": queues}}
	js, _ := json.Marshal(attrs)
	s := string(js)
	list, err := r.Workers(ws, WorkerFilter{FriendlyName: a.ID})
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		w, err := r.CreateWorker(ws, WorkerParams{FriendlyName: &a.ID, Attributes: &s})
		return w.SID, err
	}
	if w := list[0]; w.Available {
		ws0, err := r.Workspace(ws)
		if err != nil {
			return "", err
		}
		if _, err := r.UpdateWorker(ws, w.SID, WorkerParams{ActivitySID: &ws0.DefaultActivitySID}); err != nil {
			return "", err
		}
	}
	var have map[string]any
	_ = json.Unmarshal([]byte(list[0].Attributes), &have)
	var want map[string]any
	_ = json.Unmarshal(js, &want)
	merged := maps.Clone(have)
	if merged == nil {
		merged = map[string]any{}
	}
	maps.Copy(merged, want) // keep attributes added through REST
	if !reflect.DeepEqual(merged, have) {
		mjs, _ := json.Marshal(merged)
		ms := string(mjs)
		_, err = r.UpdateWorker(ws, list[0].SID, WorkerParams{Attributes: &ms})
	}
	return list[0].SID, err
}

func ptrTo[T any](v T) *T { return &v }
