package taskrouter

import (
	"cmp"
	"time"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// This file is the assignment engine. Every function runs with r.mu held.

// routeTask sends a new (or re-evaluated) task through its workflow.
func (r *Router) routeTask(ws *workspace, t *task) {
	wf := ws.workflows[t.WorkflowSID]
	if wf == nil {
		r.cancelTask(ws, t, "Workflow not found")
		return
	}
	r.emit(ws, "workflow.entered", "workflow", wf.SID, "Task "+t.SID+" entered workflow "+wf.FriendlyName, r.taskData(ws, t))
	r.enterTarget(ws, t, wf, wf.routing.match(t.attrs), 0)
}

// enterTarget puts t in target index of filter (-1: the default filter),
// skipping targets that skip_if or an expired timeout rule out. Past the
// last target the task falls to the default filter; with none it is
// canceled.
func (r *Router) enterTarget(ws *workspace, t *task, wf *workflow, filter, index int) {
	now := r.now()
	for {
		tg, ok := wf.routing.target(filter, index)
		if !ok {
			if filter >= 0 {
				if index > 0 {
					r.emit(ws, "workflow.timeout", "workflow", wf.SID, "Task "+t.SID+" timed out of its workflow's targets", r.taskData(ws, t))
				}
				filter, index = -1, 0
				continue
			}
			reason := "No filter matched and the workflow has no default filter"
			if t.TargetIndex > 0 || t.FilterIndex >= 0 && t.TaskQueueSID != "" {
				reason = "Task canceled on Workflow timeout"
			}
			r.cancelTask(ws, t, reason)
			return
		}
		last := func() bool { _, more := wf.routing.target(filter, index+1); return !more && filter < 0 }()
		q := ws.queues[tg.queue]
		switch {
		case q == nil:
			index++
			continue
		case tg.timeout > 0 && !now.Before(t.Created.Add(time.Duration(tg.timeout)*time.Second)) && !last:
			index++ // already older than this target allows
			continue
		case tg.skipIf != nil && tg.skipIf.Eval(expr.Env{Bare: t.attrs, Task: t.attrs, Workers: map[string]any{"available": float64(r.availableIn(q))}}):
			r.emit(ws, "workflow.skipped", "workflow", wf.SID, "Task "+t.SID+" skipped a target of "+wf.FriendlyName, r.taskData(ws, t))
			index++
			continue
		}
		r.placeInQueue(ws, t, wf, filter, index, tg, q)
		return
	}
}

// placeInQueue makes tg the task's current target and offers the task.
func (r *Router) placeInQueue(ws *workspace, t *task, wf *workflow, filter, index int, tg routeTarget, q *queue) {
	now := r.now()
	old := t.queue
	if old != nil && t.AssignmentStatus == TaskPending {
		old.remove(t)
	}
	t.FilterIndex, t.TargetIndex, t.target, t.queue = filter, index, tg, q
	t.prio = t.Priority
	if tg.priority != nil {
		t.prio = *tg.priority
	}
	t.TaskQueueSID, t.QueueEntered, t.Updated = q.SID, now, now
	t.RoutingTarget = ""
	t.gen++
	name := "default"
	if filter >= 0 {
		name = wf.routing.filters[filter].name
	}
	data := r.taskData(ws, t)
	data.filter = name
	r.emit(ws, "workflow.target-matched", "workflow", wf.SID, "Task "+t.SID+" matched a target of "+wf.FriendlyName, data)
	if old != nil && old != q {
		r.emit(ws, "task-queue.moved", "taskqueue", q.SID, "Task "+t.SID+" moved to "+q.FriendlyName, r.taskData(ws, t))
	} else {
		r.emit(ws, "task-queue.entered", "taskqueue", q.SID, "Task "+t.SID+" entered "+q.FriendlyName, r.taskData(ws, t))
	}
	if tg.timeout > 0 {
		r.schedule(deadline{at: t.Created.Add(time.Duration(tg.timeout) * time.Second), kind: dlTarget, sid: t.SID, gen: t.gen})
	}
	r.dirty(ws, t.SID)
	if t.AssignmentStatus == TaskPending {
		q.insert(t)
		r.tryTask(ws, t)
	}
}

// targetTimedOut moves a pending task on to its next target; a reserved
// one moves when its reservation ends without an accept.
func (r *Router) targetTimedOut(ws *workspace, t *task) {
	if t.AssignmentStatus != TaskPending {
		return
	}
	r.emit(ws, "task-queue.timeout", "taskqueue", t.TaskQueueSID, "Task "+t.SID+" timed out of "+t.queue.FriendlyName, r.taskData(ws, t))
	r.enterTarget(ws, t, ws.workflows[t.WorkflowSID], t.FilterIndex, t.TargetIndex+1)
}

// requeue puts a task whose reservation ended back in line: in its
// target, or the next one when the target's time is up.
func (r *Router) requeue(ws *workspace, t *task) {
	t.AssignmentStatus, t.res = TaskPending, nil
	t.Updated = r.now()
	r.emit(ws, "task.updated", "task", t.SID, "Task "+t.SID+" is pending again", r.taskData(ws, t))
	if tg := t.target; tg.timeout > 0 && !r.now().Before(t.Created.Add(time.Duration(tg.timeout)*time.Second)) {
		if wf := ws.workflows[t.WorkflowSID]; wf != nil {
			r.enterTarget(ws, t, wf, t.FilterIndex, t.TargetIndex+1)
			return
		}
	}
	r.dirty(ws, t.SID)
	if t.queue != nil {
		t.queue.insert(t)
		r.tryTask(ws, t)
	}
}

// availableIn counts the queue's workers in an available activity.
func (r *Router) availableIn(q *queue) int {
	n := 0
	for _, w := range q.list() {
		if r.activityAvailable(w) {
			n++
		}
	}
	return n
}

func (r *Router) activityAvailable(w *worker) bool { return w.avail }

// canTake reports whether w may be reserved t now.
func (r *Router) canTake(ws *workspace, w *worker, t *task) bool {
	if !r.activityAvailable(w) || t.refused[w.SID] {
		return false
	}
	ch := w.Channels[t.TaskChannelUniqueName]
	if ch == nil || !ch.Available || w.load[t.TaskChannelUniqueName] >= ch.Capacity {
		return false
	}
	if !ws.MultiTaskEnabled && len(w.tasks) > 0 {
		return false
	}
	tg := t.target
	if tg.knownWorker != "" && tg.knownWorker != w.SID || tg.knownName != "" && tg.knownName != w.FriendlyName {
		return false
	}
	return tg.expr == nil || tg.expr.Eval(expr.Env{Bare: w.attrs, Task: t.attrs, Worker: w.attrs})
}

// tryTask reserves a pending task to the best eligible worker, if any.
func (r *Router) tryTask(ws *workspace, t *task) {
	if t.AssignmentStatus != TaskPending || t.queue == nil {
		return
	}
	var best *worker
	for _, w := range t.queue.list() {
		if r.canTake(ws, w, t) && (best == nil || r.preferred(w, best, t.target)) {
			best = w
		}
	}
	if best != nil {
		r.reserve(ws, t, best)
	}
}

// preferred reports whether a ranks before b for a target: by order_by
// keys, then longest idle, then SID (stable).
func (r *Router) preferred(a, b *worker, tg routeTarget) bool {
	for _, k := range tg.orderBy {
		c := compareAttr(lookupPath(a.attrs, k.path), lookupPath(b.attrs, k.path))
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	if c := a.IdleSince.Compare(b.IdleSince); c != 0 {
		return c < 0
	}
	return a.SID < b.SID
}

// tryWorker gives a worker who may have room the best tasks waiting in
// its queues, until it has none left or no task fits.
func (r *Router) tryWorker(ws *workspace, w *worker) {
	for r.activityAvailable(w) {
		var best *task
		for _, q := range w.queues {
			best = r.bestIn(ws, w, q, best)
		}
		if best == nil {
			return
		}
		r.reserve(ws, best, w)
	}
}

// bestIn returns the first task of q that w can take if it is served
// before best (else best), looking only at channels where w has room.
func (r *Router) bestIn(ws *workspace, w *worker, q *queue, best *task) *task {
	for name, list := range q.pending {
		if ch := w.Channels[name]; ch == nil || !ch.Available || w.load[name] >= ch.Capacity {
			continue
		}
		for _, t := range list {
			if best != nil && !r.servedBefore(ws, t, best) {
				break // the rest of this list comes after best
			}
			if r.canTake(ws, w, t) {
				best = t
				break
			}
		}
	}
	return best
}

// servedBefore orders tasks of different queues: priority, then age as
// the workspace's prioritize_queue_order says (FIFO: oldest first).
func (r *Router) servedBefore(ws *workspace, a, b *task) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if c := a.VirtualStart.Compare(b.VirtualStart); c != 0 {
		if ws.PrioritizeQueueOrder == "LIFO" {
			return c > 0
		}
		return c < 0
	}
	return a.Seq < b.Seq
}

// reserve makes a pending reservation of t for w.
func (r *Router) reserve(ws *workspace, t *task, w *worker) {
	now := r.now()
	t.queue.remove(t)
	wf := ws.workflows[t.WorkflowSID]
	timeout := DefaultReservationTimeout
	if wf != nil && wf.TaskReservationTimeout > 0 {
		timeout = wf.TaskReservationTimeout
	}
	r.seq++
	res := &reservation{Reservation: Reservation{Seq: r.seq,
		SID: newSID(PrefixReservation), WorkspaceSID: ws.SID, TaskSID: t.SID, WorkerSID: w.SID,
		WorkerName: w.FriendlyName, Status: ResPending, Timeout: timeout, Created: now, Updated: now,
	}, task: t, worker: w}
	ws.reservations[res.SID] = res
	r.bySID[res.SID] = ws
	t.resvs = append(t.resvs, res)
	w.resvs = append(w.resvs, res)
	t.res, t.AssignmentStatus, t.Updated = res, TaskReserved, now
	w.load[t.TaskChannelUniqueName]++
	w.tasks[t.SID] = true
	r.schedule(deadline{at: now.Add(time.Duration(timeout) * time.Second), kind: dlReservation, sid: res.SID})
	if a := t.queue.ReservationActivitySID; a != "" && ws.activities[a] != nil {
		r.setActivity(ws, w, a, false)
	}
	r.dirty(ws, t.SID, res.SID, w.SID)
	r.log.Debug("taskrouter: reserved", "task_sid", t.SID, "worker_sid", w.SID, "reservation_sid", res.SID, "queue_sid", t.queue.SID)
	r.emit(ws, "reservation.created", "reservation", res.SID, "Reservation "+res.SID+" created for "+w.FriendlyName, r.resData(ws, res))
	r.notify(w.SID, "reservation.created", res)
	if wf != nil && wf.AssignmentCallbackURL != "" {
		r.assignmentCallback(ws, wf, res)
	}
}

// release frees the capacity t held on w.
func (r *Router) release(ws *workspace, w *worker, t *task) {
	if !w.tasks[t.SID] {
		return
	}
	delete(w.tasks, t.SID)
	w.load[t.TaskChannelUniqueName]--
	if len(w.tasks) == 0 {
		w.IdleSince = r.now()
	}
	r.dirty(ws, w.SID)
}

// releaseAndOffer frees capacity and looks for the worker's next task.
func (r *Router) releaseAndOffer(ws *workspace, w *worker, t *task) {
	r.release(ws, w, t)
	r.tryWorker(ws, w)
}

// endReservation gives a pending reservation its final status; the task
// goes back in line and the worker may get other work.
func (r *Router) endReservation(ws *workspace, res *reservation, status, activitySID string) {
	t, w := res.task, res.worker
	res.Status, res.Updated = status, r.now()
	if t.refused == nil {
		t.refused = map[string]bool{}
	}
	t.refused[w.SID] = true
	r.release(ws, w, t)
	r.dirty(ws, res.SID)
	r.emit(ws, "reservation."+status, "reservation", res.SID, "Reservation "+res.SID+" "+status, r.resData(ws, res))
	r.notify(w.SID, "reservation."+status, res)
	if activitySID != "" && ws.activities[activitySID] != nil {
		r.setActivity(ws, w, activitySID, false)
	}
	r.requeue(ws, t)
	r.tryWorker(ws, w)
}

// timeoutReservation: the worker did not answer in time.
func (r *Router) timeoutReservation(ws *workspace, res *reservation) {
	r.endReservation(ws, res, ResTimeout, ws.TimeoutActivitySID)
}

// acceptReservation assigns the task to the reservation's worker.
func (r *Router) acceptReservation(ws *workspace, res *reservation, inst Assignment) {
	t, w := res.task, res.worker
	now := r.now()
	res.Status, res.Updated = ResAccepted, now
	t.AssignmentStatus, t.Updated = TaskAssigned, now
	r.dirty(ws, res.SID, t.SID)
	r.emit(ws, "reservation.accepted", "reservation", res.SID, "Reservation "+res.SID+" accepted by "+w.FriendlyName, r.resData(ws, res))
	r.emit(ws, "task.updated", "task", t.SID, "Task "+t.SID+" assigned", r.taskData(ws, t))
	r.notify(w.SID, "reservation.accepted", res)
	if a := t.queue.AssignmentActivitySID; a != "" && ws.activities[a] != nil {
		r.setActivity(ws, w, a, false)
	}
	inst.TaskSID, inst.ReservationSID, inst.WorkerSID = t.SID, res.SID, w.SID
	if inst.To == "" {
		inst.To, _ = w.attrs["contact_uri"].(string)
	}
	if t.Live != "" {
		a := inst
		t.accepted = &a
	}
	hooks := t.onAccept
	t.onAccept = nil
	for _, h := range hooks {
		h(inst)
	}
}

// cancelTask ends a task that was not (or no longer) wanted.
func (r *Router) cancelTask(ws *workspace, t *task, reason string) {
	switch t.AssignmentStatus {
	case TaskCompleted, TaskCanceled:
		return
	case TaskPending:
		if t.queue != nil {
			t.queue.remove(t)
		}
	}
	r.finishTask(ws, t, TaskCanceled, reason)
}

// finishTask moves t to completed or canceled and frees its worker.
func (r *Router) finishTask(ws *workspace, t *task, status, reason string) {
	now := r.now()
	t.AssignmentStatus, t.Reason, t.Updated = status, reason, now
	r.dirty(ws, t.SID)
	r.schedule(deadline{at: now.Add(r.opts.FinishedRetention), kind: dlForget, sid: t.SID})
	if res := t.res; res != nil {
		switch {
		case status == TaskCompleted:
			res.Status = ResCompleted
		default:
			res.Status = ResCanceled
		}
		res.Updated = now
		r.dirty(ws, res.SID)
		r.emit(ws, "reservation."+res.Status, "reservation", res.SID, "Reservation "+res.SID+" "+res.Status, r.resData(ws, res))
		r.notify(res.WorkerSID, "reservation."+res.Status, res)
		defer r.releaseAndOffer(ws, res.worker, t)
	}
	r.emit(ws, "task."+status, "task", t.SID, "Task "+t.SID+" "+status+": "+reason, r.taskData(ws, t))
	hooks := t.onEnd
	t.onEnd, t.onAccept = nil, nil
	for _, h := range hooks {
		h(status, reason)
	}
}

// wrapTask moves an assigned task to wrapping (the agent's after-work).
func (r *Router) wrapTask(ws *workspace, t *task, reason string) {
	if t.res == nil { // taken outside routing (TakeContactTask): no agent wraps up
		r.finishTask(ws, t, TaskCompleted, reason)
		return
	}
	now := r.now()
	t.AssignmentStatus, t.Reason, t.Updated = TaskWrapping, reason, now
	r.dirty(ws, t.SID)
	if res := t.res; res != nil {
		res.Status, res.Updated = ResWrapping, now
		r.dirty(ws, res.SID)
		r.emit(ws, "reservation.wrapup", "reservation", res.SID, "Reservation "+res.SID+" wrapping", r.resData(ws, res))
		r.notify(res.WorkerSID, "reservation.wrapup", res)
	}
	r.emit(ws, "task.wrapup", "task", t.SID, "Task "+t.SID+" wrapping", r.taskData(ws, t))
}

// setActivity changes a worker's activity; offer says whether to look
// for work for it afterwards.
func (r *Router) setActivity(ws *workspace, w *worker, activitySID string, offer bool) {
	if w.ActivitySID == activitySID {
		return
	}
	was := r.activityAvailable(w)
	now := r.now()
	w.ActivitySID, w.StatusChanged, w.Updated = activitySID, now, now
	w.avail = ws.activities[activitySID].Available
	if !was && r.activityAvailable(w) && len(w.tasks) == 0 {
		w.IdleSince = now
	}
	r.dirty(ws, w.SID)
	r.emit(ws, "worker.activity.update", "worker", w.SID, "Worker "+w.FriendlyName+" is now "+ws.activities[activitySID].FriendlyName, r.workerData(ws, w))
	r.notify(w.SID, "worker.activity.update", nil)
	if offer {
		r.tryWorker(ws, w)
	}
}

// refreshMembership recomputes which queues w belongs to.
func (r *Router) refreshMembership(ws *workspace, w *worker) {
	w.queues = w.queues[:0]
	for _, q := range sortedQueues(ws) {
		if q.matches(w) {
			q.join(w)
			w.queues = append(w.queues, q)
		} else {
			q.leave(w.SID)
		}
	}
}

// sortedQueues lists the workspace's queues oldest first (stable).
func sortedQueues(ws *workspace) []*queue {
	return oldestFirst(ws.queues, func(q *queue) (time.Time, string) { return q.Created, q.SID })
}

func lookupPath(m map[string]any, p []string) any {
	var cur any = m
	for _, s := range p {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[s]
	}
	return cur
}

// compareAttr orders numbers, then strings; anything else sorts last.
func compareAttr(a, b any) int {
	fa, aok := a.(float64)
	fb, bok := b.(float64)
	if aok && bok {
		return cmp.Compare(fa, fb)
	}
	sa, aok := a.(string)
	sb, bok := b.(string)
	if aok && bok {
		return cmp.Compare(sa, sb)
	}
	switch {
	case a == nil && b != nil:
		return 1
	case a != nil && b == nil:
		return -1
	}
	return 0
}
