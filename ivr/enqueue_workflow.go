package ivr

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/twiml"
)

// ContactTasks creates TaskRouter tasks for calls (*taskrouter.Router);
// pass one in Config.Services to run <Enqueue workflowSid>.
type ContactTasks interface {
	CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error)
}

func init() {
	registerVerbWhen(func(v *twiml.Enqueue) bool { return v.WorkflowSID != "" },
		func(v *twiml.Enqueue) verb { return &workflowEnqueueVerb{v: v} })
}

// TaskHeader names the task on the call to its worker: a SIP header, and
// an attribute of a browser agent's call offer (its desktop answers the
// call of a task it accepted by itself).
const TaskHeader = "X-Voxgate-Task"

// defaultAgentRing is how long an accepted task's agent phone rings.
const defaultAgentRing = 30 * time.Second

// workflowEnqueueVerb runs <Enqueue workflowSid> (and Studio's Send To
// Flex): the call becomes a TaskRouter task through the workflow; the
// caller hears the wait experience until a worker accepts the task, then
// is bridged to the worker's contact URI (a browser agent "client:…" or a
// SIP phone). An agent phone that does not answer puts the task back in
// line. When the caller leaves, the task is canceled (or, once assigned,
// wrapped).
type workflowEnqueueVerb struct {
	v        *twiml.Enqueue
	queueSID string     // a named queue's (<Enqueue>name carried as a task): its QueueSid
	queues   QueueTasks // and where its stats are read
	maxSize  int
	task     *taskrouter.ContactTask
	enqueued time.Time
	log      *slog.Logger
}

func (v *workflowEnqueueVerb) run(s *session) (next, error) {
	tasks, ok := service[ContactTasks](s)
	if !ok {
		return next{}, &verbError{code: 12400, err: errors.New("<Enqueue workflowSid>: this gateway has no TaskRouter")}
	}
	p := taskrouter.ContactParams{WorkflowSID: v.v.WorkflowSID, CallSID: s.info.SID, From: s.info.From, To: s.info.To}
	if t := v.v.Task; t != nil {
		p.Attributes, p.Timeout = t.JSON, t.Timeout
		if t.Priority != 0 {
			p.Priority = &t.Priority
		}
	}
	ct, err := tasks.CreateContactTask(p)
	if err != nil {
		s.log.Error("ivr: <Enqueue workflowSid>: no task", "workflow_sid", v.v.WorkflowSID, "error", err)
		return v.done(s, "system-error")
	}
	v.task, v.enqueued = ct, s.now()
	v.log = s.log.With("task_sid", ct.SID, "workflow_sid", v.v.WorkflowSID)
	v.log.Info("ivr: caller waiting for a TaskRouter worker")
	for {
		a, end := v.waitAssignment(s)
		if end == nil {
			end = v.deliver(s, a)
		}
		if end != nil {
			return end.nxt, end.err
		}
	}
}

// verbEnd is how the verb ends: what run returns.
type verbEnd struct {
	nxt next
	err error
}

func ending(nxt next, err error) *verbEnd { return &verbEnd{nxt: nxt, err: err} }

// waitAssignment plays the wait experience until a worker accepts the
// task (a nil end) or the wait ends otherwise.
func (v *workflowEnqueueVerb) waitAssignment(s *session) (taskrouter.Assignment, *verbEnd) {
	holdCtx, stopHold := context.WithCancel(s.ctx)
	holdDone := make(chan error, 1)
	go func() { holdDone <- v.hold(s, holdCtx) }()
	waitDone := make(chan struct{})
	var a taskrouter.Assignment
	var waitErr error
	go func() {
		defer close(waitDone)
		a, waitErr = v.task.Wait(holdCtx)
	}()
	stop := func() { stopHold(); <-waitDone }
	select {
	case <-waitDone:
		stopHold()
		<-holdDone
		if waitErr != nil {
			if s.ctx.Err() != nil {
				return a, ending(v.left(s), s.stopped())
			}
			v.log.Info("ivr: the task ended before a worker took it", "error", waitErr)
			return a, ending(v.done(s, "leave"))
		}
		return a, nil
	case err := <-holdDone:
		stop()
		return a, ending(v.holdEnded(s, err))
	}
}

