package taskrouter

import (
	"cmp"
	"slices"
	"time"
)

// TaskParams create or change a task; nil fields are kept (defaulted on
// create).
type TaskParams struct {
	WorkflowSID *string
	Attributes  *string
	Priority    *int
	Timeout     *int    // seconds of life (TTL)
	TaskChannel *string // SID or unique name; default "default"
	// AssignmentStatus (update only): canceled, wrapping or completed.
	AssignmentStatus *string
	Reason           *string
	// Live binds the task to a contact held in this process (internal:
	// CreateContactTask); see Task.Live.
	Live string
}

// TaskView is a task with its live figures.
type TaskView struct {
	Task
	Age            int // seconds since creation
	QueueName      string
	WorkflowName   string
	Priority       int // effective (a target's priority overrides)
	ReservationSID string
}

func (r *Router) taskView(ws *workspace, t *task) TaskView {
	v := TaskView{Task: t.Task, Age: int(r.now().Sub(t.Created) / time.Second), Priority: t.prio}
	if t.queue != nil {
		v.QueueName = t.queue.FriendlyName
	}
	if wf := ws.workflows[t.WorkflowSID]; wf != nil {
		v.WorkflowName = wf.FriendlyName
	}
	if t.res != nil {
		v.ReservationSID = t.res.SID
	}
	return v
}

// CreateTask makes a task and routes it through its workflow (the only
// workflow of the workspace when WorkflowSid is not given).
func (r *Router) CreateTask(wsSID string, p TaskParams) (TaskView, error) {
	t, err := r.newTask(p)
	if err != nil {
		return TaskView{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return TaskView{}, err
	}
	if err := r.admit(ws, t, p); err != nil {
		return TaskView{}, err
	}
	return r.taskView(ws, t), nil
}

// newTask checks the parameters that need no state.
func (r *Router) newTask(p TaskParams) (*task, error) {
	attrsJSON := "{}"
	set(&attrsJSON, p.Attributes)
	if len(attrsJSON) > MaxAttributesBytes {
		return nil, errInvalid("Attributes longer than %d bytes", MaxAttributesBytes)
	}
	attrs, err := decodeAttributes(attrsJSON)
	if err != nil {
		return nil, errInvalid("Attributes must be a JSON object: %v", err)
	}
	t := &task{Task: Task{Attributes: attrsJSON, Timeout: DefaultTaskTimeout, AssignmentStatus: TaskPending, Live: p.Live}, attrs: attrs}
	set(&t.Priority, p.Priority)
	set(&t.Timeout, p.Timeout)
	if t.Priority < 0 {
		return nil, errInvalid("Priority must be from 0 to 2147483647")
	}
	if t.Timeout < 1 || t.Timeout > MaxTaskTimeout {
		return nil, errInvalid("Timeout must be from 1 to %d seconds", MaxTaskTimeout)
	}
	return t, nil
}

// admit adds a checked task to ws and routes it; r.mu held.
func (r *Router) admit(ws *workspace, t *task, p TaskParams) error {
	if p.WorkflowSID != nil {
		t.WorkflowSID = *p.WorkflowSID
	} else if len(ws.workflows) == 1 {
		for sid := range ws.workflows {
			t.WorkflowSID = sid
		}
	}
	if ws.workflows[t.WorkflowSID] == nil {
		return errInvalid("WorkflowSid %q is not a workflow of this workspace", t.WorkflowSID)
	}
	chName := "default"
	set(&chName, p.TaskChannel)
	ch := ws.channel(chName)
	if ch == nil {
		return errInvalid("TaskChannel %q is not a task channel of this workspace", chName)
	}
	now := r.now()
	r.seq++
	t.SID, t.WorkspaceSID, t.Seq = newSID(PrefixTask), ws.SID, r.seq
	t.TaskChannelSID, t.TaskChannelUniqueName = ch.SID, ch.UniqueName
	t.Created, t.Updated, t.VirtualStart = now, now, now
	t.prio = t.Priority
	ws.tasks[t.SID] = t
	r.bySID[t.SID] = ws
	r.schedule(deadline{at: now.Add(time.Duration(t.Timeout) * time.Second), kind: dlTTL, sid: t.SID})
	r.dirty(ws, t.SID)
	r.emit(ws, "task.created", "task", t.SID, "Task "+t.SID+" created", r.taskData(ws, t))
	r.routeTask(ws, t)
	return nil
}

// Task returns one task.
func (r *Router) Task(wsSID, sid string) (TaskView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, t, err := r.task(wsSID, sid)
	if err != nil {
		return TaskView{}, err
	}
	return r.taskView(ws, t), nil
}

func (r *Router) task(wsSID, sid string) (*workspace, *task, error) {
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, nil, err
	}
	t := ws.tasks[sid]
	if t == nil {
		return nil, nil, errNotFound("Task", sid)
	}
	return ws, t, nil
}

