package taskrouter

import (
	"cmp"
	"slices"
	"strings"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// WorkerParams create or change a worker; nil fields are kept.
type WorkerParams struct {
	FriendlyName *string
	ActivitySID  *string
	Attributes   *string
}

// WorkerView is a worker with its activity's name and availability.
type WorkerView struct {
	Worker
	ActivityName string
	Available    bool
}

func (r *Router) workerView(ws *workspace, w *worker) WorkerView {
	v := WorkerView{Worker: w.Worker}
	v.Channels = nil // internal map; see WorkerChannels
	if a := ws.activities[w.ActivitySID]; a != nil {
		v.ActivityName, v.Available = a.FriendlyName, a.Available
	}
	return v
}

func (r *Router) ensureWorkerChannel(w *worker, c *TaskChannel) {
	if w.Channels[c.UniqueName] == nil {
		w.Channels[c.UniqueName] = &WorkerChannel{SID: newSID(PrefixWorkerChannel), TaskChannelSID: c.SID, Capacity: 1, Available: true}
	}
}

func parseWorkerAttributes(s string) (map[string]any, error) {
	if len(s) > MaxAttributesBytes {
		return nil, errInvalid("Attributes longer than %d bytes", MaxAttributesBytes)
	}
	m, err := decodeAttributes(s)
	if err != nil {
		return nil, errInvalid("Attributes must be a JSON object: %v", err)
	}
	return m, nil
}

// CreateWorker adds a worker in the given (or the workspace's default)
// activity, with capacity 1 on every task channel.
func (r *Router) CreateWorker(wsSID string, p WorkerParams) (WorkerView, error) {
	if p.FriendlyName == nil || *p.FriendlyName == "" {
		return WorkerView{}, errInvalid("Missing required parameter FriendlyName in the post body")
	}
	attrsJSON := "{}"
	set(&attrsJSON, p.Attributes)
	attrs, err := parseWorkerAttributes(attrsJSON)
	if err != nil {
		return WorkerView{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return WorkerView{}, err
	}
	for _, w := range ws.workers {
		if w.FriendlyName == *p.FriendlyName {
			return WorkerView{}, errConflict("A worker named %q already exists", *p.FriendlyName)
		}
	}
	act := ws.DefaultActivitySID
	if p.ActivitySID != nil {
		if ws.activities[*p.ActivitySID] == nil {
			return WorkerView{}, errInvalid("ActivitySid %s is not an activity of this workspace", *p.ActivitySID)
		}
		act = *p.ActivitySID
	}
	now := r.now()
	w := &worker{Worker: Worker{SID: newSID(PrefixWorker), WorkspaceSID: ws.SID, FriendlyName: *p.FriendlyName,
		Attributes: attrsJSON, ActivitySID: act, Channels: map[string]*WorkerChannel{}, StatusChanged: now, IdleSince: now,
		Created: now, Updated: now}, attrs: attrs, load: map[string]int{}, tasks: map[string]bool{}}
	r.addWorker(ws, w)
	r.dirty(ws, w.SID)
	r.emit(ws, "worker.created", "worker", w.SID, "Worker "+w.FriendlyName+" created", r.workerData(ws, w))
	r.tryWorker(ws, w)
	return r.workerView(ws, w), nil
}

// addWorker indexes a worker; r.mu held.
func (r *Router) addWorker(ws *workspace, w *worker) {
	a := ws.activities[w.ActivitySID]
	w.avail = a != nil && a.Available
	for _, c := range ws.channels {
		r.ensureWorkerChannel(w, c)
	}
	ws.workers[w.SID] = w
	r.bySID[w.SID] = ws
	r.refreshMembership(ws, w)
}

// Worker returns one worker.
func (r *Router) Worker(wsSID, sid string) (WorkerView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, w, err := r.worker(wsSID, sid)
	if err != nil {
		return WorkerView{}, err
	}
	return r.workerView(ws, w), nil
}

func (r *Router) worker(wsSID, sid string) (*workspace, *worker, error) {
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, nil, err
	}
	w := ws.workers[sid]
	if w == nil {
		return nil, nil, errNotFound("Worker", sid)
	}
	return ws, w, nil
}

// WorkerFilter narrows Workers; zero fields match everything.
type WorkerFilter struct {
	ActivitySID, ActivityName, FriendlyName, TaskQueueSID, TaskQueueName string
	Available                                                            *bool
	// TargetWorkersExpression is an expression over worker attributes.
	TargetWorkersExpression string
}

// Workers lists the workers matching f, oldest first.
func (r *Router) Workers(wsSID string, f WorkerFilter) ([]WorkerView, error) {
	var target *expr.Expr
	if f.TargetWorkersExpression != "" {
		e, err := expr.Compile(f.TargetWorkersExpression)
		if err != nil {
			return nil, errInvalid("TargetWorkersExpression: invalid expression: %v", err)
		}
		target = e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, err := r.ws(wsSID)
	if err != nil {
		return nil, err
	}
	var out []WorkerView
	for _, w := range ws.workers {
		v := r.workerView(ws, w)
		switch {
		case f.ActivitySID != "" && w.ActivitySID != f.ActivitySID,
			f.ActivityName != "" && v.ActivityName != f.ActivityName,
			f.FriendlyName != "" && w.FriendlyName != f.FriendlyName,
			f.Available != nil && v.Available != *f.Available,
			f.TaskQueueSID != "" && !inQueues(w, func(q *queue) bool { return q.SID == f.TaskQueueSID }),
			f.TaskQueueName != "" && !inQueues(w, func(q *queue) bool { return q.FriendlyName == f.TaskQueueName }),
			target != nil && !target.Eval(expr.Env{Bare: w.attrs, Worker: w.attrs}):
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b WorkerView) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.SID, b.SID)) })
	return out, nil
}

