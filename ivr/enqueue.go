package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/twiml"
)

// Queues holds enqueued callers for <Enqueue> and <Dial><Queue>
// (queue.Manager implements it).
type Queues interface {
	// Enqueue puts a caller at its place in the named queue (created when
	// missing, with maxSize).
	Enqueue(name string, c queue.Caller, maxSize int) (*queue.Entry, error)
	// TakeFront dequeues the front caller of the named queue and bridges
	// it to leg; queue.ErrNoCaller when the queue is empty.
	TakeFront(name, dequeuerSID string, leg media.Leg) (queue.MemberInfo, error)
	// QueueBySID describes a queue.
	QueueBySID(sid string) (queue.QueueInfo, bool)
}

// errLeave ends a waitUrl document: the caller leaves the queue (<Leave>).
var errLeave = errors.New("ivr: leave queue")

func init() { registerVerb(func(v *twiml.Enqueue) verb { return &enqueueVerb{v: v} }) }

// enqueueVerb runs <Enqueue> (twiml-voice.md §2.7): the caller waits,
// hearing the waitUrl's TwiML (or the built-in hold music) in a loop,
// until an agent or a <Dial><Queue> takes the call, REST moves it, or it
// leaves.
type enqueueVerb struct {
	v        *twiml.Enqueue
	entry    *queue.Entry
	enqueued time.Time
	log      *slog.Logger
}

func (v *enqueueVerb) run(s *session) (next, error) {
	name := v.v.QueueName
	if name == "" {
		name = "default"
	}
	if qt, ok := service[QueueTasks](s); ok {
		return v.asTask(s, qt, name)
	}
	if s.cfg.Queues == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Enqueue>: this gateway has no queues configured")}
	}
	entry, err := s.cfg.Queues.Enqueue(name, v.caller(s), v.v.MaxQueueSize)
	if errors.Is(err, queue.ErrQueueFull) {
		s.log.Info("ivr: queue full", "queue", name)
		return v.done(s, "queue-full", 0)
	}
	if err != nil {
		s.log.Error("ivr: enqueue failed", "queue", name, "error", err)
		return v.done(s, "system-error", 0)
	}
	v.entry, v.enqueued = entry, s.now()
	v.log = s.log.With("queue", name, "queue_sid", entry.QueueSID())
	v.log.Info("ivr: caller enqueued", "position", entry.Info().Position)
	return v.wait(s)
}

// QueueTasks, when among Config.Services, carries the callers of named
// queues as TaskRouter tasks (a cluster of gateways: the queue's callers
// and agents may be on different nodes).
type QueueTasks interface {
	// QueueTask gives the workflow that routes a task with the attribute
	// {"queue": name} to the queue's agents, and the queue's SID and size.
	QueueTask(name string) (QueueTaskInfo, error)
	// QueueStats tells who waits in the queue now, and where taskSID is
	// among them (Position 0: not waiting).
	QueueStats(queueSID, taskSID string) (QueueStats, error)
}

// QueueTaskInfo is QueueTasks' answer for a named queue.
type QueueTaskInfo struct {
	WorkflowSID, QueueSID string
	MaxSize               int // 0: queue.DefaultMaxSize
}

// QueueStats are a named queue's waiting callers now.
type QueueStats struct {
	Size, Position int
	AvgWait        time.Duration
}

// asTask runs the <Enqueue> as <Enqueue workflowSid> with the attributes
// queue and queue_sid: the caller hears the same wait experience (the
// waitUrl gets QueueSid, QueuePosition, CurrentQueueSize, AvgQueueTime,
// MaxQueueSize), and the action gets QueueResult, QueueSid, QueueTime
// (and TaskSid).
func (v *enqueueVerb) asTask(s *session, qt QueueTasks, name string) (next, error) {
	info, err := qt.QueueTask(name)
	if err != nil {
		s.log.Error("ivr: enqueue failed", "queue", name, "error", err)
		return v.done(s, "system-error", 0)
	}
	limit := info.MaxSize
	if limit <= 0 {
		limit = queue.DefaultMaxSize
	}
	if v.v.MaxQueueSize > 0 {
		limit = v.v.MaxQueueSize
	}
	if st, err := qt.QueueStats(info.QueueSID, ""); err == nil && st.Size >= limit {
		s.log.Info("ivr: queue full", "queue", name, "size", st.Size, "limit", limit)
		return v.done(s, "queue-full", 0)
	}
	e := *v.v
	e.WorkflowSID = info.WorkflowSID
	attrs := map[string]any{}
	task := twiml.Task{}
	if t := v.v.Task; t != nil {
		task = *t
		if t.JSON != "" {
			if err := json.Unmarshal([]byte(t.JSON), &attrs); err != nil {
				s.log.Warn("ivr: <Task> is not a JSON object; attributes ignored", "error", err)
				attrs = map[string]any{}
			}
		}
	}
	attrs["queue"], attrs["queue_sid"] = name, info.QueueSID
	js, _ := json.Marshal(attrs)
	task.JSON = string(js)
	e.Task = &task
	s.log.Info("ivr: the named queue's caller becomes a TaskRouter task", "queue", name, "queue_sid", info.QueueSID)
	return (&workflowEnqueueVerb{v: &e, queueSID: info.QueueSID, queues: qt, maxSize: limit}).run(s)
}

