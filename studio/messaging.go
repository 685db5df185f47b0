package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Studio messaging (messaging.md §7): executions started by an inbound
// message (trigger incomingMessage, trigger.message.*), send-message,
// send-and-wait-for-reply (parked until the contact replies, its timeout
// fires or its message fails), and send-to-flex for messages.

// OutgoingMessage is a message a send-message or send-and-wait-for-reply
// widget sends.
type OutgoingMessage struct {
	From, To string
	Body     string
	MediaURL []string
}

// MessageSender sends messages for widgets (the messaging engine
// implements it). It returns the widget's outbound.* outputs (Sid,
// Status, Body, From, To, Direction, NumSegments, ErrorCode,
// ErrorMessage, …); a refused message gives an error together with
// outputs holding ErrorCode and ErrorMessage.
type MessageSender interface {
	SendMessage(ctx context.Context, m OutgoingMessage) (map[string]any, error)
}

// ConversationHandoff hands a messaging conversation to a TaskRouter
// workflow (send-to-flex in a messaging execution) and returns the task's
// fields (sid, assignment_status, …); attributes hold the widget's
// (Liquid rendered) with channelType (the trigger's
// ChannelAttributes.channel_type: "sms", or "web" for a web chat), from
// (the contact) and to (our number; a web chat's conversation SID).
// Package smsdesk implements it; without one send-to-flex
// takes failedToEnqueue. The execution ends once the task exists.
type ConversationHandoff interface {
	CreateTask(ctx context.Context, workflowSid, channel string, attributes map[string]any, priority, timeout int) (map[string]any, error)
}

// defaultReplyTimeout is send-and-wait-for-reply's default timeout.
const defaultReplyTimeout = 3600 * time.Second

// HandleMessage gives an inbound message (its webhook parameters: From,
// To, Body, MessageSid, …) to a flow: the contact's execution parked on a
// send-and-wait-for-reply resumes with incomingMessage; with no active
// execution a new one starts at the trigger's incomingMessage; an active
// execution that is not waiting for a reply keeps the message from the
// flow (Studio's one-execution-per-contact rule), which is logged.
func (x *Executor) HandleMessage(ctx context.Context, flowSid string, params url.Values) error {
	from, to := params.Get("From"), params.Get("To")
	unlock, err := x.lockContact(ctx, flowSid, from)
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	defer unlock()
	log := x.log.With("flow_sid", flowSid, "message_sid", params.Get("MessageSid"))
	active, err := x.store.Executions(ctx, ExecutionFilter{FlowSid: flowSid, Status: StatusActive, ContactAddress: from})
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	if len(active) > 0 {
		ex, unlockEx, err := x.lockExecution(ctx, active[0].Sid)
		if err != nil {
			return fmt.Errorf("handle message: %w", err)
		}
		defer unlockEx()
		log = log.With("execution_sid", ex.Sid)
		if ex.Status != StatusActive || !ex.Runtime.AwaitReply {
			log.Info("studio: the contact has an active execution that is not waiting for a reply; the message is not given to the flow", "from", from)
			return nil
		}
		r, ok := x.runnerOrEnd(ctx, log, ex)
		if !ok {
			return nil
		}
		r.resumeMessaging("incomingMessage", map[string]any{"inbound": paramMap(params)})
		return nil
	}
	fl, err := x.flowFor(ctx, flowSid, from)
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	if fl.Sid == "" {
		c := *fl
		c.Sid = flowSid
		fl = &c
	}
	if problems := Validate(fl); HasErrors(problems) {
		return fmt.Errorf("handle message: flow %s is invalid", flowSid)
	}
	now := x.opts.Clock.Now().UTC()
	ex := &Execution{
		Sid: x.opts.NewSid("FN"), FlowSid: fl.Sid, FlowRevision: fl.Revision,
		ContactSid: ContactSid(from), ContactAddress: from, InitiatedBy: params.Get("MessageSid"), Status: StatusActive,
		DateCreated: now, DateUpdated: now,
	}
	msg := triggerMessage(params)
	ex.Context = map[string]any{
		"flow": map[string]any{
			"flow_sid": fl.Sid, "sid": ex.Sid,
			"channel":   map[string]any{"address": to},
			"data":      map[string]any{},
			"variables": map[string]any{},
		},
		"contact": map[string]any{"channel": map[string]any{"address": from}},
		"trigger": map[string]any{"message": msg},
		"widgets": map[string]any{},
	}
	unlockEx := x.locks.lock(ex.Sid)
	defer unlockEx()
	if err := x.store.CreateExecution(ctx, ex); err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	log = log.With("execution_sid", ex.Sid)
	log.Info("studio: execution started by a message", "from", from, "to", to)
	r := &runner{x: x, ctx: ctx, log: log, ex: ex, flows: []*Flow{fl}, visits: map[string]int{}}
	trigger := fl.State(fl.InitialState)
	r.run(trigger, "incomingMessage", trigger.Next("incomingMessage"))
	return nil
}

