package taskrouter

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// WorkspaceParams create or change a workspace; nil fields are left as
// they are (or defaulted on create).
type WorkspaceParams struct {
	FriendlyName         *string
	EventCallbackURL     *string
	EventsFilter         *string
	DefaultActivitySID   *string
	TimeoutActivitySID   *string
	MultiTaskEnabled     *bool
	PrioritizeQueueOrder *string
	// Template "FIFO" also makes a queue for everyone and a workflow to it
	// (create only).
	Template string
}

// Default task channels every workspace has, with their worker capacity.
var defaultChannels = []struct {
	name     string
	capacity int
}{{"default", 1}, {"voice", 1}, {"chat", 1}, {"sms", 1}, {"email", 1}, {"video", 1}}

// CreateWorkspace makes a workspace with Twilio's default activities
// (Offline, Available, Unavailable, Break) and task channels.
func (r *Router) CreateWorkspace(p WorkspaceParams) (Workspace, error) {
	if p.FriendlyName == nil || strings.TrimSpace(*p.FriendlyName) == "" {
		return Workspace{}, errInvalid("Missing required parameter FriendlyName in the post body")
	}
	if p.Template != "" && p.Template != "FIFO" {
		return Workspace{}, errInvalid("Template must be FIFO")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	ws := newWorkspace(Workspace{SID: newSID(PrefixWorkspace), FriendlyName: *p.FriendlyName, MultiTaskEnabled: true,
		PrioritizeQueueOrder: "FIFO", Created: now, Updated: now})
	r.workspaces[ws.SID] = ws
	r.bySID[ws.SID] = ws
	var offline string
	for _, a := range []struct {
		name      string
		available bool
	}{{"Offline", false}, {"Available", true}, {"Unavailable", false}, {"Break", false}} {
		act := r.addActivity(ws, a.name, a.available)
		if a.name == "Offline" {
			offline = act.SID
		}
	}
	ws.DefaultActivitySID, ws.TimeoutActivitySID = offline, offline
	for _, c := range defaultChannels {
		r.addChannel(ws, c.name, c.name)
	}
	if err := r.applyWorkspace(ws, p); err != nil {
		r.dropWorkspace(ws)
		return Workspace{}, err
	}
	r.dirty(ws, ws.SID)
	r.emit(ws, "workspace.created", "workspace", ws.SID, "Workspace "+ws.FriendlyName+" created", nil)
	if p.Template == "FIFO" {
		q := r.addQueue(ws, TaskQueue{FriendlyName: "Sample Queue", TargetWorkers: "1==1"})
		cfg := `{"task_routing":{"filters":[],"default_filter":{"queue":"` + q.SID + `"}}}`
		rt, _ := parseRouting(cfg, func(string) bool { return true })
		r.addWorkflow(ws, Workflow{FriendlyName: "Default Fifo Workflow", Configuration: cfg, TaskReservationTimeout: DefaultReservationTimeout}, rt)
	}
	return ws.Workspace, nil
}

func (r *Router) applyWorkspace(ws *workspace, p WorkspaceParams) error {
	if p.DefaultActivitySID != nil && ws.activities[*p.DefaultActivitySID] == nil {
		return errInvalid("DefaultActivitySid %s is not an activity of this workspace", *p.DefaultActivitySID)
	}
	if p.TimeoutActivitySID != nil && ws.activities[*p.TimeoutActivitySID] == nil {
		return errInvalid("TimeoutActivitySid %s is not an activity of this workspace", *p.TimeoutActivitySID)
	}
	if p.PrioritizeQueueOrder != nil && *p.PrioritizeQueueOrder != "FIFO" && *p.PrioritizeQueueOrder != "LIFO" {
		return errInvalid("PrioritizeQueueOrder must be FIFO or LIFO")
	}
	set(&ws.FriendlyName, p.FriendlyName)
	set(&ws.EventCallbackURL, p.EventCallbackURL)
	set(&ws.EventsFilter, p.EventsFilter)
	set(&ws.DefaultActivitySID, p.DefaultActivitySID)
	set(&ws.TimeoutActivitySID, p.TimeoutActivitySID)
	set(&ws.MultiTaskEnabled, p.MultiTaskEnabled)
	set(&ws.PrioritizeQueueOrder, p.PrioritizeQueueOrder)
	ws.Updated = r.now()
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Workspace returns the workspace with sid.
func (r *Router) Workspace(sid string) (Workspace, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(sid)
	if err != nil {
		return Workspace{}, err
	}
	return ws.Workspace, nil
}

// ws finds a workspace; r.mu held.
func (r *Router) ws(sid string) (*workspace, error) {
	ws := r.workspaces[sid]
	if ws == nil {
		return nil, errNotFound("Workspace", sid)
	}
	return ws, nil
}

// Workspaces lists workspaces, newest first; friendlyName filters.
func (r *Router) Workspaces(friendlyName string) []Workspace {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Workspace
	for _, ws := range r.workspaces {
		if friendlyName == "" || ws.FriendlyName == friendlyName {
			out = append(out, ws.Workspace)
		}
	}
	newestFirst(out, func(w Workspace) (time.Time, string) { return w.Created, w.SID })
	return out
}

// UpdateWorkspace changes a workspace.
func (r *Router) UpdateWorkspace(sid string, p WorkspaceParams) (Workspace, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(sid)
	if err != nil {
		return Workspace{}, err
	}
	if err := r.applyWorkspace(ws, p); err != nil {
		return Workspace{}, err
	}
	r.dirty(ws, ws.SID)
	r.emit(ws, "workspace.updated", "workspace", ws.SID, "Workspace "+ws.FriendlyName+" updated", nil)
	return ws.Workspace, nil
}

// DeleteWorkspace removes a workspace and everything in it.
func (r *Router) DeleteWorkspace(sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(sid)
	if err != nil {
		return err
	}
	r.dropWorkspace(ws)
	return nil
}

func (r *Router) dropWorkspace(ws *workspace) {
	var sids []string
	for s := range r.bySID {
		if r.bySID[s] == ws {
			sids = append(sids, s)
		}
	}
	for _, s := range sids {
		delete(r.bySID, s)
	}
	delete(r.workspaces, ws.SID)
	r.forget(sids...)
}

// newestFirst sorts records by creation time, newest first, then SID.
func newestFirst[T any](s []T, key func(T) (time.Time, string)) {
	slices.SortFunc(s, func(a, b T) int {
		ta, sa := key(a)
		tb, sb := key(b)
		return cmp.Or(tb.Compare(ta), cmp.Compare(sb, sa))
	})
}