// caller describes the caller to the queue, with its <Task>.
func (v *enqueueVerb) caller(s *session) queue.Caller {
	c := queue.Caller{CallSID: s.info.SID, From: s.info.From, To: s.info.To}
	if t := v.v.Task; t != nil {
		c.Priority = t.Priority
		c.Timeout = time.Duration(t.Timeout) * time.Second
		if t.JSON != "" {
			if err := json.Unmarshal([]byte(t.JSON), &c.Attributes); err != nil {
				s.log.Warn("ivr: <Task> is not a JSON object; attributes ignored", "error", err)
			}
		}
	}
	return c
}

// wait plays the hold experience until the call leaves the queue.
func (v *enqueueVerb) wait(s *session) (next, error) {
	holdCtx, stopHold := context.WithCancel(s.ctx)
	holdDone := make(chan error, 1)
	go func() { holdDone <- v.hold(s, holdCtx) }()
	stop := func() {
		stopHold()
		if holdDone != nil {
			<-holdDone
			holdDone = nil
		}
	}
	defer stop()
	select {
	case out := <-v.entry.Outcome():
		stop()
		return v.taken(s, out)
	case err := <-holdDone:
		holdDone = nil
		v.entry.Leave()
		return v.holdEnded(s, err)
	case <-s.ctx.Done():
		v.entry.Leave()
		if s.over() {
			v.notify(s, "hangup")
			return next{}, errHangup
		}
		v.notify(s, "redirected")
		return next{}, errInterrupted
	}
}

// taken handles the queue's outcome for the caller: bridged, dequeued by
// REST to another document, or the <Task> timeout.
func (v *enqueueVerb) taken(s *session, out queue.Outcome) (next, error) {
	switch out.Kind {
	case queue.Bridged:
		return v.bridge(s, out)
	case queue.Dequeued:
		v.log.Info("ivr: dequeued by REST", "url", out.URL)
		v.notify(s, "redirected")
		method := out.Method
		if method == "" {
			method = http.MethodPost
		}
		return next{req: &webhook.Request{URL: out.URL, Method: method, Params: s.params(nil)}}, nil
	}
	v.log.Info("ivr: queue wait timed out")
	return v.done(s, "leave", s.now().Sub(v.enqueued))
}

// holdEnded handles the end of the wait documents: <Leave>, <Hangup>, the
// call's end, a live redirect or a failure.
func (v *enqueueVerb) holdEnded(s *session, err error) (next, error) {
	waited := s.now().Sub(v.enqueued)
	switch {
	case errors.Is(err, errLeave):
		v.log.Info("ivr: caller left the queue")
		return v.done(s, "leave", waited)
	case errors.Is(err, errHangup):
		if !s.over() {
			s.hangup() // <Hangup> in the wait document
		}
		v.notify(s, "hangup")
		return next{}, errHangup
	case errors.Is(err, errInterrupted):
		v.notify(s, "redirected")
		return next{}, errInterrupted
	}
	v.log.Error("ivr: wait document failed", "error_code", errorCode(err), "error", err)
	return v.done(s, "error", waited)
}

// bridge connects the caller to whoever took it from the queue, then
// reports QueueResult=bridged once the bridge ends.
func (v *enqueueVerb) bridge(s *session, out queue.Outcome) (next, error) {
	waited := s.now().Sub(v.enqueued)
	s.log.Info("ivr: caller bridged from queue", "agent", out.AgentID, "dequeuer_sid", out.DequeuerSID, "waited", waited.Round(time.Second).String())
	if ann, ok := out.Leg.(interface{ Announcement() (string, string) }); ok {
		if url, method := ann.Announcement(); url != "" {
			v.announce(s, url, method, out.DequeuerSID)
		}
	}
	if rooms, mgr, ok := agentRoomServices(s); ok { // a room, as the desktop's calls are (agentroom_queue.go)
		switch {
		case out.AgentID != "": // a browser agent
			return v.agentRoom(s, rooms, mgr, out, waited)
		case out.DequeuerSID != "": // a <Dial><Queue> call
			return v.dequeuerRoom(s, rooms, mgr, out, waited)
		}
	}
	res, err := media.Bridge(s.ctx, s.leg(), out.Leg, nil)
	if err != nil {
		s.log.Warn("ivr: queue bridge error", "error", err)
	}
	if rel, ok := out.Leg.(interface{ Release() }); ok {
		rel.Release()
	}
	v.entry.Finished()
	s.log.Info("ivr: queue bridge ended", "ended_by", res.Ended, "duration", res.Duration.Round(time.Second).String())
	return v.done(s, "bridged", waited)
}