// triggerMessage is trigger.message: the inbound message's parameters,
// with the chat-channel fields classic Flex flows read. A web chat's
// message brings its own ChannelSid (the conversation) and
// ChannelAttributes (JSON, channel_type "web"); an SMS gets
// ChannelAttributes {from, channel_type "sms", twilioNumber} and a
// ChannelSid stable per contact and number.
func triggerMessage(params url.Values) map[string]any {
	from, to := params.Get("From"), params.Get("To")
	msg := paramMap(params)
	var attrs map[string]any
	if raw := params.Get("ChannelAttributes"); raw != "" {
		_ = json.Unmarshal([]byte(raw), &attrs)
	}
	if attrs == nil {
		attrs = map[string]any{"from": from, "channel_type": "sms", "twilioNumber": to}
	}
	msg["ChannelAttributes"] = attrs
	if params.Get("ChannelSid") == "" {
		msg["ChannelSid"] = "CH" + ContactSid(from + " " + to)[2:]
	}
	return msg
}

// MessageFailed tells the executor an outbound message failed or was not
// delivered: an execution parked on the send-and-wait-for-reply that sent
// it takes deliveryFailure.
func (x *Executor) MessageFailed(ctx context.Context, messageSid, status string, errorCode int) error {
	active, err := x.store.Executions(ctx, ExecutionFilter{Status: StatusActive})
	if err != nil {
		return fmt.Errorf("message failed: %w", err)
	}
	for _, a := range active {
		if a.Runtime.AwaitMessage != messageSid {
			continue
		}
		ex, unlock, err := x.lockContactExecution(ctx, a.Sid)
		if err != nil {
			return fmt.Errorf("message failed: %w", err)
		}
		if ex.Status == StatusActive && ex.Runtime.AwaitReply && ex.Runtime.AwaitMessage == messageSid {
			log := x.log.With("execution_sid", ex.Sid, "flow_sid", ex.FlowSid, "message_sid", messageSid)
			if r, ok := x.runnerOrEnd(ctx, log, ex); ok {
				r.resumeMessaging("deliveryFailure", map[string]any{"status": status, "error_code": errorCode})
			}
		}
		unlock()
	}
	return nil
}

// ResumeWaiting re-arms the reply timers of executions parked on
// send-and-wait-for-reply (after a restart); past deadlines fire at once.
func (x *Executor) ResumeWaiting(ctx context.Context) error {
	active, err := x.store.Executions(ctx, ExecutionFilter{Status: StatusActive})
	if err != nil {
		return fmt.Errorf("resume waiting executions: %w", err)
	}
	n := 0
	for _, ex := range active {
		if ex.Runtime.AwaitReply && !ex.Runtime.Deadline.IsZero() {
			x.armTimer(ex)
			n++
		}
	}
	if n > 0 {
		x.log.Info("studio: re-armed reply timers of waiting executions", "count", n)
	}
	return nil
}

// replyTimedOut fires a send-and-wait-for-reply's timeout if the
// execution still waits there.
func (x *Executor) replyTimedOut(ctx context.Context, sid, widget string, deadline time.Time) {
	ex, unlock, err := x.lockContactExecution(ctx, sid) // each node re-arms the timers at its start: the first one fires it
	if err != nil {
		return
	}
	defer unlock()
	if ex.Status != StatusActive || !ex.Runtime.AwaitReply || ex.Runtime.Parked != widget || !ex.Runtime.Deadline.Equal(deadline) {
		return
	}
	log := x.log.With("execution_sid", sid, "flow_sid", ex.FlowSid)
	if !x.claimTimer(ctx, log, sid, deadline) {
		return
	}
	if r, ok := x.runnerOrEnd(ctx, log, ex); ok {
		r.resumeMessaging("timeout", nil)
	}
}