func inQueues(w *worker, match func(*queue) bool) bool {
	return slices.ContainsFunc(w.queues, match)
}

// UpdateWorker changes a worker's name, attributes or activity. A
// worker going available is offered waiting tasks at once.
func (r *Router) UpdateWorker(wsSID, sid string, p WorkerParams) (WorkerView, error) {
	var attrs map[string]any
	if p.Attributes != nil {
		a, err := parseWorkerAttributes(*p.Attributes)
		if err != nil {
			return WorkerView{}, err
		}
		attrs = a
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, w, err := r.worker(wsSID, sid)
	if err != nil {
		return WorkerView{}, err
	}
	if p.ActivitySID != nil && ws.activities[*p.ActivitySID] == nil {
		return WorkerView{}, errInvalid("ActivitySid %s is not an activity of this workspace", *p.ActivitySID)
	}
	if p.FriendlyName != nil && *p.FriendlyName != "" {
		w.FriendlyName = *p.FriendlyName
	}
	if attrs != nil {
		w.Attributes, w.attrs, w.Updated = *p.Attributes, attrs, r.now()
		r.refreshMembership(ws, w)
		r.emit(ws, "worker.attributes.update", "worker", w.SID, "Worker "+w.FriendlyName+" attributes updated", r.workerData(ws, w))
	}
	r.dirty(ws, w.SID)
	if p.ActivitySID != nil {
		r.setActivity(ws, w, *p.ActivitySID, false)
	}
	r.tryWorker(ws, w)
	return r.workerView(ws, w), nil
}

// DeleteWorker removes a worker holding no task.
func (r *Router) DeleteWorker(wsSID, sid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, w, err := r.worker(wsSID, sid)
	if err != nil {
		return err
	}
	if len(w.tasks) > 0 {
		return errConflict("Worker %s still holds tasks", sid)
	}
	for _, q := range w.queues {
		q.leave(sid)
	}
	delete(ws.workers, sid)
	delete(r.bySID, sid)
	r.forget(sid)
	r.emit(ws, "worker.deleted", "worker", sid, "Worker "+w.FriendlyName+" deleted", r.workerData(ws, w))
	return nil
}

// WorkerChannelView is a worker's channel with its load.
type WorkerChannelView struct {
	WorkerChannel
	WorkerSID, WorkspaceSID, UniqueName string
	Assigned                            int
	AvailableCapacityPct                int
}

func channelView(w *worker, name string, c *WorkerChannel) WorkerChannelView {
	v := WorkerChannelView{WorkerChannel: *c, WorkerSID: w.SID, WorkspaceSID: w.WorkspaceSID, UniqueName: name, Assigned: w.load[name]}
	if c.Capacity > 0 {
		v.AvailableCapacityPct = max(0, 100*(c.Capacity-v.Assigned)/c.Capacity)
	}
	return v
}

// WorkerChannels lists a worker's channels.
func (r *Router) WorkerChannels(wsSID, workerSID string) ([]WorkerChannelView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, w, err := r.worker(wsSID, workerSID)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerChannelView, 0, len(w.Channels))
	for name, c := range w.Channels {
		out = append(out, channelView(w, name, c))
	}
	slices.SortFunc(out, func(a, b WorkerChannelView) int { return strings.Compare(a.UniqueName, b.UniqueName) })
	return out, nil
}

// UpdateWorkerChannel sets a worker's capacity or availability on a
// channel (by WC SID, TC SID or unique name).
func (r *Router) UpdateWorkerChannel(wsSID, workerSID, channel string, capacity *int, available *bool) (WorkerChannelView, error) {
	if capacity != nil && (*capacity < 0 || *capacity > 50) {
		return WorkerChannelView{}, errInvalid("Capacity must be from 0 to 50")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, w, err := r.worker(wsSID, workerSID)
	if err != nil {
		return WorkerChannelView{}, err
	}
	name, c := w.channel(ws, channel)
	if c == nil {
		return WorkerChannelView{}, errNotFound("WorkerChannel", channel)
	}
	set(&c.Capacity, capacity)
	set(&c.Available, available)
	r.dirty(ws, w.SID)
	r.emit(ws, "worker.capacity.update", "worker", w.SID, "Worker "+w.FriendlyName+" capacity updated", r.workerData(ws, w))
	r.tryWorker(ws, w)
	return channelView(w, name, c), nil
}

// WorkerChannel returns one of a worker's channels.
func (r *Router) WorkerChannel(wsSID, workerSID, channel string) (WorkerChannelView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, w, err := r.worker(wsSID, workerSID)
	if err != nil {
		return WorkerChannelView{}, err
	}
	name, c := w.channel(ws, channel)
	if c == nil {
		return WorkerChannelView{}, errNotFound("WorkerChannel", channel)
	}
	return channelView(w, name, c), nil
}

func (w *worker) channel(ws *workspace, key string) (string, *WorkerChannel) {
	if c := w.Channels[key]; c != nil {
		return key, c
	}
	for name, c := range w.Channels {
		if c.SID == key || c.TaskChannelSID == key {
			return name, c
		}
	}
	return "", nil
}
