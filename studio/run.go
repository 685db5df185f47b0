package studio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// runner advances one execution while the executor handles one request.
type runner struct {
	x   *Executor
	ctx context.Context
	log *slog.Logger
	ex  *Execution
	// flows are the root flow and the subflows of ex.Runtime.Subflows.
	flows []*Flow
	// visits counts widget runs during this request (loop guard).
	visits map[string]int
	// hungUp is set when the call is over: the flow runs on only until
	// the next call widget.
	hungUp bool
	// handedOff: the execution ended because a widget handed the call to
	// other TwiML for good.
	handedOff bool
}

// newRunner loads the flows an execution is running (the revisions it
// started with, when the source keeps revisions).
func (x *Executor) newRunner(ctx context.Context, log *slog.Logger, ex *Execution) (*runner, error) {
	root, err := x.loadFlow(ctx, ex.FlowSid, ex.FlowRevision)
	if err != nil {
		return nil, err
	}
	flows := []*Flow{root}
	for _, fr := range ex.Runtime.Subflows {
		f, err := x.loadFlow(ctx, fr.FlowSid, fr.Revision)
		if err != nil {
			return nil, err
		}
		flows = append(flows, f)
	}
	return &runner{x: x, ctx: ctx, log: log, ex: ex, flows: flows, visits: map[string]int{}}, nil
}

// loadFlow returns a revision of a flow (the latest when revision is 0 or
// the source keeps no revisions).
// runnerOrEnd is newRunner for ex; when the execution's flow cannot be
// loaded it logs why, ends the execution and reports false.
func (x *Executor) runnerOrEnd(ctx context.Context, log *slog.Logger, ex *Execution) (*runner, bool) {
	r, err := x.newRunner(ctx, log, ex)
	if err != nil {
		log.Error("studio: cannot load the execution's flow", "error", err)
		_ = x.finish(ctx, ex, err.Error())
		return nil, false
	}
	return r, true
}

func (x *Executor) loadFlow(ctx context.Context, sid string, revision int) (*Flow, error) {
	var f *Flow
	var err error
	if rs, ok := x.opts.Flows.(RevisionSource); ok && revision > 0 {
		f, err = rs.FlowRevision(ctx, sid, revision)
	} else {
		f, err = x.opts.Flows.Flow(ctx, sid)
	}
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", sid, err)
	}
	if f.Sid == "" {
		c := *f
		c.Sid = sid
		f = &c
	}
	return f, nil
}

// top returns the innermost flow being run and its context.
func (r *runner) top() (*Flow, map[string]any) {
	fl := r.flows[len(r.flows)-1]
	if n := len(r.ex.Runtime.Subflows); n > 0 {
		return fl, r.ex.Runtime.Subflows[n-1].Context
	}
	return fl, r.ex.Context
}

// resume fires the waiting widget's event for a callback and runs on.
func (r *runner) resume(req request) []byte {
	r.hungUp = req.final
	fl, cx := r.top()
	rt := &r.ex.Runtime
	st := fl.State(rt.Parked)
	if st == nil {
		return r.abort(fmt.Errorf("a callback (FlowEvent=%q) arrived but the execution is not waiting on a widget", req.flowEvent))
	}
	if req.step != "" && req.step != st.Name {
		if req.final {
			r.end("the call ended (" + req.params.Get("CallStatus") + ")")
			return twimlDocument()
		}
		return r.abort(fmt.Errorf("a callback for widget %q arrived while the execution waits on %q", req.step, st.Name))
	}
	var event string
	if req.flowEvent == "" {
		// The engine's fallback request: the TwiML a widget handed the
		// call to could not be fetched or run.
		if st.Type != "add-twiml-redirect" {
			return r.abort(fmt.Errorf("state %q (%s): the call failed with error %s at %s", st.Name, st.Type,
				req.params.Get("ErrorCode"), req.params.Get("ErrorUrl")))
		}
		event = "fail"
	} else {
		late := !rt.Deadline.IsZero() && r.x.opts.Clock.Now().After(rt.Deadline)
		var err error
		if event, err = selectEvent(st, req.flowEvent, req.params, req.final, late); err != nil {
			return r.abort(err)
		}
	}
	req.params.Del(ParamExecution)
	setWidget(cx, st.Name, paramMap(req.params))
	r.log.Info("studio: callback", "widget", st.Name, "type", st.Type, "event", event, "call_status", req.params.Get("CallStatus"))
	rt.Parked, rt.Deadline, rt.Dialing = "", time.Time{}, false
	return r.run(st, event, st.Next(event))
}

