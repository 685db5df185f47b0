package taskrouter

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// This file: activities, task channels, task queues and workflows.

func (r *Router) addActivity(ws *workspace, name string, available bool) *Activity {
	now := r.now()
	a := &Activity{SID: newSID(PrefixActivity), WorkspaceSID: ws.SID, FriendlyName: name, Available: available, Created: now, Updated: now}
	ws.activities[a.SID] = a
	r.bySID[a.SID] = ws
	r.dirty(ws, a.SID)
	return a
}

// CreateActivity adds an activity.
func (r *Router) CreateActivity(wsSID, name string, available bool) (Activity, error) {
	if strings.TrimSpace(name) == "" {
		return Activity{}, errInvalid("Missing required parameter FriendlyName in the post body")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Activity{}, err
	}
	for _, a := range ws.activities {
		if a.FriendlyName == name {
			return Activity{}, errConflict("An activity named %q already exists", name)
		}
	}
	a := r.addActivity(ws, name, available)
	r.emit(ws, "activity.created", "activity", a.SID, "Activity "+name+" created", nil)
	return *a, nil
}

// Activity returns one activity.
func (r *Router) Activity(wsSID, sid string) (Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Activity{}, err
	}
	a := ws.activities[sid]
	if a == nil {
		return Activity{}, errNotFound("Activity", sid)
	}
	return *a, nil
}

// Activities lists a workspace's activities, oldest first.
func (r *Router) Activities(wsSID string) ([]Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	out := make([]Activity, 0, len(ws.activities))
	for _, a := range ws.activities {
		out = append(out, *a)
	}
	newestFirst(out, func(a Activity) (time.Time, string) { return a.Created, a.SID })
	reverse(out)
	return out, nil
}

// UpdateActivity renames an activity.
func (r *Router) UpdateActivity(wsSID, sid, name string) (Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Activity{}, err
	}
	a := ws.activities[sid]
	if a == nil {
		return Activity{}, errNotFound("Activity", sid)
	}
	if name != "" {
		a.FriendlyName, a.Updated = name, r.now()
		r.dirty(ws, sid)
	}
	return *a, nil
}

// DeleteActivity removes an activity no worker or workspace setting uses.
func (r *Router) DeleteActivity(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return err
	}
	if ws.activities[sid] == nil {
		return errNotFound("Activity", sid)
	}
	if ws.DefaultActivitySID == sid || ws.TimeoutActivitySID == sid {
		return errConflict("The activity is the workspace's default or timeout activity")
	}
	for _, w := range ws.workers {
		if w.ActivitySID == sid {
			return errConflict("Worker %s is in this activity", w.SID)
		}
	}
	delete(ws.activities, sid)
	delete(r.bySID, sid)
	r.forget(sid)
	return nil
}

func (r *Router) addChannel(ws *workspace, name, unique string) *TaskChannel {
	now := r.now()
	c := &TaskChannel{SID: newSID(PrefixTaskChannel), WorkspaceSID: ws.SID, FriendlyName: name, UniqueName: unique, Created: now, Updated: now}
	ws.channels[c.SID] = c
	ws.channelNames[unique] = c
	r.bySID[c.SID] = ws
	r.dirty(ws, c.SID)
	for _, w := range ws.workers {
		r.ensureWorkerChannel(w, c)
	}
	return c
}

// CreateTaskChannel adds a task channel; every worker gets capacity 1 on it.
func (r *Router) CreateTaskChannel(wsSID, friendlyName, uniqueName string, optimized bool) (TaskChannel, error) {
	if uniqueName == "" || friendlyName == "" {
		return TaskChannel{}, errInvalid("FriendlyName and UniqueName are required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskChannel{}, err
	}
	if ws.channelNames[uniqueName] != nil {
		return TaskChannel{}, errConflict("A task channel with UniqueName %q already exists", uniqueName)
	}
	c := r.addChannel(ws, friendlyName, uniqueName)
	c.ChannelOptimizedRouting = optimized
	return *c, nil
}

// channel finds a task channel by SID or unique name; r.mu held.
func (ws *workspace) channel(sidOrName string) *TaskChannel {
	if c := ws.channels[sidOrName]; c != nil {
		return c
	}
	return ws.channelNames[sidOrName]
}

// TaskChannel returns one task channel (by SID or unique name).
func (r *Router) TaskChannel(wsSID, sid string) (TaskChannel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskChannel{}, err
	}
	c := ws.channel(sid)
	if c == nil {
		return TaskChannel{}, errNotFound("TaskChannel", sid)
	}
	return *c, nil
}

