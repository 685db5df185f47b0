package taskrouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

func matchTask(e *expr.Expr, a map[string]any) bool {
	return e != nil && e.Eval(expr.Env{Bare: a, Task: a})
}

// Assignment is an accepted reservation, as the call engine (or a chat
// bridge) needs it: who took the task and how to deliver it.
type Assignment struct {
	TaskSID, ReservationSID, WorkerSID string
	// Instruction: "dequeue" (bridge the waiting caller to To), "call"
	// (a new call to To running URL), "redirect" (run URL on the call),
	// "conference" (delivered as dequeue: with the agent rooms, every
	// delivered call is a conference named after the task), or "" (plain
	// accept; for a call it means dequeue).
	Instruction string
	To, From    string // dequeue/call: the worker's contact URI, the caller ID
	URL         string // call/redirect: TwiML to run
	// PostWorkActivitySID moves the worker when the bridged call ends.
	PostWorkActivitySID string
	Timeout             int // dequeue/call ring timeout in seconds (0: default)
	// Conference is the conference instruction's room settings (nil:
	// none given, the desktop's defaults).
	Conference *ConferenceOptions
	// A caller taken by a <Dial><Queue url> (TakeContactTask): the
	// announcement run on the caller before the bridge, and the
	// dequeuing call.
	AnnounceURL, AnnounceMethod, DequeuerSID string `json:",omitempty"`
}

// ErrTaskEnded is returned by ContactTask.Wait when the task was canceled
// (TTL, workflow timeout, REST) before a worker accepted it.
var ErrTaskEnded = errors.New("taskrouter: task ended before it was accepted")

// ContactParams describe a contact handed to TaskRouter: a call (Send To
// Flex, <Enqueue workflowSid>), a chat or a message conversation.
type ContactParams struct {
	WorkflowSID string // WW…; its workspace is found from it
	Channel     string // task channel unique name or SID: voice, chat, sms (default voice when CallSID is set)
	Attributes  string // JSON object; merged over the contact's facts
	Priority    *int
	Timeout     int // TTL seconds (0: DefaultTaskTimeout)
	// CallSID binds the task to a live call: the facts call_sid, from, to
	// and direction are merged into the attributes, and the task is
	// canceled when the gateway restarts.
	CallSID, From, To string
	// Facts are extra attributes merged under Attributes (for chats:
	// conversation_sid, channelType, …).
	Facts map[string]any
	// Live, for a contact held in this process's memory other than a
	// call (a web chat: "chat CH…"), has the task canceled when the
	// gateway restarts. Leave it empty for contacts that survive a
	// restart (a stored SMS conversation).
	Live string
}

// ContactTask is a task created for a live contact. Wait for its
// assignment; Cancel it when the contact leaves; Wrap and Complete it when
// the conversation ends.
type ContactTask struct {
	SID          string
	WorkspaceSID string
	r            *Router
	remote       RemoteContact // set instead of r for a task another node's Router owns
	accepted     chan Assignment
	ended        chan string // the reason
}

// RemoteContact follows a contact's task held by a Router in another
// process (the cluster's TaskRouter leader): NewRemoteContactTask wraps
// one in a ContactTask, so that the call engine uses it as a local one.
type RemoteContact interface {
	// Wait blocks until a worker accepts the task, the task ends
	// (an error wrapping ErrTaskEnded) or ctx ends.
	Wait(ctx context.Context) (Assignment, error)
	// Cancel cancels (or, once assigned, wraps) the task.
	Cancel(reason string)
	// Requeue puts an assigned task back in line.
	Requeue(reason string) error
}

// NewRemoteContactTask is a ContactTask whose task another process owns.
func NewRemoteContactTask(taskSID, workspaceSID string, rc RemoteContact) *ContactTask {
	return &ContactTask{SID: taskSID, WorkspaceSID: workspaceSID, remote: rc}
}