// TaskFilter narrows Tasks; zero fields match everything.
type TaskFilter struct {
	AssignmentStatus []string
	WorkflowSID      string
	TaskQueueSID     string
	TaskQueueName    string
	TaskChannel      string // unique name
	// Evaluate is the Twilio filter EvaluateTaskAttributes: an
	// expression over task attributes.
	Evaluate string
}

// Tasks lists the tasks matching f, oldest first.
func (r *Router) Tasks(wsSID string, f TaskFilter) ([]TaskView, error) {
	var ev func(map[string]any) bool
	if f.Evaluate != "" {
		e, err := compileTarget(f.Evaluate)
		if err != nil {
			return nil, errInvalid("EvaluateTaskAttributes: invalid expression: %v", err)
		}
		ev = func(a map[string]any) bool { return matchTask(e, a) }
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	var out []TaskView
	for _, t := range sortedTasks(ws) {
		switch {
		case len(f.AssignmentStatus) > 0 && !slices.Contains(f.AssignmentStatus, t.AssignmentStatus),
			f.WorkflowSID != "" && t.WorkflowSID != f.WorkflowSID,
			f.TaskQueueSID != "" && t.TaskQueueSID != f.TaskQueueSID,
			f.TaskQueueName != "" && (t.queue == nil || t.queue.FriendlyName != f.TaskQueueName),
			f.TaskChannel != "" && t.TaskChannelUniqueName != f.TaskChannel && t.TaskChannelSID != f.TaskChannel,
			ev != nil && !ev(t.attrs):
			continue
		}
		out = append(out, r.taskView(ws, t))
	}
	return out, nil
}

func sortedTasks(ws *workspace) []*task {
	ts := make([]*task, 0, len(ws.tasks))
	for _, t := range ws.tasks {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *task) int { return cmp.Compare(a.Seq, b.Seq) })
	return ts
}