// TaskChannels lists a workspace's task channels, oldest first.
func (r *Router) TaskChannels(wsSID string) ([]TaskChannel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	out := make([]TaskChannel, 0, len(ws.channels))
	for _, c := range ws.channels {
		out = append(out, *c)
	}
	newestFirst(out, func(c TaskChannel) (time.Time, string) { return c.Created, c.SID })
	reverse(out)
	return out, nil
}

// UpdateTaskChannel renames a channel or switches channel-optimized routing.
func (r *Router) UpdateTaskChannel(wsSID, sid string, friendlyName *string, optimized *bool) (TaskChannel, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskChannel{}, err
	}
	c := ws.channel(sid)
	if c == nil {
		return TaskChannel{}, errNotFound("TaskChannel", sid)
	}
	set(&c.FriendlyName, friendlyName)
	set(&c.ChannelOptimizedRouting, optimized)
	c.Updated = r.now()
	r.dirty(ws, c.SID)
	return *c, nil
}

// DeleteTaskChannel removes a channel no live task uses.
func (r *Router) DeleteTaskChannel(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return err
	}
	c := ws.channel(sid)
	if c == nil {
		return errNotFound("TaskChannel", sid)
	}
	for _, t := range ws.tasks {
		if t.TaskChannelSID == c.SID && !finished(t.AssignmentStatus) {
			return errConflict("Task %s uses this channel", t.SID)
		}
	}
	delete(ws.channels, c.SID)
	delete(ws.channelNames, c.UniqueName)
	delete(r.bySID, c.SID)
	for _, w := range ws.workers {
		delete(w.Channels, c.UniqueName)
	}
	r.forget(c.SID)
	return nil
}

func finished(status string) bool { return status == TaskCompleted || status == TaskCanceled }

// QueueParams create or change a task queue; nil fields are kept.
type QueueParams struct {
	FriendlyName           *string
	TargetWorkers          *string
	TaskOrder              *string
	MaxReservedWorkers     *int
	ReservationActivitySID *string
	AssignmentActivitySID  *string
}

func (r *Router) addQueue(ws *workspace, tq TaskQueue) *queue {
	now := r.now()
	tq.SID, tq.WorkspaceSID, tq.Created, tq.Updated = newSID(PrefixTaskQueue), ws.SID, now, now
	if tq.TaskOrder == "" {
		tq.TaskOrder = "FIFO"
	}
	if tq.MaxReservedWorkers == 0 {
		tq.MaxReservedWorkers = 1
	}
	q := &queue{TaskQueue: tq, workers: map[string]*worker{}}
	q.target, _ = compileTarget(tq.TargetWorkers)
	ws.queues[q.SID] = q
	r.bySID[q.SID] = ws
	for _, w := range ws.workers {
		r.refreshMembership(ws, w)
	}
	r.dirty(ws, q.SID)
	return q
}

// compileTarget compiles target_workers; "" means nobody (nil).
func compileTarget(src string) (*expr.Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	return expr.Compile(src)
}

func (r *Router) checkQueue(ws *workspace, p QueueParams) error {
	if p.TargetWorkers != nil {
		if _, err := compileTarget(*p.TargetWorkers); err != nil {
			return errInvalid("TargetWorkers: invalid expression: %v", err)
		}
	}
	if p.TaskOrder != nil && *p.TaskOrder != "FIFO" && *p.TaskOrder != "LIFO" {
		return errInvalid("TaskOrder must be FIFO or LIFO")
	}
	if p.MaxReservedWorkers != nil && (*p.MaxReservedWorkers < 1 || *p.MaxReservedWorkers > 50) {
		return errInvalid("MaxReservedWorkers must be from 1 to 50")
	}
	for _, a := range []*string{p.ReservationActivitySID, p.AssignmentActivitySID} {
		if a != nil && *a != "" && ws.activities[*a] == nil {
			return errInvalid("Activity %s is not in this workspace", *a)
		}
	}
	return nil
}

