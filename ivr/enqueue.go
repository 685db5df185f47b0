package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/twiml"
)

// errLeave ends a waitUrl document: the caller leaves the queue (<Leave>).
var errLeave = errors.New("ivr: leave queue")

// enqueue runs <Enqueue> (twiml-voice.md §2.7): the caller waits, hearing
// the waitUrl's TwiML (or the built-in hold music) in a loop, until an
// agent or a <Dial><Queue> takes the call, REST moves it, or it leaves.
func (s *session) enqueue(v *twiml.Enqueue) (next, error) {
	if s.e.cfg.Queues == nil {
		return next{}, &verbError{code: 12400, err: errors.New("<Enqueue>: this gateway has no queues configured")}
	}
	name := v.QueueName
	if name == "" {
		name = "default"
	}
	caller := queue.Caller{CallSID: s.info.SID, From: s.info.From, To: s.info.To}
	if v.Task != nil {
		caller.Priority = v.Task.Priority
		caller.Timeout = time.Duration(v.Task.Timeout) * time.Second
		if v.Task.JSON != "" {
			if err := json.Unmarshal([]byte(v.Task.JSON), &caller.Attributes); err != nil {
				s.log.Warn("ivr: <Task> is not a JSON object; attributes ignored", "error", err)
			}
		}
	}
	entry, err := s.e.cfg.Queues.Enqueue(name, caller, v.MaxQueueSize)
	if errors.Is(err, queue.ErrQueueFull) {
		s.log.Info("ivr: queue full", "queue", name)
		return s.enqueueDone(v, "queue-full", nil, 0)
	}
	if err != nil {
		s.log.Error("ivr: enqueue failed", "queue", name, "error", err)
		return s.enqueueDone(v, "system-error", nil, 0)
	}
	log := s.log.With("queue", name, "queue_sid", entry.QueueSID())
	log.Info("ivr: caller enqueued", "position", entry.Info().Position)
	enqueued := s.e.cfg.Clock.Now()

	waitCtx, stopWait := context.WithCancel(s.ctx)
	waitDone := make(chan error, 1)
	go func() { waitDone <- s.holdLoop(waitCtx, v, entry) }()
	stop := func() {
		stopWait()
		if waitDone != nil {
			<-waitDone
			waitDone = nil
		}
	}
	defer stop()

	select {
	case out := <-entry.Outcome():
		stop()
		switch out.Kind {
		case queue.Bridged:
			return s.queueBridge(v, entry, out, enqueued)
		case queue.Dequeued:
			log.Info("ivr: dequeued by REST", "url", out.URL)
			s.enqueueNotify(v, "redirected", entry, enqueued)
			method := out.Method
			if method == "" {
				method = http.MethodPost
			}
			return next{req: &webhook.Request{URL: out.URL, Method: method, Params: s.params(nil)}}, nil
		default: // the <Task> timeout passed
			log.Info("ivr: queue wait timed out")
			return s.enqueueDone(v, "leave", entry, s.e.cfg.Clock.Now().Sub(enqueued))
		}
	case err := <-waitDone:
		waitDone = nil
		entry.Leave()
		waited := s.e.cfg.Clock.Now().Sub(enqueued)
		switch {
		case errors.Is(err, errLeave):
			log.Info("ivr: caller left the queue")
			return s.enqueueDone(v, "leave", entry, waited)
		case errors.Is(err, errHangup) && !s.over():
			// <Hangup> in the wait document.
			s.hangup()
			s.enqueueNotify(v, "hangup", entry, enqueued)
			return next{}, errHangup
		case errors.Is(err, errHangup):
			s.enqueueNotify(v, "hangup", entry, enqueued)
			return next{}, errHangup
		case errors.Is(err, errInterrupted):
			s.enqueueNotify(v, "redirected", entry, enqueued)
			return next{}, errInterrupted
		default:
			log.Error("ivr: wait document failed", "error_code", errorCode(err), "error", err)
			return s.enqueueDone(v, "error", entry, waited)
		}
	case <-s.ctx.Done():
		entry.Leave()
		if s.over() {
			s.enqueueNotify(v, "hangup", entry, enqueued)
			return next{}, errHangup
		}
		s.enqueueNotify(v, "redirected", entry, enqueued)
		return next{}, errInterrupted
	}
}

// queueBridge connects the caller to whoever took it from the queue, then
// reports QueueResult=bridged once the bridge ends.
func (s *session) queueBridge(v *twiml.Enqueue, entry *queue.Entry, out queue.Outcome, enqueued time.Time) (next, error) {
	waited := s.e.cfg.Clock.Now().Sub(enqueued)
	s.log.Info("ivr: caller bridged from queue", "agent", out.AgentID, "dequeuer_sid", out.DequeuerSID, "waited", waited.Round(time.Second).String())
	if ann, ok := out.Leg.(interface{ Announcement() (string, string) }); ok {
		if url, method := ann.Announcement(); url != "" {
			s.announce(url, method, entry, out.DequeuerSID, enqueued)
		}
	}
	res, err := media.Bridge(s.ctx, s.call.Leg(), out.Leg, nil)
	if err != nil {
		s.log.Warn("ivr: queue bridge error", "error", err)
	}
	if rel, ok := out.Leg.(interface{ Release() }); ok {
		rel.Release()
	}
	entry.Finished()
	s.log.Info("ivr: queue bridge ended", "ended_by", res.Ended, "duration", res.Duration.Round(time.Second).String())
	return s.enqueueDone(v, "bridged", entry, waited)
}