// UpdateTask changes a task: attributes, priority and timeout of a live
// task (a new priority re-orders its queue), or its status: canceled
// (pending or reserved), wrapping (assigned), completed (assigned or
// wrapping).
func (r *Router) UpdateTask(wsSID, sid string, p TaskParams) (TaskView, error) {
	var attrs map[string]any
	if p.Attributes != nil {
		if len(*p.Attributes) > MaxAttributesBytes {
			return TaskView{}, errInvalid("Attributes longer than %d bytes", MaxAttributesBytes)
		}
		a, err := decodeAttributes(*p.Attributes)
		if err != nil {
			return TaskView{}, errInvalid("Attributes must be a JSON object: %v", err)
		}
		attrs = a
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, t, err := r.task(wsSID, sid)
	if err != nil {
		return TaskView{}, err
	}
	if p.AssignmentStatus == nil && finished(t.AssignmentStatus) {
		return TaskView{}, errConflict("Task %s is %s and cannot change", sid, t.AssignmentStatus)
	}
	if p.Priority != nil && *p.Priority < 0 {
		return TaskView{}, errInvalid("Priority must be from 0 to 2147483647")
	}
	if attrs != nil {
		t.Attributes, t.attrs = *p.Attributes, attrs
	}
	if p.Priority != nil {
		r.reprioritize(t, *p.Priority)
	}
	if p.Timeout != nil && *p.Timeout >= 1 && *p.Timeout <= MaxTaskTimeout {
		t.Timeout = *p.Timeout
		r.schedule(deadline{at: t.Created.Add(time.Duration(t.Timeout) * time.Second), kind: dlTTL, sid: t.SID})
	}
	t.Updated = r.now()
	r.dirty(ws, t.SID)
	if p.AssignmentStatus != nil {
		reason := ""
		set(&reason, p.Reason)
		if err := r.changeStatus(ws, t, *p.AssignmentStatus, reason); err != nil {
			return TaskView{}, err
		}
	} else {
		r.emit(ws, "task.updated", "task", t.SID, "Task "+t.SID+" updated", r.taskData(ws, t))
		if t.AssignmentStatus == TaskPending {
			r.tryTask(ws, t)
		}
	}
	return r.taskView(ws, t), nil
}

// reprioritize changes a task's own priority and its place in line.
func (r *Router) reprioritize(t *task, prio int) {
	pending := t.AssignmentStatus == TaskPending && t.queue != nil
	if pending {
		t.queue.remove(t)
	}
	t.Priority = prio
	t.prio = prio
	if t.target.priority != nil {
		t.prio = *t.target.priority
	}
	if pending {
		t.queue.insert(t)
	}
}

func (r *Router) changeStatus(ws *workspace, t *task, status, reason string) error {
	switch {
	case status == t.AssignmentStatus:
		return nil
	case status == TaskCanceled && (t.AssignmentStatus == TaskPending || t.AssignmentStatus == TaskReserved):
		if reason == "" {
			reason = "Task canceled"
		}
		r.cancelTask(ws, t, reason)
	case status == TaskWrapping && t.AssignmentStatus == TaskAssigned:
		r.wrapTask(ws, t, reason)
	case status == TaskCompleted && (t.AssignmentStatus == TaskAssigned || t.AssignmentStatus == TaskWrapping):
		if reason == "" {
			reason = "Task completed"
		}
		r.finishTask(ws, t, TaskCompleted, reason)
	default:
		return errConflict("Task %s cannot go from %s to %s", t.SID, t.AssignmentStatus, status)
	}
	return nil
}

// DeleteTask removes a task (canceling it first when live).
func (r *Router) DeleteTask(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, t, err := r.task(wsSID, sid)
	if err != nil {
		return err
	}
	switch t.AssignmentStatus {
	case TaskPending, TaskReserved:
		r.cancelTask(ws, t, "Task deleted")
	case TaskAssigned, TaskWrapping:
		r.finishTask(ws, t, TaskCanceled, "Task deleted")
	}
	r.emit(ws, "task.deleted", "task", t.SID, "Task "+t.SID+" deleted", r.taskData(ws, t))
	r.dropTask(ws, t)
	return nil
}

// dropTask forgets a finished task and its reservations; r.mu held.
func (r *Router) dropTask(ws *workspace, t *task) {
	sid := t.SID
	delete(ws.tasks, sid)
	delete(r.bySID, sid)
	var gone []string
	for _, res := range t.resvs {
		delete(ws.reservations, res.SID)
		delete(r.bySID, res.SID)
		gone = append(gone, res.SID)
		res.worker.resvs = slices.DeleteFunc(res.worker.resvs, func(x *reservation) bool { return x == res })
	}
	r.forget(append(gone, sid)...)
}

// ReservationParams answer a reservation.
type ReservationParams struct {
	// Status: accepted, rejected, completed or wrapping.
	Status string
	// WorkerActivitySID moves the worker on reject (or after accept).
	WorkerActivitySID string
	// Instruction for voice tasks bound to a call: dequeue, call, redirect
	// (accept implied), or "" for a plain status change.
	Instruction Assignment
}

// Reservation returns one reservation.
func (r *Router) Reservation(wsSID, sid string) (Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Reservation{}, err
	}
	res := ws.reservations[sid]
	if res == nil {
		return Reservation{}, errNotFound("Reservation", sid)
	}
	return res.Reservation, nil
}

// Reservations lists the reservations of a task or of a worker (taskSID
// or workerSID; both: the task's for that worker), oldest first; status
// filters.
func (r *Router) Reservations(wsSID, taskSID, workerSID, status string) ([]Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	var from []*reservation
	switch {
	case taskSID != "":
		t := ws.tasks[taskSID]
		if t == nil {
			return nil, errNotFound("Task", taskSID)
		}
		from = t.resvs
	case workerSID != "":
		w := ws.workers[workerSID]
		if w == nil {
			return nil, errNotFound("Worker", workerSID)
		}
		from = w.resvs
	}
	var out []Reservation
	for _, res := range from {
		if (workerSID == "" || res.WorkerSID == workerSID) && (status == "" || res.Status == status) {
			out = append(out, res.Reservation)
		}
	}
	return out, nil
}