// CreateTaskQueue adds a queue. TargetWorkers defaults to "1==1"; an
// expression that does not parse is refused with its position.
func (r *Router) CreateTaskQueue(wsSID string, p QueueParams) (TaskQueue, error) {
	if p.FriendlyName == nil || *p.FriendlyName == "" {
		return TaskQueue{}, errInvalid("Missing required parameter FriendlyName in the post body")
	}
	if p.TargetWorkers == nil {
		all := "1==1"
		p.TargetWorkers = &all
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskQueue{}, err
	}
	if err := r.checkQueue(ws, p); err != nil {
		return TaskQueue{}, err
	}
	var tq TaskQueue
	applyQueue(&tq, p)
	q := r.addQueue(ws, tq)
	r.emit(ws, "task-queue.created", "taskqueue", q.SID, "Task queue "+q.FriendlyName+" created", nil)
	for _, w := range q.workers {
		r.tryWorker(ws, w)
	}
	return q.TaskQueue, nil
}

func applyQueue(tq *TaskQueue, p QueueParams) {
	set(&tq.FriendlyName, p.FriendlyName)
	set(&tq.TargetWorkers, p.TargetWorkers)
	set(&tq.TaskOrder, p.TaskOrder)
	set(&tq.MaxReservedWorkers, p.MaxReservedWorkers)
	set(&tq.ReservationActivitySID, p.ReservationActivitySID)
	set(&tq.AssignmentActivitySID, p.AssignmentActivitySID)
}

// TaskQueueView is a queue with its live figures.
type TaskQueueView struct {
	TaskQueue
	Waiting          int // pending tasks
	AvailableWorkers int
	Workers          int // matching target_workers
}

func (r *Router) queueView(q *queue) TaskQueueView {
	return TaskQueueView{TaskQueue: q.TaskQueue, Waiting: q.waiting, AvailableWorkers: r.availableIn(q), Workers: len(q.workers)}
}

// TaskQueue returns one queue.
func (r *Router) TaskQueue(wsSID, sid string) (TaskQueueView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskQueueView{}, err
	}
	q := ws.queues[sid]
	if q == nil {
		return TaskQueueView{}, errNotFound("TaskQueue", sid)
	}
	return r.queueView(q), nil
}

// TaskQueues lists queues, oldest first; friendlyName filters.
func (r *Router) TaskQueues(wsSID, friendlyName string) ([]TaskQueueView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	var out []TaskQueueView
	for _, q := range sortedQueues(ws) {
		if friendlyName == "" || q.FriendlyName == friendlyName {
			out = append(out, r.queueView(q))
		}
	}
	return out, nil
}

// UpdateTaskQueue changes a queue; new target_workers re-sort workers.
func (r *Router) UpdateTaskQueue(wsSID, sid string, p QueueParams) (TaskQueue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskQueue{}, err
	}
	q := ws.queues[sid]
	if q == nil {
		return TaskQueue{}, errNotFound("TaskQueue", sid)
	}
	if err := r.checkQueue(ws, p); err != nil {
		return TaskQueue{}, err
	}
	applyQueue(&q.TaskQueue, p)
	q.Updated = r.now()
	q.target, _ = compileTarget(q.TargetWorkers)
	for _, w := range ws.workers {
		r.refreshMembership(ws, w)
	}
	r.dirty(ws, q.SID)
	for _, w := range q.workers {
		r.tryWorker(ws, w)
	}
	return q.TaskQueue, nil
}