// CreateContactTask creates a task through the workflow for a contact and
// returns a handle to follow it.
func (r *Router) CreateContactTask(p ContactParams) (*ContactTask, error) {
	attrs := map[string]any{}
	for k, v := range p.Facts {
		attrs[k] = v
	}
	if p.CallSID != "" {
		attrs["call_sid"], attrs["from"], attrs["to"], attrs["direction"] = p.CallSID, p.From, p.To, "inbound"
		attrs["caller"], attrs["called"] = p.From, p.To
	}
	if p.Attributes != "" {
		extra, err := decodeAttributes(p.Attributes)
		if err != nil {
			return nil, errInvalid("Attributes must be a JSON object: %v", err)
		}
		for k, v := range extra {
			attrs[k] = v
		}
	}
	js, err := json.Marshal(attrs)
	if err != nil {
		return nil, fmt.Errorf("taskrouter: attributes: %w", err)
	}
	s := string(js)
	channel := p.Channel
	if channel == "" && p.CallSID != "" {
		channel = "voice"
	}
	tp := TaskParams{WorkflowSID: &p.WorkflowSID, Attributes: &s, Priority: p.Priority, Live: p.Live}
	if p.CallSID != "" {
		tp.Live = "call " + p.CallSID
	}
	if p.Timeout > 0 {
		tp.Timeout = &p.Timeout
	}
	if channel != "" {
		tp.TaskChannel = &channel
	}
	t, err := r.newTask(tp)
	if err != nil {
		return nil, err
	}
	ct := &ContactTask{r: r, accepted: make(chan Assignment, 1), ended: make(chan string, 1)}
	t.onAccept = append(t.onAccept, func(a Assignment) { ct.accepted <- a })
	t.onEnd = append(t.onEnd, func(_, reason string) { ct.ended <- reason })
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := r.bySID[p.WorkflowSID]
	if ws == nil {
		return nil, errInvalid("WorkflowSid %q is not a workflow", p.WorkflowSID)
	}
	if err := r.admit(ws, t, tp); err != nil {
		return nil, err
	}
	ct.SID, ct.WorkspaceSID = t.SID, ws.SID
	return ct, nil
}

// AdoptContactTask returns a handle on an existing, unfinished task of a
// live contact: the contact's node follows it again after another
// process loaded TaskRouter (Options.LiveGrace). An assigned task's
// assignment is ready on the handle.
func (r *Router) AdoptContactTask(workspaceSID, taskSID string) (*ContactTask, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, t, err := r.task(workspaceSID, taskSID)
	if err != nil {
		return nil, err
	}
	switch t.AssignmentStatus {
	case TaskPending, TaskReserved, TaskAssigned:
	default:
		return nil, fmt.Errorf("%w: the task is %s", ErrTaskEnded, t.AssignmentStatus)
	}
	t.orphan = false
	ct := &ContactTask{SID: t.SID, WorkspaceSID: ws.SID, r: r, accepted: make(chan Assignment, 1), ended: make(chan string, 1)}
	t.onAccept = append(t.onAccept, func(a Assignment) { ct.accepted <- a })
	t.onEnd = append(t.onEnd, func(_, reason string) { ct.ended <- reason })
	if t.AssignmentStatus == TaskAssigned {
		t.onAccept = t.onAccept[:len(t.onAccept)-1] // assigned already: the assignment is here
		a := Assignment{TaskSID: t.SID, Instruction: "dequeue"}
		if t.accepted != nil {
			a = *t.accepted
		} else if res := t.res; res != nil {
			a.ReservationSID, a.WorkerSID = res.SID, res.WorkerSID
			a.To, _ = res.worker.attrs["contact_uri"].(string)
		}
		ct.accepted <- a
	}
	return ct, nil
}

// Wait blocks until a worker accepts the task (its Assignment), the task
// ends first (ErrTaskEnded wrapped with the reason) or ctx ends.
func (c *ContactTask) Wait(ctx context.Context) (Assignment, error) {
	if c.remote != nil {
		return c.remote.Wait(ctx)
	}
	select {
	case a := <-c.accepted:
		return a, nil
	case reason := <-c.ended:
		return Assignment{}, fmt.Errorf("%w: %s", ErrTaskEnded, reason)
	case <-ctx.Done():
		return Assignment{}, ctx.Err()
	}
}