// run follows the flow from a widget's event and returns the TwiML to
// answer with; errors end the execution with the error message.
func (r *runner) run(from *State, event, next string) []byte {
	doc, err := r.follow(from, event, next)
	if err != nil {
		return r.abort(err)
	}
	if r.ex.Status == StatusActive {
		r.ex.DateUpdated = r.x.opts.Clock.Now().UTC()
		if err := r.x.store.UpdateExecution(r.ctx, r.ex); err != nil {
			r.log.Error("studio: saving the execution failed", "error", err)
		}
		if r.ex.Runtime.Deadline.IsZero() {
			r.x.disarmTimer(r.ex.Sid)
		} else {
			r.x.armTimer(r.ex)
		}
	}
	return doc
}

// abort ends the execution because of err and returns the error TwiML.
func (r *runner) abort(err error) []byte {
	r.log.Error("studio: execution failed", "error", err)
	r.end("error: " + err.Error())
	return r.x.errorDocument(r.hungUp)
}

// end ends the execution, logging a store failure.
func (r *runner) end(reason string) {
	if r.ex.Status == StatusEnded {
		return
	}
	if err := r.x.finish(r.ctx, r.ex, reason); err != nil {
		r.log.Error("studio: ending the execution failed", "error", err)
	}
}

// follow is the state machine: it records the transition from `from` on
// event to next, runs widgets in process until a call widget answers with
// TwiML or the branch ends.
func (r *runner) follow(from *State, event, next string) ([]byte, error) {
	for {
		fl, cx := r.top()
		if err := r.step(fl, from, event, next, cx); err != nil {
			return nil, err
		}
		if next == "" {
			if len(r.ex.Runtime.Subflows) > 0 {
				var err error
				if from, event, err = r.leaveSubflow(); err != nil {
					return nil, err
				}
				next = from.Next(event)
				continue
			}
			r.end(describe("the flow ended after %q (%s)", from.Name, event))
			if r.hungUp {
				return twimlDocument(), nil
			}
			return twimlDocument(elem("Hangup")), nil
		}
		st := fl.State(next)
		if st == nil {
			return nil, fmt.Errorf("state %q (%s): transition %q: next %q does not exist", from.Name, from.Type, event, next)
		}
		if err := r.guard(fl, st); err != nil {
			return nil, err
		}
		spec := widgetSpecs[st.Type]
		switch spec.kind {
		case KindInline:
			var out outcome
			var err error
			if st.Type == "run-subflow" {
				from, out, err = r.enterSubflow(st)
			} else {
				from = st
				out, err = r.inline(st)
			}
			if err != nil {
				return nil, err
			}
			event, next = out.event, out.next
		case KindCall:
			if st.Type == "send-to-flex" && r.ex.CallSid == "" && !r.hungUp {
				from, event = st, r.flexWithoutCall(st) // a messaging conversation
				if event == flexHandedOff {
					// The conversation is Flex's now: the execution ends
					// there, as on Twilio, whatever the transition says.
					if err := r.step(fl, from, event, "", cx); err != nil {
						return nil, err
					}
					r.end(describe("widget %q (%s) handed the conversation to Flex", st.Name, st.Type))
					return twimlDocument(), nil
				}
				next = st.Next(event)
				continue
			}
			if r.hungUp {
				r.end(describe("the call ended; the flow stopped at %q (%s)", st.Name, st.Type))
				return twimlDocument(), nil
			}
			if r.ex.CallSid == "" {
				return nil, fmt.Errorf("state %q (%s) needs a call, but the execution has none: a REST-started flow must place one with make-outgoing-call-v2 first (or the call it placed was not answered)", st.Name, st.Type)
			}
			res, err := r.callWidget(st)
			if err != nil {
				return nil, err
			}
			if res.doc == nil { // the widget finished at once (e.g. bad task attributes)
				setWidget(cx, st.Name, map[string]any{})
				from, event, next = st, res.event, st.Next(res.event)
				continue
			}
			if res.handOff {
				r.handedOff = true
				r.end(describe("widget %q (%s) handed the call to other TwiML without waiting for its return", st.Name, st.Type))
				return res.doc, nil
			}
			r.ex.Runtime.Parked, r.ex.Runtime.Deadline = st.Name, res.deadline
			r.log.Info("studio: waiting for the call", "widget", st.Name, "type", st.Type)
			return res.doc, nil
		case KindOutgoingCall:
			from = st
			if r.hungUp {
				r.end(describe("the call ended; the flow stopped at %q (%s)", st.Name, st.Type))
				return twimlDocument(), nil
			}
			placed, ev, err := r.placeCall(st)
			if err != nil {
				return nil, err
			}
			if placed {
				r.log.Info("studio: waiting for the outgoing call", "widget", st.Name, "type", st.Type, "placed_call_sid", r.ex.CallSid)
				return twimlDocument(), nil
			}
			event, next = ev, st.Next(ev)
		case KindUnsupported, KindMessaging:
			if spec.kind == KindMessaging {
				ev, park, err := r.messagingWidget(st)
				if park {
					r.log.Info("studio: waiting for the contact's reply", "widget", st.Name, "deadline", r.ex.Runtime.Deadline)
					return twimlDocument(), nil
				}
				if err == nil {
					from, event, next = st, ev, st.Next(ev)
					continue
				}
			}
			why := spec.note
			if spec.kind == KindMessaging {
				why = "messaging-only widgets do not run on voice calls"
			}
			if spec.failEvent == "" {
				return nil, fmt.Errorf("state %q (%s): %s", st.Name, st.Type, why)
			}
			r.log.Warn("studio: widget not run", "widget", st.Name, "type", st.Type, "reason", why, "event", spec.failEvent)
			setWidget(cx, st.Name, map[string]any{})
			from, event, next = st, spec.failEvent, st.Next(spec.failEvent)
		default:
			return nil, fmt.Errorf("state %q (%s): transition %q leads to %q, a %s widget that cannot be entered", from.Name, from.Type, event, st.Name, st.Type)
		}
	}
}