// DeleteTaskQueue removes a queue no workflow routes to and no task waits in.
func (r *Router) DeleteTaskQueue(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return err
	}
	q := ws.queues[sid]
	if q == nil {
		return errNotFound("TaskQueue", sid)
	}
	if q.waiting > 0 {
		return errConflict("Tasks are waiting in this queue")
	}
	for _, wf := range ws.workflows {
		if strings.Contains(wf.Configuration, sid) {
			return errConflict("Workflow %s routes to this queue", wf.SID)
		}
	}
	delete(ws.queues, sid)
	delete(r.bySID, sid)
	for _, w := range ws.workers {
		r.refreshMembership(ws, w)
	}
	r.forget(sid)
	return nil
}

// WorkflowParams create or change a workflow; nil fields are kept.
type WorkflowParams struct {
	FriendlyName                  *string
	Configuration                 *string
	AssignmentCallbackURL         *string
	FallbackAssignmentCallbackURL *string
	TaskReservationTimeout        *int
	// ReEvaluateTasks routes waiting tasks again with the new
	// configuration (update only).
	ReEvaluateTasks bool
}

func (r *Router) addWorkflow(ws *workspace, wf Workflow, rt *routing) *workflow {
	now := r.now()
	wf.SID, wf.WorkspaceSID, wf.Created, wf.Updated = newSID(PrefixWorkflow), ws.SID, now, now
	w := &workflow{Workflow: wf, routing: rt}
	ws.workflows[w.SID] = w
	r.bySID[w.SID] = ws
	r.dirty(ws, w.SID)
	return w
}

func (r *Router) checkWorkflow(ws *workspace, p WorkflowParams) (*routing, error) {
	if p.TaskReservationTimeout != nil && (*p.TaskReservationTimeout < 1 || *p.TaskReservationTimeout > MaxReservationTimeout) {
		return nil, errInvalid("TaskReservationTimeout must be from 1 to %d", MaxReservationTimeout)
	}
	if p.Configuration == nil {
		return nil, nil
	}
	rt, err := parseRouting(*p.Configuration, func(s string) bool { return ws.queues[s] != nil })
	if err != nil {
		return nil, errInvalid("Invalid Configuration: %v", err)
	}
	return rt, nil
}

// CreateWorkflow adds a workflow; its configuration is checked (JSON,
// queue SIDs, every expression) before it is saved.
func (r *Router) CreateWorkflow(wsSID string, p WorkflowParams) (Workflow, error) {
	if p.FriendlyName == nil || *p.FriendlyName == "" {
		return Workflow{}, errInvalid("Missing required parameter FriendlyName in the post body")
	}
	if p.Configuration == nil {
		return Workflow{}, errInvalid("Missing required parameter Configuration in the post body")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Workflow{}, err
	}
	rt, err := r.checkWorkflow(ws, p)
	if err != nil {
		return Workflow{}, err
	}
	wf := Workflow{TaskReservationTimeout: DefaultReservationTimeout}
	applyWorkflow(&wf, p)
	w := r.addWorkflow(ws, wf, rt)
	r.emit(ws, "workflow.created", "workflow", w.SID, "Workflow "+w.FriendlyName+" created", nil)
	return w.Workflow, nil
}

func applyWorkflow(wf *Workflow, p WorkflowParams) {
	set(&wf.FriendlyName, p.FriendlyName)
	set(&wf.Configuration, p.Configuration)
	set(&wf.AssignmentCallbackURL, p.AssignmentCallbackURL)
	set(&wf.FallbackAssignmentCallbackURL, p.FallbackAssignmentCallbackURL)
	set(&wf.TaskReservationTimeout, p.TaskReservationTimeout)
}

// Workflow returns one workflow.
func (r *Router) Workflow(wsSID, sid string) (Workflow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Workflow{}, err
	}
	wf := ws.workflows[sid]
	if wf == nil {
		return Workflow{}, errNotFound("Workflow", sid)
	}
	return wf.Workflow, nil
}