// Cancel ends a task whose contact left before it was assigned (the
// caller hung up); an assigned task goes to wrapping instead.
func (c *ContactTask) Cancel(reason string) {
	if c.remote != nil {
		c.remote.Cancel(reason)
		return
	}
	if c.r == nil {
		return // not made by CreateContactTask
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	ws, t, err := c.r.task(c.WorkspaceSID, c.SID)
	if err != nil {
		return
	}
	switch t.AssignmentStatus {
	case TaskPending, TaskReserved:
		c.r.cancelTask(ws, t, reason)
	case TaskAssigned:
		c.r.wrapTask(ws, t, reason)
	}
}

// Wrap moves an assigned task to wrapping (the conversation ended; the
// agent is wrapping up).
func (c *ContactTask) Wrap(reason string) { c.Cancel(reason) }

// Notification is something a worker's desktop shows.
type Notification struct {
	Type        string // reservation.created, reservation.accepted, …, worker.activity.update
	Reservation *Reservation
	Task        *TaskView
}

// Subscription delivers one worker's notifications. Read C until Close.
type Subscription struct {
	C         <-chan Notification
	c         chan Notification
	r         *Router
	workerSID string
}

// Subscribe follows a worker's reservations (the agent desktop). A slow
// reader loses notifications rather than blocking routing; the desktop
// re-reads the worker's reservations on every notification.
func (r *Router) Subscribe(workerSID string) *Subscription {
	c := make(chan Notification, 64)
	s := &Subscription{C: c, c: c, r: r, workerSID: workerSID}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs[workerSID] == nil {
		r.subs[workerSID] = map[*Subscription]struct{}{}
	}
	r.subs[workerSID][s] = struct{}{}
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	delete(s.r.subs[s.workerSID], s)
	if len(s.r.subs[s.workerSID]) == 0 {
		delete(s.r.subs, s.workerSID)
	}
}

// notify sends a worker's subscribers a notification; r.mu held.
func (r *Router) notify(workerSID, typ string, res *reservation) {
	subs := r.subs[workerSID]
	if len(subs) == 0 {
		return
	}
	n := Notification{Type: typ}
	if res != nil {
		rc := res.Reservation
		n.Reservation = &rc
		tv := r.taskView(r.workspaces[res.WorkspaceSID], res.task)
		n.Task = &tv
	}
	for s := range subs {
		select {
		case s.c <- n:
		default:
		}
	}
}

// Requeue puts an assigned task back in line when its delivery failed
// (the agent's phone did not answer): the reservation is canceled, the
// worker is not offered the task again, and Wait can be called again for
// the next assignment.
func (c *ContactTask) Requeue(reason string) error {
	if c.remote != nil {
		return c.remote.Requeue(reason)
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	ws, t, err := c.r.task(c.WorkspaceSID, c.SID)
	if err != nil {
		return err
	}
	res := t.res
	if t.AssignmentStatus == TaskAssigned && res == nil { // taken outside routing: nobody else will take it
		c.r.cancelTask(ws, t, reason)
		return nil
	}
	if t.AssignmentStatus != TaskAssigned || res == nil {
		return errConflict("Task %s is %s, not assigned", t.SID, t.AssignmentStatus)
	}
	c.r.log.Info("taskrouter: delivery failed, task back in line", "task_sid", t.SID, "worker_sid", res.WorkerSID, "reason", reason)
	t.onAccept = append(t.onAccept, func(a Assignment) { c.accepted <- a })
	c.r.endReservation(ws, res, ResCanceled, "")
	return nil
}

// TakeContactTask hands a pending task of a live contact to a taker
// outside routing (a classic <Dial><Queue> on a cluster node taking the
// front caller of a named queue): the task leaves its queue, is
// assigned with no reservation, and the contact's Wait returns inst.
// When the contact wraps it, it completes; when the delivery fails
// (Requeue), it is canceled.
func (r *Router) TakeContactTask(workspaceSID, taskSID string, inst Assignment) (TaskView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws, t, err := r.task(workspaceSID, taskSID)
	if err != nil {
		return TaskView{}, err
	}
	if t.AssignmentStatus != TaskPending || len(t.onAccept) == 0 {
		return TaskView{}, errConflict("Task %s is %s, not a waiting contact", t.SID, t.AssignmentStatus)
	}
	if t.queue != nil {
		t.queue.remove(t)
	}
	now := r.now()
	t.AssignmentStatus, t.Reason, t.Updated = TaskAssigned, "taken", now
	r.dirty(ws, t.SID)
	r.emit(ws, "task.updated", "task", t.SID, "Task "+t.SID+" assigned: taken", r.taskData(ws, t))
	inst.TaskSID = t.SID
	a := inst
	t.accepted = &a
	hooks := t.onAccept
	t.onAccept = nil
	for _, h := range hooks {
		h(inst)
	}
	return r.taskView(ws, t), nil
}