// resumeMessaging takes event on the send-and-wait-for-reply the
// execution is parked on, merging extra into its outputs.
func (r *runner) resumeMessaging(event string, extra map[string]any) {
	fl, cx := r.top()
	rt := &r.ex.Runtime
	st := fl.State(rt.Parked)
	if st == nil {
		r.abort(fmt.Errorf("a reply event (%s) arrived but the execution is not waiting on a widget", event))
		return
	}
	out, _ := sub(cx, "widgets")[st.Name].(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range extra {
		if k == "status" || k == "error_code" {
			if ob, ok := out["outbound"].(map[string]any); ok {
				if k == "status" {
					ob["Status"] = v
				} else {
					ob["ErrorCode"] = v
				}
			}
			continue
		}
		out[k] = v
	}
	setWidget(cx, st.Name, out)
	r.log.Info("studio: reply wait over", "widget", st.Name, "event", event)
	rt.Parked, rt.Deadline, rt.AwaitReply, rt.AwaitMessage = "", time.Time{}, false, ""
	r.run(st, event, st.Next(event))
}

// messagingWidget runs send-message, or sends the message of a
// send-and-wait-for-reply and parks the execution (park true). Without a
// MessageSender they take their failure transition.
func (r *runner) messagingWidget(st *State) (event string, park bool, err error) {
	_, cx := r.top()
	if r.x.opts.Messages == nil || (st.Type != "send-message" && st.Type != "send-and-wait-for-reply") {
		return "", false, errNotRun
	}
	b := r.bindings()
	m := OutgoingMessage{
		From: r.withDefault(st, "from", "{{flow.channel.address}}", b),
		To:   r.withDefault(st, "to", "{{contact.channel.address}}", b),
		Body: r.text(st, "body", b),
	}
	if u := strings.TrimSpace(r.text(st, "media_url", b)); u != "" {
		m.MediaURL = []string{u}
	}
	outbound, sendErr := r.x.opts.Messages.SendMessage(r.ctx, m)
	if outbound == nil {
		outbound = map[string]any{}
	}
	setWidget(cx, st.Name, map[string]any{"outbound": outbound})
	if sendErr != nil {
		r.log.Warn("studio: message not sent", "widget", st.Name, "error", sendErr)
		if st.Type == "send-message" {
			return "failed", false, nil
		}
		return "deliveryFailure", false, nil
	}
	r.log.Info("studio: message sent", "widget", st.Name, "message_sid", outbound["Sid"], "to", m.To)
	if st.Type == "send-message" {
		return "sent", false, nil
	}
	timeout := r.intProp(st, "timeout", int(defaultReplyTimeout/time.Second), b)
	rt := &r.ex.Runtime
	rt.Parked, rt.AwaitReply = st.Name, true
	rt.AwaitMessage, _ = outbound["Sid"].(string)
	rt.Deadline = r.x.opts.Clock.Now().Add(time.Duration(timeout) * time.Second)
	return "", true, nil
}

// errNotRun: the widget cannot run here; it takes its failure transition.
var errNotRun = errors.New("not run")

// flexHandedOff is send-to-flex's event when a messaging conversation
// became a task; the execution ends after it.
const flexHandedOff = "callComplete"

// flexWithoutCall runs send-to-flex in an execution with no call: the
// conversation goes to TaskRouter (ConversationHandoff) and the execution
// ends; without one it takes failedToEnqueue.
func (r *runner) flexWithoutCall(st *State) string {
	_, cx := r.top()
	if r.x.opts.Handoff == nil {
		r.log.Warn("studio: send-to-flex for a message needs TaskRouter, which is not wired", "widget", st.Name)
		setWidget(cx, st.Name, map[string]any{})
		return "failedToEnqueue"
	}
	b := r.bindings()
	attrs := map[string]any{}
	if s := strings.TrimSpace(r.text(st, "attributes", b)); s != "" {
		_ = json.Unmarshal([]byte(s), &attrs)
	}
	attrs["channelType"] = lookupString(cx, "trigger", "message", "ChannelAttributes", "channel_type")
	if attrs["channelType"] == "" {
		attrs["channelType"] = "sms"
	}
	attrs["from"] = lookupString(cx, "contact", "channel", "address")
	attrs["to"] = lookupString(cx, "flow", "channel", "address")
	task, err := r.x.opts.Handoff.CreateTask(r.ctx, r.text(st, "workflow", b), r.text(st, "channel", b), attrs,
		r.intProp(st, "priority", 0, b), r.intProp(st, "timeout", 0, b))
	if err != nil {
		r.log.Warn("studio: creating the task failed", "widget", st.Name, "error", err)
		setWidget(cx, st.Name, map[string]any{})
		return "failedToEnqueue"
	}
	setWidget(cx, st.Name, task)
	r.log.Info("studio: conversation handed to Flex", "widget", st.Name, "task_sid", task["sid"])
	return flexHandedOff
}

// lookupString reads a nested string from the context.
func lookupString(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

// claimTimer reports whether this gateway fires an execution's timer due
// at deadline: every gateway sharing the database arms the reply timers of
// waiting executions when it starts, and a survivor arms those of a node
// that died, so the first to claim it in the store fires it (a store that
// cannot claim, or fails to, lets it fire: a timeout taken twice is
// better than one lost).
func (x *Executor) claimTimer(ctx context.Context, log *slog.Logger, sid string, deadline time.Time) bool {
	c, ok := x.store.(interface {
		ClaimTimer(ctx context.Context, key string) (bool, error)
	})
	if !ok {
		return true
	}
	won, err := c.ClaimTimer(ctx, sid+"@"+deadline.UTC().Format(time.RFC3339Nano))
	if err != nil {
		log.Warn("studio: claiming a reply timer failed; firing it", "error", err)
		return true
	}
	if !won {
		log.Info("studio: reply timer fired by another gateway")
	}
	return won
}