// Workflows lists workflows, oldest first; friendlyName filters.
func (r *Router) Workflows(wsSID, friendlyName string) ([]Workflow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	var out []Workflow
	for _, wf := range ws.workflows {
		if friendlyName == "" || wf.FriendlyName == friendlyName {
			out = append(out, wf.Workflow)
		}
	}
	newestFirst(out, func(w Workflow) (time.Time, string) { return w.Created, w.SID })
	reverse(out)
	return out, nil
}

// UpdateWorkflow changes a workflow; with ReEvaluateTasks, pending tasks
// are routed again.
func (r *Router) UpdateWorkflow(wsSID, sid string, p WorkflowParams) (Workflow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Workflow{}, err
	}
	wf := ws.workflows[sid]
	if wf == nil {
		return Workflow{}, errNotFound("Workflow", sid)
	}
	rt, err := r.checkWorkflow(ws, p)
	if err != nil {
		return Workflow{}, err
	}
	applyWorkflow(&wf.Workflow, p)
	if rt != nil {
		wf.routing = rt
	}
	wf.Updated = r.now()
	r.dirty(ws, wf.SID)
	if p.ReEvaluateTasks {
		for _, t := range sortedTasks(ws) {
			if t.WorkflowSID == sid && t.AssignmentStatus == TaskPending {
				r.routeTask(ws, t)
			}
		}
	}
	return wf.Workflow, nil
}

// DeleteWorkflow removes a workflow no live task uses.
func (r *Router) DeleteWorkflow(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return err
	}
	if ws.workflows[sid] == nil {
		return errNotFound("Workflow", sid)
	}
	for _, t := range ws.tasks {
		if t.WorkflowSID == sid && !finished(t.AssignmentStatus) {
			return errConflict("Task %s is still routed by this workflow", t.SID)
		}
	}
	delete(ws.workflows, sid)
	delete(r.bySID, sid)
	r.forget(sid)
	return nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// WorkspaceStats are a workspace's live figures (RealTimeStatistics).
type WorkspaceStats struct {
	TasksByStatus     map[string]int
	TasksByPriority   map[string]int // pending and reserved tasks by effective priority
	TotalTasks        int            // tasks not completed or canceled
	Activities        []ActivityCount
	TotalWorkers      int
	LongestWaitingAge int // seconds, of the oldest pending task
	LongestWaitingSID string
}

// ActivityCount is how many workers are in an activity.
type ActivityCount struct {
	SID, FriendlyName string
	Workers           int
}

// WorkspaceStatistics returns a workspace's live figures.
func (r *Router) WorkspaceStatistics(wsSID string) (WorkspaceStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return WorkspaceStats{}, err
	}
	st := WorkspaceStats{TasksByStatus: map[string]int{}, TasksByPriority: map[string]int{}, TotalWorkers: len(ws.workers)}
	for _, s := range []string{TaskPending, TaskReserved, TaskAssigned, TaskWrapping} {
		st.TasksByStatus[s] = 0
	}
	now := r.now()
	var oldest *task
	for _, t := range ws.tasks {
		if finished(t.AssignmentStatus) {
			continue
		}
		st.TotalTasks++
		st.TasksByStatus[t.AssignmentStatus]++
		if t.AssignmentStatus == TaskPending || t.AssignmentStatus == TaskReserved {
			st.TasksByPriority[strconv.Itoa(t.prio)]++
		}
		if t.AssignmentStatus == TaskPending && (oldest == nil || t.Seq < oldest.Seq) {
			oldest = t
		}
	}
	if oldest != nil {
		st.LongestWaitingSID, st.LongestWaitingAge = oldest.SID, int(now.Sub(oldest.Created).Seconds())
	}
	counts := map[string]int{}
	for _, w := range ws.workers {
		counts[w.ActivitySID]++
	}
	for _, a := range sortedActivities(ws) {
		st.Activities = append(st.Activities, ActivityCount{SID: a.SID, FriendlyName: a.FriendlyName, Workers: counts[a.SID]})
	}
	return st, nil
}

func sortedActivities(ws *workspace) []*Activity {
	out := make([]*Activity, 0, len(ws.activities))
	for _, a := range ws.activities {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Activity) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.SID, b.SID)) })
	return out
}
