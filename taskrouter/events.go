package taskrouter

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
)

// emit records an event and queues its callback. r.mu held.
func (r *Router) emit(ws *workspace, typ, resourceType, resourceSID, desc string, data *eventData) {
	ev := Event{
		SID: newSID(PrefixEvent), WorkspaceSID: ws.SID, EventType: typ, ResourceType: resourceType,
		ResourceSID: resourceSID, Description: desc, data: data, Date: r.now(), Source: "twilio",
	}
	ev.ActorType, ev.ActorSID = "workspace", ws.SID
	if len(ws.events) >= 2*r.opts.EventsKept { // drop the oldest half at once: amortized O(1)
		n := copy(ws.events, ws.events[len(ws.events)-r.opts.EventsKept:])
		clear(ws.events[n:])
		ws.events = ws.events[:n]
	}
	ws.events = append(ws.events, ev)
	if ws.EventCallbackURL != "" && wantsEvent(ws.EventsFilter, typ) {
		r.callbacks.post(ws.EventCallbackURL, r.callbackForm(ws, ev))
	}
}

// wantsEvent applies a workspace's events_filter (comma-separated types;
// empty: all).
func wantsEvent(filter, typ string) bool {
	if strings.TrimSpace(filter) == "" {
		return true
	}
	for f := range strings.SplitSeq(filter, ",") {
		if strings.TrimSpace(f) == typ {
			return true
		}
	}
	return false
}

// callbackForm is Twilio's event callback body: the event's fields and
// its data in PascalCase (task_queue_sid → TaskQueueSid).
func (r *Router) callbackForm(ws *workspace, ev Event) url.Values {
	f := url.Values{}
	f.Set("Sid", ev.SID)
	f.Set("AccountSid", r.opts.AccountSID)
	f.Set("WorkspaceSid", ws.SID)
	f.Set("WorkspaceName", ws.FriendlyName)
	f.Set("EventType", ev.EventType)
	f.Set("ResourceType", ev.ResourceType)
	f.Set("ResourceSid", ev.ResourceSID)
	f.Set("EventDescription", ev.Description)
	f.Set("Timestamp", fmt.Sprint(ev.Date.Unix()))
	f.Set("TimestampMs", fmt.Sprint(ev.Date.UnixMilli()))
	for k, v := range ev.data.fields() {
		f.Set(pascal(k), fmt.Sprint(v))
	}
	return f
}