// UpdateReservation answers a reservation: accept (or an instruction),
// reject, or moves its accepted task to wrapping or completed.
func (r *Router) UpdateReservation(wsSID, sid string, p ReservationParams) (Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Reservation{}, err
	}
	res := ws.reservations[sid]
	if res == nil {
		return Reservation{}, errNotFound("Reservation", sid)
	}
	if p.WorkerActivitySID != "" && ws.activities[p.WorkerActivitySID] == nil {
		return Reservation{}, errInvalid("WorkerActivitySid %s is not an activity of this workspace", p.WorkerActivitySID)
	}
	status := p.Status
	if status == "" && p.Instruction.Instruction != "" {
		status = ResAccepted
	}
	switch {
	case status == ResAccepted && res.Status == ResPending:
		r.acceptReservation(ws, res, p.Instruction)
		if p.WorkerActivitySID != "" {
			r.setActivity(ws, res.worker, p.WorkerActivitySID, false)
		}
	case status == ResRejected && res.Status == ResPending:
		r.endReservation(ws, res, ResRejected, p.WorkerActivitySID)
	case status == ResWrapping && res.Status == ResAccepted:
		r.wrapTask(ws, res.task, "")
	case status == ResCompleted && (res.Status == ResAccepted || res.Status == ResWrapping):
		r.finishTask(ws, res.task, TaskCompleted, "Reservation completed")
		if p.WorkerActivitySID != "" {
			r.setActivity(ws, res.worker, p.WorkerActivitySID, true)
		}
	case status == "" && p.WorkerActivitySID != "":
		r.setActivity(ws, res.worker, p.WorkerActivitySID, true)
	default:
		return Reservation{}, errConflict("Reservation %s is %s and cannot become %q", sid, res.Status, status)
	}
	return res.Reservation, nil
}

// EventFilter narrows Events; zero fields match everything.
type EventFilter struct {
	EventType, ResourceSID, TaskSID, WorkerSID, WorkflowSID, TaskQueueSID, ReservationSID, TaskChannel string
	Since, Until                                                                                       time.Time
}

// Events lists the workspace's events matching f, newest first.
func (r *Router) Events(wsSID string, f EventFilter) ([]Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	data := func(ev Event, k string) string { return ev.data.get(k) }
	var out []Event
	start := max(0, len(ws.events)-r.opts.EventsKept)
	for i := len(ws.events) - 1; i >= start; i-- {
		ev := ws.events[i]
		switch {
		case f.EventType != "" && ev.EventType != f.EventType,
			f.ResourceSID != "" && ev.ResourceSID != f.ResourceSID,
			f.TaskSID != "" && data(ev, "task_sid") != f.TaskSID,
			f.WorkerSID != "" && data(ev, "worker_sid") != f.WorkerSID,
			f.WorkflowSID != "" && data(ev, "workflow_sid") != f.WorkflowSID,
			f.TaskQueueSID != "" && data(ev, "task_queue_sid") != f.TaskQueueSID,
			f.ReservationSID != "" && data(ev, "reservation_sid") != f.ReservationSID,
			f.TaskChannel != "" && data(ev, "task_channel_unique_name") != f.TaskChannel && data(ev, "task_channel_sid") != f.TaskChannel,
			!f.Since.IsZero() && ev.Date.Before(f.Since),
			!f.Until.IsZero() && ev.Date.After(f.Until):
			continue
		}
		ev.Data = ev.data.fields()
		out = append(out, ev)
	}
	return out, nil
}

// Event returns one event.
func (r *Router) Event(wsSID, sid string) (Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return Event{}, err
	}
	for i := len(ws.events) - 1; i >= 0; i-- {
		if ev := ws.events[i]; ev.SID == sid {
			ev.Data = ev.data.fields()
			return ev, nil
		}
	}
	return Event{}, errNotFound("Event", sid)
}