// left cancels the task of a caller who hung up or was redirected away.
func (v *workflowEnqueueVerb) left(s *session) next {
	if s.over() {
		v.task.Cancel("caller hung up")
		v.notify(s, "hangup")
	} else {
		v.task.Cancel("call redirected")
		v.notify(s, "redirected")
	}
	return next{}
}

// holdEnded handles the end of the wait documents: <Leave>, <Hangup>, the
// call's end, a live redirect or a failure.
func (v *workflowEnqueueVerb) holdEnded(s *session, err error) (next, error) {
	switch {
	case errors.Is(err, errLeave):
		v.task.Cancel("caller left the queue")
		return v.done(s, "leave")
	case errors.Is(err, errHangup):
		if !s.over() {
			s.hangup() // <Hangup> in the wait document
		}
		v.task.Cancel("caller hung up")
		v.notify(s, "hangup")
		return next{}, errHangup
	case errors.Is(err, errInterrupted), err == nil && s.ctx.Err() != nil:
		return v.left(s), s.stopped()
	}
	v.log.Error("ivr: wait document failed", "error_code", errorCode(err), "error", err)
	v.task.Cancel("wait document failed")
	return v.done(s, "error")
}

// deliver carries out an accepted reservation: redirect runs a document
// on the call; dequeue (and call) ring the worker's contact and bridge
// it. A nil end means the delivery failed and the task is back in line.
func (v *workflowEnqueueVerb) deliver(s *session, a taskrouter.Assignment) *verbEnd {
	log := v.log.With("worker_sid", a.WorkerSID, "reservation_sid", a.ReservationSID)
	if a.Instruction == "redirect" && a.URL != "" {
		log.Info("ivr: task redirects the call", "url", a.URL)
		v.task.Wrap("call redirected by the assignment")
		if v.queueSID != "" { // a named queue's caller dequeued by REST: as <Enqueue> tells it
			v.notify(s, "redirected")
		}
		target, err := s.resolve(a.URL)
		if err != nil {
			return ending(next{}, err)
		}
		return ending(next{req: &webhook.Request{URL: target, Method: http.MethodPost, Params: s.params(nil)}}, nil)
	}
	if a.To == "" || s.cfg.Dialer == nil {
		log.Warn("ivr: the worker has no contact_uri to ring (or no dialer)")
		_ = v.task.Requeue("no contact URI")
		return nil
	}
	ring := defaultAgentRing
	if a.Timeout > 0 {
		ring = time.Duration(a.Timeout) * time.Second
	}
	from := a.From
	if from == "" {
		from = s.info.From
	}
	if a.AnnounceURL != "" && v.queueSID != "" {
		v.announce(s, a)
	}
	stopMusic := v.playWhileRinging(s)
	childSID := sid.New(sid.Call)
	child, err := s.cfg.Dialer.Dial(s.ctx, DialRequest{CallSID: childSID, ParentSID: s.info.SID, To: a.To, From: from, Timeout: ring,
		Headers: map[string]string{TaskHeader: v.task.SID}})
	stopMusic()
	if err != nil {
		if s.ctx.Err() != nil {
			return ending(v.left(s), s.stopped())
		}
		log.Info("ivr: the worker's phone did not answer; task back in line", "to", a.To, "status", dialStatus(err))
		_ = v.task.Requeue("worker did not answer: " + dialStatus(err))
		return nil
	}
	log.Info("ivr: caller bridged to the worker", "to", a.To, "waited", s.now().Sub(v.enqueued).Round(time.Second).String())
	if rooms, mgr, ok := agentRoomServices(s); ok { // the agent desktop's conference (agentroom.go)
		return v.runAgentRoom(s, rooms, mgr, child, childSID, a)
	}
	res, berr := media.Bridge(s.ctx, s.leg(), child.Leg(), nil)
	if berr != nil {
		log.Warn("ivr: worker bridge error", "error", berr)
	}
	hangupLeg(s, child)
	v.task.Wrap("call ended")
	log.Info("ivr: worker bridge ended", "ended_by", res.Ended, "duration", res.Duration.Round(time.Second).String())
	return ending(v.done(s, "bridged"))
}