func pascal(snake string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(snake, "_") {
		if part == "" {
			continue
		}
		rs := []rune(part)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	return b.String()
}

// eventData is what an event carries, kept as plain fields (cheap to
// record on every change) and turned into Twilio's event_data map only
// when read or posted.
type eventData struct {
	hasTask, hasWorker bool
	task               taskSnap
	worker             workerSnap
	resSID, resStatus  string
	filter             string // workflow.target-matched: the filter's name
}

type taskSnap struct {
	sid, attrs, status, channelSID, channelName, queueSID, queueName, workflowSID, workflowName, reason string
	prio, age, timeout                                                                                  int
	created                                                                                             int64
}

type workerSnap struct{ sid, name, attrs, activitySID, activityName string }

// fields is the event_data map (snake_case keys).
func (d *eventData) fields() map[string]any {
	m := map[string]any{}
	if d == nil {
		return m
	}
	if t := d.task; d.hasTask {
		m["task_sid"], m["task_attributes"], m["task_assignment_status"] = t.sid, t.attrs, t.status
		m["task_priority"], m["task_age"], m["task_timeout"], m["task_date_created"] = t.prio, t.age, t.timeout, t.created
		m["task_channel_sid"], m["task_channel_unique_name"], m["task_queue_sid"] = t.channelSID, t.channelName, t.queueSID
		m["workflow_sid"] = t.workflowSID
		for k, v := range map[string]string{"task_queue_name": t.queueName, "workflow_name": t.workflowName, "task_canceled_reason": t.reason} {
			if v != "" {
				m[k] = v
			}
		}
	}
	if w := d.worker; d.hasWorker {
		m["worker_sid"], m["worker_name"], m["worker_attributes"], m["worker_activity_sid"] = w.sid, w.name, w.attrs, w.activitySID
		if w.activityName != "" {
			m["worker_activity_name"] = w.activityName
		}
	}
	if d.resSID != "" {
		m["reservation_sid"], m["reservation_status"] = d.resSID, d.resStatus
	}
	if d.filter != "" {
		m["filter_friendly_name"] = d.filter
	}
	return m
}

// get returns one of the SIDs events are filtered by.
func (d *eventData) get(key string) string {
	if d == nil {
		return ""
	}
	switch key {
	case "task_sid":
		return d.task.sid
	case "worker_sid":
		return d.worker.sid
	case "workflow_sid":
		return d.task.workflowSID
	case "task_queue_sid":
		return d.task.queueSID
	case "reservation_sid":
		return d.resSID
	case "task_channel_unique_name":
		return d.task.channelName
	case "task_channel_sid":
		return d.task.channelSID
	}
	return ""
}

// taskData is a task's fields as events carry them.
func (r *Router) taskData(ws *workspace, t *task) *eventData {
	d := &eventData{hasTask: true}
	d.task = taskSnap{sid: t.SID, attrs: t.Attributes, status: t.AssignmentStatus, channelSID: t.TaskChannelSID,
		channelName: t.TaskChannelUniqueName, queueSID: t.TaskQueueSID, workflowSID: t.WorkflowSID, reason: t.Reason,
		prio: t.prio, age: int(r.now().Sub(t.Created).Seconds()), timeout: t.Timeout, created: t.Created.Unix()}
	if t.queue != nil {
		d.task.queueName = t.queue.FriendlyName
	}
	if wf := ws.workflows[t.WorkflowSID]; wf != nil {
		d.task.workflowName = wf.FriendlyName
	}
	return d
}

func (r *Router) workerSnap(ws *workspace, w *worker) workerSnap {
	s := workerSnap{sid: w.SID, name: w.FriendlyName, attrs: w.Attributes, activitySID: w.ActivitySID}
	if a := ws.activities[w.ActivitySID]; a != nil {
		s.activityName = a.FriendlyName
	}
	return s
}

// workerData is a worker's fields as events carry them.
func (r *Router) workerData(ws *workspace, w *worker) *eventData {
	return &eventData{hasWorker: true, worker: r.workerSnap(ws, w)}
}

// resData is a reservation's, its task's and its worker's fields.
func (r *Router) resData(ws *workspace, res *reservation) *eventData {
	d := r.taskData(ws, res.task)
	d.hasWorker, d.worker = true, r.workerSnap(ws, res.worker)
	d.resSID, d.resStatus = res.SID, res.Status
	return d
}

// callbacker posts event callbacks in order from one goroutine; when its
// queue is full, callbacks are dropped (and logged) rather than blocking
// routing.
type callbacker struct {
	ch        chan callback
	client    *http.Client
	log       *slog.Logger
	authToken string // signs callbacks (X-Twilio-Signature); "" = unsigned
}

type callback struct {
	url  string
	form url.Values
}

// callbackQueue bounds undelivered event callbacks.
const callbackQueue = 10000

func newCallbacker(ctx context.Context, client *http.Client, log *slog.Logger, authToken string, wg *sync.WaitGroup) *callbacker {
	c := &callbacker{ch: make(chan callback, callbackQueue), client: client, log: log, authToken: authToken}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case cb := <-c.ch:
				c.deliver(ctx, cb)
			}
		}
	}()
	return c
}

func (c *callbacker) post(u string, form url.Values) {
	select {
	case c.ch <- callback{url: u, form: form}:
	default:
		c.log.Warn("taskrouter: event callback queue full, dropping", "event_type", form.Get("EventType"), "url", u)
	}
}

func (c *callbacker) deliver(ctx context.Context, cb callback) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.url, strings.NewReader(cb.form.Encode()))
	if err != nil {
		c.log.Warn("taskrouter: event callback", "url", cb.url, "error", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.authToken != "" {
		req.Header.Set("X-Twilio-Signature", signature(c.authToken, cb.url, cb.form))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.log.Warn("taskrouter: event callback", "url", cb.url, "event_type", cb.form.Get("EventType"), "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		c.log.Warn("taskrouter: event callback refused", "url", cb.url, "event_type", cb.form.Get("EventType"), "status", resp.StatusCode)
	}
}

// signature is Twilio's X-Twilio-Signature for a POST: HMAC-SHA1 of the
// URL followed by every parameter name and value in name order.
func signature(token, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(u)
	for _, k := range keys {
		vals := append([]string(nil), form[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
