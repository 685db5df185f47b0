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
func (r *Router) emit(ws *workspace, typ, resourceType, resourceSID, desc string, data map[string]any) {
	ev := Event{
		SID: newSID(PrefixEvent), WorkspaceSID: ws.SID, EventType: typ, ResourceType: resourceType,
		ResourceSID: resourceSID, Description: desc, Data: data, Date: r.now(), Source: "twilio",
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
	for k, v := range ev.Data {
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

// taskData is a task's fields as events carry them.
func (r *Router) taskData(ws *workspace, t *task) map[string]any {
	d := map[string]any{
		"task_sid": t.SID, "task_attributes": t.Attributes, "task_assignment_status": t.AssignmentStatus,
		"task_priority": t.prio, "task_age": int(r.now().Sub(t.Created).Seconds()), "task_channel_sid": t.TaskChannelSID,
		"task_channel_unique_name": t.TaskChannelUniqueName, "task_queue_sid": t.TaskQueueSID,
		"task_date_created": t.Created.Unix(), "workflow_sid": t.WorkflowSID, "task_timeout": t.Timeout,
	}
	if t.queue != nil {
		d["task_queue_name"] = t.queue.FriendlyName
	}
	if wf := ws.workflows[t.WorkflowSID]; wf != nil {
		d["workflow_name"] = wf.FriendlyName
	}
	if t.Reason != "" {
		d["task_canceled_reason"] = t.Reason
	}
	return d
}

// workerData is a worker's fields as events carry them.
func (r *Router) workerData(ws *workspace, w *worker) map[string]any {
	d := map[string]any{
		"worker_sid": w.SID, "worker_name": w.FriendlyName, "worker_attributes": w.Attributes,
		"worker_activity_sid": w.ActivitySID,
	}
	if a := ws.activities[w.ActivitySID]; a != nil {
		d["worker_activity_name"] = a.FriendlyName
	}
	return d
}

// resData is a reservation's, its task's and its worker's fields.
func (r *Router) resData(ws *workspace, res *reservation) map[string]any {
	d := r.taskData(ws, res.task)
	for k, v := range r.workerData(ws, res.worker) {
		d[k] = v
	}
	d["reservation_sid"] = res.SID
	d["reservation_status"] = res.Status
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
