package conference

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// notifyQueue is how many events a room's callbacks may lag behind; more
// are dropped (and logged).
const notifyQueue = 256

// notifier delivers a room's status callbacks in order, on a goroutine of
// its own that ends once the room has ended and the queue is drained.
type notifier struct {
	r   *Room
	q   chan callbackReq
	seq int
}

// callbackReq is one status callback, a room state to save (info set),
// or another job (run set).
type callbackReq struct {
	url, method string
	params      url.Values
	info        *Info
	run         func(context.Context)
}

func newNotifier(r *Room) *notifier {
	n := &notifier{r: r, q: make(chan callbackReq, notifyQueue)}
	r.m.wg.Go(func() {
		for req := range n.q {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			switch {
			case req.run != nil:
				req.run(ctx)
			case req.info != nil:
				r.m.opts.Saved(ctx, *req.info)
			case r.m.opts.Notify != nil:
				r.m.opts.Notify(ctx, req.url, req.method, req.params)
			}
			cancel()
		}
	})
	return n
}

// save queues info for Options.Saved (owner only).
func (n *notifier) save(info Info) {
	if n.r.m.opts.Saved == nil {
		return
	}
	select {
	case n.q <- callbackReq{info: &info}:
	default:
		n.r.log.Warn("conference: saving the room's state dropped: the queue is full", "status", info.Status)
	}
}

// close ends the notifier once its queue is drained (owner only).
func (n *notifier) close() { close(n.q) }

// eventShort maps StatusCallbackEvent values to the statusCallbackEvent
// names that subscribe to them.
func eventShort(kind string) string {
	switch {
	case strings.HasPrefix(kind, "conference-"):
		return strings.TrimPrefix(kind, "conference-")
	case strings.HasPrefix(kind, "participant-speech-"):
		return "speaker"
	case strings.HasPrefix(kind, "participant-un"):
		return strings.TrimPrefix(kind, "participant-un")
	case strings.HasPrefix(kind, "participant-"):
		return strings.TrimPrefix(kind, "participant-")
	case strings.HasPrefix(kind, "announcement-"):
		return "announcement"
	}
	return kind
}

// event queues the status callback for kind (owner only), when the room's
// callback subscribes to it. p is the participant it is about (nil for the
// room's own events).
func (r *Room) event(kind string, p *Participant) {
	cb := r.callback
	if cb.URL == "" || !slices.Contains(cb.Events, eventShort(kind)) {
		return
	}
	r.notify.seq++
	v := url.Values{}
	v.Set("AccountSid", r.account)
	v.Set("ConferenceSid", r.sid)
	v.Set("FriendlyName", r.name)
	v.Set("StatusCallbackEvent", kind)
	v.Set("SequenceNumber", strconv.Itoa(r.notify.seq))
	v.Set("Timestamp", time.Now().UTC().Format(time.RFC1123Z))
	if p != nil {
		v.Set("CallSid", p.callSID)
		v.Set("Muted", strconv.FormatBool(p.muted))
		v.Set("Hold", strconv.FormatBool(p.hold))
		v.Set("Coaching", strconv.FormatBool(p.coaching))
		v.Set("EndConferenceOnExit", strconv.FormatBool(p.opts.EndConferenceOnExit))
		v.Set("StartConferenceOnEnter", strconv.FormatBool(p.opts.StartConferenceOnEnter))
		if p.label != "" {
			v.Set("ParticipantLabel", p.label)
		}
		if p.coaching {
			v.Set("CallSidToCoach", p.coachSID)
		}
	}
	if kind == "conference-end" {
		v.Set("ReasonConferenceEnded", r.reasonCode())
		v.Set("Reason", r.reason)
		if r.endingSID != "" {
			v.Set("CallSidEndingConference", r.endingSID)
		}
	}
	r.notify.enqueue(callbackReq{url: cb.URL, method: cb.Method, params: v})
}

// enqueue queues req (owner only), dropping it when the queue is full.
func (n *notifier) enqueue(req callbackReq) {
	select {
	case n.q <- req:
	default:
		n.r.log.Warn("conference: callback dropped: the queue is full", "url", req.url)
	}
}

// must queues req (owner only), waiting for room in the queue: a
// recording's record must not be lost.
func (n *notifier) must(req callbackReq) { n.q <- req }

// reasonCode is Twilio's ReasonConferenceEnded for the room's end.
func (r *Room) reasonCode() string { return ReasonCode(r.reason) }

// ReasonCode is Twilio's ReasonConferenceEnded (the API's
// reason_conference_ended) for a room's Info.ReasonEnded; "" for "".
func ReasonCode(reason string) string {
	switch {
	case reason == "":
		return ""
	case strings.HasPrefix(reason, "Participant with End"):
		return "participant-with-end-conference-on-exit-left"
	case strings.HasPrefix(reason, "Last participant"):
		return "last-participant-left"
	case strings.HasPrefix(reason, "Conference ended via API"):
		return "conference-ended-via-api"
	}
	return "last-participant-kicked"
}