// announce runs a <Dial><Queue url> document of another node on the
// caller taken from a named queue, before the bridge (as <Enqueue> does).
func (v *workflowEnqueueVerb) announce(s *session, a taskrouter.Assignment) {
	target, err := s.resolve(a.AnnounceURL)
	if err != nil {
		v.log.Warn("ivr: <Queue url> document; bridging anyway", "error", err)
		return
	}
	method := a.AnnounceMethod
	if method == "" {
		method = http.MethodPost
	}
	w := s.nested(s.info, s.call, twiml.QueueURL, s.ctx)
	req := webhook.Request{URL: target, Method: method, Params: w.params(nil)}
	req.Params.Set("QueueSid", v.queueSID)
	req.Params.Set("QueueTime", strconv.Itoa(int(s.now().Sub(v.enqueued)/time.Second)))
	req.Params.Set("DequeingCallSid", a.DequeuerSID)
	if _, err := w.runNested(req); err != nil && !errors.Is(err, errHangup) && !errors.Is(err, errInterrupted) {
		v.log.Warn("ivr: <Queue url> document failed; bridging anyway", "error_code", errorCode(err), "error", err)
	}
}

// playWhileRinging keeps the hold music going while the worker's phone
// rings; the returned function stops it.
func (v *workflowEnqueueVerb) playWhileRinging(s *session) func() {
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.leg().Play(ctx, audio.NewPCMSource(holdMusic(), 0))
	}()
	return func() { cancel(); <-done }
}

// hold plays the wait experience (waitUrl documents in a loop, silence, or
// the built-in hold music) until ctx ends, as <Enqueue> does.
func (v *workflowEnqueueVerb) hold(s *session, ctx context.Context) error {
	if !v.v.HasWaitURL {
		return holdErr(s, ctx, s.leg().Play(ctx, audio.NewPCMSource(holdMusic(), 0)))
	}
	if v.v.WaitURL == "" {
		<-ctx.Done()
		return holdErr(s, ctx, ctx.Err())
	}
	target, err := s.resolve(v.v.WaitURL)
	if err != nil {
		return err
	}
	method := v.v.WaitURLMethod
	if method == "" {
		method = http.MethodPost
	}
	w := s.nested(s.info, s.call, twiml.EnqueueWait, ctx)
	cur := &webhook.Request{URL: target, Method: method}
	for ctx.Err() == nil {
		req := *cur
		req.Params = w.params(nil)
		req.Params.Set("QueueTime", strconv.Itoa(int(s.now().Sub(v.enqueued)/time.Second)))
		req.Params.Set("TaskSid", v.task.SID)
		if v.queueSID != "" {
			req.Params.Set("QueueSid", v.queueSID)
			req.Params.Set("MaxQueueSize", strconv.Itoa(v.maxSize))
			if st, err := v.queues.QueueStats(v.queueSID, v.task.SID); err == nil {
				req.Params.Set("QueuePosition", strconv.Itoa(st.Position))
				req.Params.Set("CurrentQueueSize", strconv.Itoa(st.Size))
				req.Params.Set("AvgQueueTime", strconv.Itoa(int(st.AvgWait/time.Second)))
			}
		}
		nxt, err := w.runNested(req)
		if err != nil {
			return holdErr(s, ctx, err)
		}
		cur = nxt.req
		if cur == nil {
			cur = &webhook.Request{URL: target, Method: method}
		}
	}
	return holdErr(s, ctx, ctx.Err())
}

// done requests the Enqueue action with QueueResult (and TaskSid), or goes
// on with the next verb when there is none.
func (v *workflowEnqueueVerb) done(s *session, result string) (next, error) {
	if v.v.Action == "" {
		if s.over() {
			return next{}, errHangup
		}
		return next{}, nil
	}
	extra := map[string]string{"QueueResult": result}
	if v.task != nil {
		extra["TaskSid"] = v.task.SID
		extra["QueueTime"] = strconv.Itoa(int(s.now().Sub(v.enqueued) / time.Second))
	}
	if v.queueSID != "" {
		extra["QueueSid"] = v.queueSID
	}
	return s.action(v.v.Action, v.v.Method, extra)
}

// notify requests the action informationally when the caller left by
// hanging up or being redirected.
func (v *workflowEnqueueVerb) notify(s *session, result string) {
	if v.v.Action == "" {
		return
	}
	p := map[string]string{"QueueResult": result, "TaskSid": v.task.SID,
		"QueueTime": strconv.Itoa(int(s.now().Sub(v.enqueued) / time.Second))}
	if v.queueSID != "" {
		p["QueueSid"] = v.queueSID
	}
	s.informAction(v.v.Action, v.v.Method, p)
}