// announce runs a <Dial><Queue url> document on the dequeued caller before
// the bridge (Play, Say, Pause, Redirect only).
func (s *session) announce(url, method string, entry *queue.Entry, dequeuer string, enqueued time.Time) {
	w := s.e.newSession(s.info, s.call, App{})
	w.whisperMode, w.callCtx, w.answered = true, s.callCtx, true
	w.beginDocument()
	extra := map[string]string{
		"QueueSid": entry.QueueSID(), "QueueTime": strconv.Itoa(int(s.e.cfg.Clock.Now().Sub(enqueued) / time.Second)),
		"DequeingCallSid": dequeuer,
	}
	req := webhook.Request{URL: url, Method: method, Params: w.params(nil)}
	for k, val := range extra {
		req.Params.Set(k, val)
	}
	doc, err := w.fetch(req)
	if err == nil {
		err = doc.Allowed(twiml.QueueURL)
	}
	if err != nil {
		s.log.Warn("ivr: <Queue url> document failed; bridging anyway", "error_code", errorCode(err), "error", err)
		return
	}
	_, _ = w.execute(doc)
}

// holdLoop plays the wait experience until ctx ends: the waitUrl document
// requested again each time it ends (twiml-voice.md §2.7), silence for
// waitUrl="", or the built-in hold music. It returns errLeave for <Leave>,
// errHangup for <Hangup>.
func (s *session) holdLoop(ctx context.Context, v *twiml.Enqueue, entry *queue.Entry) error {
	if !v.HasWaitURL {
		err := s.call.Leg().Play(ctx, audio.NewPCMSource(holdMusic(), 0))
		return s.holdErr(ctx, err)
	}
	if v.WaitURL == "" {
		<-ctx.Done()
		return s.holdErr(ctx, ctx.Err())
	}
	target, err := s.resolve(v.WaitURL)
	if err != nil {
		return err
	}
	method := v.WaitURLMethod
	if method == "" {
		method = http.MethodPost
	}
	w := s.e.newSession(s.info, s.call, App{})
	w.whisperMode, w.queueEntry, w.answered, w.status = true, entry, true, "in-progress"
	w.callCtx, w.ctx = s.callCtx, ctx
	w.docURL = s.docURL
	enqueued := s.e.cfg.Clock.Now()
	cur := &webhook.Request{URL: target, Method: method}
	for ctx.Err() == nil {
		req := *cur
		req.Params = w.params(nil)
		for k, val := range s.queueParams(entry, enqueued) {
			req.Params.Set(k, val)
		}
		doc, err := w.fetch(req)
		if err != nil {
			if ctx.Err() != nil {
				return s.holdErr(ctx, ctx.Err())
			}
			return err
		}
		if err := doc.Allowed(twiml.EnqueueWait); err != nil {
			return err
		}
		nxt, err := w.execute(doc)
		if err != nil {
			return s.holdErr(ctx, err)
		}
		if nxt.req != nil {
			cur = nxt.req // a Redirect (or Gather action) moves the wait document
			continue
		}
		cur = &webhook.Request{URL: target, Method: method} // ended: request waitUrl again
	}
	return s.holdErr(ctx, ctx.Err())
}

// holdErr maps how the hold loop stopped.
func (s *session) holdErr(ctx context.Context, err error) error {
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
func (s *session) queueParams(entry *queue.Entry, enqueued time.Time) map[string]string {
	info := entry.Info()
	p := map[string]string{
		"QueuePosition": strconv.Itoa(info.Position),
		"QueueSid":      entry.QueueSID(),
		"QueueTime":     strconv.Itoa(int(s.e.cfg.Clock.Now().Sub(enqueued) / time.Second)),
	}
	if q, ok := s.e.cfg.Queues.QueueBySID(entry.QueueSID()); ok {
		p["AvgQueueTime"] = strconv.Itoa(int(q.AverageWait / time.Second))
		p["CurrentQueueSize"] = strconv.Itoa(q.Size)
		p["MaxQueueSize"] = strconv.Itoa(q.MaxSize)
	}
	return p
}

// enqueueDone requests the Enqueue action with QueueResult, or goes on
// with the next verb when there is none.
func (s *session) enqueueDone(v *twiml.Enqueue, result string, entry *queue.Entry, waited time.Duration) (next, error) {
	if v.Action == "" {
		if s.over() {
			return next{}, errHangup
		}
		return next{}, nil
	}
	extra := map[string]string{"QueueResult": result}
	if entry != nil {
		extra["QueueSid"] = entry.QueueSID()
		extra["QueueTime"] = strconv.Itoa(int(waited / time.Second))
	}
	if s.over() {
		s.status = "completed"
		if req, err := s.actionRequest(v.Action, v.Method, extra); err == nil {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), s.e.cfg.WebhookTimeout)
			defer cancel()
			_, _ = s.web.Fetch(ctx, *req)
		}
		return next{}, errHangup
	}
	req, err := s.actionRequest(v.Action, v.Method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// enqueueNotify requests the action informationally (its TwiML ignored)
// when the call left the queue by hanging up or being redirected.
func (s *session) enqueueNotify(v *twiml.Enqueue, result string, entry *queue.Entry, enqueued time.Time) {
	if v.Action == "" {
		return
	}
	if s.over() {
		s.status = "completed"
	}
	req, err := s.actionRequest(v.Action, v.Method, map[string]string{
		"QueueResult": result, "QueueSid": entry.QueueSID(),
		"QueueTime": strconv.Itoa(int(s.e.cfg.Clock.Now().Sub(enqueued) / time.Second)),
	})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.callCtx), s.e.cfg.WebhookTimeout)
	defer cancel()
	_, _ = s.web.Fetch(ctx, *req)
}