// step records one transition (and enforces the step limit).
func (r *runner) step(fl *Flow, from *State, event, next string, cx map[string]any) error {
	rt := &r.ex.Runtime
	if rt.Steps >= r.x.limits.MaxSteps {
		return fmt.Errorf("the execution reached the limit of %d steps (Twilio error 81000) at %q", r.x.limits.MaxSteps, from.Name)
	}
	to := next
	if to == "" {
		to = Ended
	}
	snapshot, err := json.Marshal(cx)
	if err != nil {
		return fmt.Errorf("snapshot of the context: %w", err)
	}
	s := &Step{
		Sid: r.x.opts.NewSid("FT"), ExecutionSid: r.ex.Sid, FlowSid: fl.Sid,
		Name: event, TransitionedFrom: from.Name, TransitionedTo: to, Type: from.Type,
		Context: snapshot, DateCreated: r.x.opts.Clock.Now().UTC(),
	}
	if n := len(rt.Subflows); n > 0 {
		s.ParentStepSid = rt.Subflows[n-1].ParentStep
	}
	if err := r.x.store.AddStep(r.ctx, s); err != nil {
		return fmt.Errorf("record step: %w", err)
	}
	rt.Steps++
	rt.LastStep = s.Sid
	r.log.Debug("studio: step", "from", from.Name, "event", event, "to", to)
	return nil
}

// guard enforces the same-widget limits before st runs.
func (r *runner) guard(fl *Flow, st *State) error {
	max := r.x.limits.MaxWidgetRepeats
	key := fl.Sid + "/" + st.Name
	rt := &r.ex.Runtime
	if rt.LastWidget == key {
		rt.Repeats++
	} else {
		rt.LastWidget, rt.Repeats = key, 1
	}
	if rt.Repeats > max {
		return fmt.Errorf("state %q (%s) would run %d times in a row: the limit is %d", st.Name, st.Type, rt.Repeats, max)
	}
	r.visits[key]++
	if r.visits[key] > max {
		return fmt.Errorf("state %q (%s) would run %d times without waiting for the caller (a loop?): the limit is %d", st.Name, st.Type, r.visits[key], max)
	}
	return nil
}