// announce runs a <Dial><Queue url> document on the dequeued caller before
// the bridge (Play, Say, Pause, Redirect only).
func (v *enqueueVerb) announce(s *session, url, method, dequeuer string) {
	w := s.nested(s.info, s.call, twiml.QueueURL, s.ctx)
	req := webhook.Request{URL: url, Method: method, Params: w.params(nil)}
	req.Params.Set("QueueSid", v.entry.QueueSID())
	req.Params.Set("QueueTime", strconv.Itoa(int(s.now().Sub(v.enqueued)/time.Second)))
	req.Params.Set("DequeingCallSid", dequeuer)
	if _, err := w.runNested(req); err != nil && !errors.Is(err, errHangup) && !errors.Is(err, errInterrupted) {
		s.log.Warn("ivr: <Queue url> document failed; bridging anyway", "error_code", errorCode(err), "error", err)
	}
}

// hold plays the wait experience until ctx ends: the waitUrl document
// requested again each time it ends (twiml-voice.md §2.7), silence for
// waitUrl="", or the built-in hold music. It returns errLeave for
// <Leave>, errHangup for <Hangup>.
func (v *enqueueVerb) hold(s *session, ctx context.Context) error {
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
	started := s.now()
	cur := &webhook.Request{URL: target, Method: method}
	for ctx.Err() == nil {
		req := *cur
		req.Params = w.params(nil)
		for k, val := range v.queueParams(s, started) {
			req.Params.Set(k, val)
		}
		nxt, err := w.runNested(req)
		if err != nil {
			return holdErr(s, ctx, err)
		}
		cur = nxt.req // a Redirect (or Gather action) moves the wait document
		if cur == nil {
			cur = &webhook.Request{URL: target, Method: method} // ended: request waitUrl again
		}
	}
	return holdErr(s, ctx, ctx.Err())
}

// holdErr maps how the hold loop stopped.
func holdErr(s *session, ctx context.Context, err error) error {
	switch {
	case errors.Is(err, errLeave):
		return errLeave
	case s.over():
		return errHangup
	case s.ctx.Err() != nil:
		return errInterrupted
	case ctx.Err() != nil:
		return nil // stopped because the caller was taken
	}
	return err
}

// queueParams are the waitUrl parameters of twiml-voice.md §2.7.
func (v *enqueueVerb) queueParams(s *session, since time.Time) map[string]string {
	info := v.entry.Info()
	p := map[string]string{
		"QueuePosition": strconv.Itoa(info.Position),
		"QueueSid":      v.entry.QueueSID(),
		"QueueTime":     strconv.Itoa(int(s.now().Sub(since) / time.Second)),
	}
	if q, ok := s.cfg.Queues.QueueBySID(v.entry.QueueSID()); ok {
		p["AvgQueueTime"] = strconv.Itoa(int(q.AverageWait / time.Second))
		p["CurrentQueueSize"] = strconv.Itoa(q.Size)
		p["MaxQueueSize"] = strconv.Itoa(q.MaxSize)
	}
	return p
}

// done requests the Enqueue action with QueueResult, or goes on with the
// next verb when there is none.
func (v *enqueueVerb) done(s *session, result string, waited time.Duration) (next, error) {
	if v.v.Action == "" {
		if s.over() {
			return next{}, errHangup
		}
		return next{}, nil
	}
	extra := map[string]string{"QueueResult": result}
	if v.entry != nil {
		extra["QueueSid"] = v.entry.QueueSID()
		extra["QueueTime"] = strconv.Itoa(int(waited / time.Second))
	}
	return s.action(v.v.Action, v.v.Method, extra)
}

// notify requests the action informationally (its TwiML ignored) when the
// call left the queue by hanging up or being redirected.
func (v *enqueueVerb) notify(s *session, result string) {
	if v.v.Action == "" {
		return
	}
	s.informAction(v.v.Action, v.v.Method, map[string]string{
		"QueueResult": result, "QueueSid": v.entry.QueueSID(),
		"QueueTime": strconv.Itoa(int(s.now().Sub(v.enqueued) / time.Second)),
	})
}