// selectEvent picks the event of a callback for the waiting widget st.
func selectEvent(st *State, flowEvent string, p interface{ Get(string) string }, final, late bool) (string, error) {
	spec := widgetSpecs[st.Type]
	if spec.kind == KindOutgoingCall && flowEvent == EventAction {
		// The placed call requests the flow when it answers.
		return outgoingEvent(st.Type, p.Get("CallStatus"), p.Get("AnsweredBy")), nil
	}
	if final && hasEvent(spec.events, "hangup") {
		return "hangup", nil
	}
	if flowEvent != EventAction {
		if !hasEvent(spec.events, flowEvent) {
			return "", fmt.Errorf("state %q (%s): FlowEvent %q is not an event of the widget (want one of %s)",
				st.Name, st.Type, flowEvent, strings.Join(spec.events, ", "))
		}
		if st.Type == "add-twiml-redirect" && flowEvent == "return" && late {
			return "timeout", nil
		}
		return flowEvent, nil
	}
	switch st.Type {
	case "say-play":
		return "audioComplete", nil
	case "gather-input-on-call":
		switch {
		case p.Get("Digits") != "":
			return "keypress", nil
		case p.Get("SpeechResult") != "":
			return "speech", nil
		}
		return "timeout", nil
	case "connect-call-to":
		return "callCompleted", nil
	case "record-voicemail":
		if p.Get("RecordingUrl") != "" {
			return "recordingComplete", nil
		}
		return "noAudio", nil
	case "enqueue-call", "send-to-flex":
		switch p.Get("QueueResult") {
		case "bridged", "leave", "redirected":
			return "callComplete", nil
		case "queue-full", "error":
			return "failedToEnqueue", nil
		}
		return "callFailure", nil // hangup, system-error, or none
	case "add-twiml-redirect":
		if late {
			return "timeout", nil
		}
		return "return", nil
	}
	return "", fmt.Errorf("state %q (%s): no event can be picked for this widget", st.Name, st.Type)
}

// bindings are the Liquid variables of the innermost context.
func (r *runner) bindings() map[string]any {
	_, cx := r.top()
	return liquidBindings(cx)
}

// text renders a string property; a Liquid error is logged and renders "".
func (r *runner) text(st *State, name string, b map[string]any) string {
	return r.render(st, name, st.Properties.Text(name), b)
}

// render renders a template of st (what names it in logs).
func (r *runner) render(st *State, what, tmpl string, b map[string]any) string {
	out, err := r.x.liquid.render(tmpl, b)
	if err != nil {
		r.log.Warn("studio: Liquid error; rendering empty", "widget", st.Name, "property", what, "error", err)
		return ""
	}
	return out
}

// intProp renders a whole-number property; absent or invalid gives def.
func (r *runner) intProp(st *State, name string, def int, b map[string]any) int {
	if !st.Properties.Has(name) {
		return def
	}
	s := strings.TrimSpace(r.text(st, name, b))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			r.log.Warn("studio: not a whole number; using the default", "widget", st.Name, "property", name, "value", s, "default", def)
			return def
		}
		n = int(f)
	}
	return n
}

// boolProp renders a boolean property; absent or invalid gives def.
func (r *runner) boolProp(st *State, name string, def bool, b map[string]any) bool {
	if !st.Properties.Has(name) {
		return def
	}
	s := strings.TrimSpace(r.text(st, name, b))
	v, err := strconv.ParseBool(s)
	if err != nil {
		if s != "" {
			r.log.Warn("studio: not true or false; using the default", "widget", st.Name, "property", name, "value", s, "default", def)
		}
		return def
	}
	return v
}

// keyValues renders a {key, value} list property.
func (r *runner) keyValues(st *State, name string, b map[string]any) ([]KeyValue, error) {
	kvs, err := st.Properties.KeyValues(name)
	if err != nil {
		return nil, fmt.Errorf("state %q (%s): property %q: %w", st.Name, st.Type, name, err)
	}
	for i := range kvs {
		kvs[i].Value = r.render(st, name+"."+kvs[i].Key, kvs[i].Value, b)
	}
	return kvs, nil
}

// setWidget stores a widget's outputs under widgets.<name>.
func setWidget(cx map[string]any, name string, out map[string]any) {
	sub(cx, "widgets")[name] = out
}

// sub returns m[key] as a map, creating it when missing.
func sub(m map[string]any, key string) map[string]any {
	if s, ok := m[key].(map[string]any); ok {
		return s
	}
	s := map[string]any{}
	m[key] = s
	return s
}
