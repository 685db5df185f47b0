package studio

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// Parameters of the callback URLs.
const (
	// ParamFlowEvent names the event to fire on the waiting widget; the
	// value "action" asks the executor to pick it from the callback's
	// parameters (Digits, DialCallStatus, RecordingUrl, QueueResult…).
	ParamFlowEvent = "FlowEvent"
	// ParamStep names the widget the callback is for.
	ParamStep = "Step"
	// EventAction is the FlowEvent of call widgets' action URLs.
	EventAction = "action"
)

// finalStatuses are the CallStatus values of a call that is over.
var finalStatuses = map[string]bool{"completed": true, "busy": true, "failed": true, "no-answer": true, "canceled": true}

// Handler serves the flows: GET or POST /studio/{FlowSid}. Mount it on
// the gateway's mux at "/studio/".
func (x *Executor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /studio/{flowSid}", x.serve)
	mux.HandleFunc("POST /studio/{flowSid}", x.serve)
	return mux
}

// request is one request from the call engine.
type request struct {
	flowSid   string
	flowEvent string
	step      string
	params    url.Values // the call's parameters (FlowEvent and Step removed)
	callSid   string
	final     bool // CallStatus says the call is over
	progress  bool // a call progress (status) callback
}

func (x *Executor) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "studio: bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if x.opts.AuthToken != "" && !x.signed(r) {
		x.log.Warn("studio: request with a bad X-Twilio-Signature", "url", r.URL.String())
		http.Error(w, "studio: invalid X-Twilio-Signature", http.StatusForbidden)
		return
	}
	req := parseRequest(r)
	if req.callSid == "" {
		http.Error(w, "studio: CallSid is missing: this URL serves calls only", http.StatusBadRequest)
		return
	}
	doc, status := x.handle(r.Context(), req)
	if status != http.StatusOK {
		http.Error(w, string(doc), status)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(doc)
}

// parseRequest collects a request's parameters: the form (POST) or query
// (GET) without FlowEvent and Step; extra query parameters of a POST (a
// redirect back to the flow may carry some) are kept too.
func parseRequest(r *http.Request) request {
	query := r.URL.Query()
	req := request{flowSid: r.PathValue("flowSid"), flowEvent: query.Get(ParamFlowEvent), step: query.Get(ParamStep)}
	p := url.Values{}
	if r.Method == http.MethodPost {
		for k, vs := range r.PostForm {
			p[k] = vs
		}
	}
	for k, vs := range query {
		if _, dup := p[k]; !dup {
			p[k] = vs
		}
	}
	p.Del(ParamFlowEvent)
	p.Del(ParamStep)
	req.params = p
	req.callSid = p.Get("CallSid")
	req.final = finalStatuses[p.Get("CallStatus")]
	req.progress = p.Get("CallbackSource") == "call-progress-events"
	return req
}

// signed checks X-Twilio-Signature against the public URL of the request
// (and, failing that, the URL as received).
func (x *Executor) signed(r *http.Request) bool {
	got := r.Header.Get("X-Twilio-Signature")
	if got == "" {
		return false
	}
	var params url.Values
	if r.Method == http.MethodPost {
		params = r.PostForm
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	for _, base := range []string{x.opts.PublicURL, scheme + "://" + r.Host} {
		want := webhook.Signature(x.opts.AuthToken, base+r.URL.RequestURI(), params)
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// handle answers one request with a TwiML document, or a non-200 status
// and a message.
func (x *Executor) handle(ctx context.Context, req request) ([]byte, int) {
	unlock := x.locks.lock(req.callSid)
	defer unlock()
	log := x.log.With("call_sid", req.callSid, "flow_sid", req.flowSid)

	ex, unlockEx, err := x.activeForCall(ctx, req.callSid)
	if err != nil {
		log.Error("studio: execution store failed", "error", err)
		return []byte("studio: execution store: " + err.Error()), http.StatusInternalServerError
	}
	if ex != nil {
		defer unlockEx()
		log = log.With("execution_sid", ex.Sid)
	}
	switch {
	case ex == nil && (req.final || req.progress):
		return twimlDocument(), http.StatusOK // nothing to end
	case ex == nil && (req.flowEvent != "" || req.params.Get(ParamExecution) != ""):
		log.Warn("studio: callback for a call with no active execution; hanging up", "flow_event", req.flowEvent, "step", req.step,
			"execution_sid", req.params.Get(ParamExecution))
		return twimlDocument(elem("Hangup")), http.StatusOK
	case ex == nil:
		return x.start(ctx, log, req)
	case ex.FlowSid != req.flowSid:
		// The call moved to another flow (e.g. by a redirect).
		if err := x.finish(ctx, ex, "the call moved to flow "+req.flowSid); err != nil {
			log.Error("studio: ending execution failed", "error", err)
		}
		if req.final || req.progress {
			return twimlDocument(), http.StatusOK
		}
		return x.start(ctx, log, req)
	case ex.Runtime.Dialing && req.final:
		// The call a make-outgoing-call widget placed was not answered
		// (its status callback): the flow goes on without it.
		x.outgoingOver(ex.Sid, req.callSid, req.params.Get("CallStatus"), req.params)
		return twimlDocument(), http.StatusOK
	case req.flowEvent == "" && req.params.Get("ErrorCode") == "":
		// The call asked for the flow again (e.g. a REST redirect to the
		// voice URL): a new execution replaces the old one.
		reason := "the call requested the flow again"
		if req.final {
			reason = "the call ended (" + req.params.Get("CallStatus") + ")"
		}
		if err := x.finish(ctx, ex, reason); err != nil {
			log.Error("studio: ending execution failed", "error", err)
		}
		if req.final {
			return twimlDocument(), http.StatusOK
		}
		return x.start(ctx, log, req)
	case req.progress:
		if req.final {
			if err := x.finish(ctx, ex, "the call ended ("+req.params.Get("CallStatus")+")"); err != nil {
				log.Error("studio: ending execution failed", "error", err)
			}
		}
		return twimlDocument(), http.StatusOK
	}
	r, ok := x.runnerOrEnd(ctx, log, ex)
	if !ok {
		return x.errorDocument(req.final), http.StatusOK
	}
	return r.resume(req), http.StatusOK
}

// start begins an execution for a new call.
func (x *Executor) start(ctx context.Context, log *slog.Logger, req request) ([]byte, int) {
	fl, err := x.flowFor(ctx, req.flowSid, req.params.Get("From"))
	if errors.Is(err, ErrNotFound) {
		log.Error("studio: call for an unknown flow")
		return []byte("studio: flow " + req.flowSid + " not found"), http.StatusNotFound
	}
	if err != nil {
		log.Error("studio: loading the flow failed", "error", err)
		return []byte("studio: flow " + req.flowSid + ": " + err.Error()), http.StatusInternalServerError
	}
	if fl.Sid == "" {
		c := *fl
		c.Sid = req.flowSid
		fl = &c
	}
	if problems := Validate(fl); HasErrors(problems) {
		for _, p := range problems {
			if p.Severity == SeverityError {
				log.Error("studio: the flow is invalid and cannot run", "problem", p.String())
			}
		}
		return x.errorDocument(false), http.StatusOK
	}
	from, to := req.params.Get("From"), req.params.Get("To")
	if !fl.ConcurrentCallsAllowed() {
		busy, err := x.store.Executions(ctx, ExecutionFilter{FlowSid: fl.Sid, Status: StatusActive, ContactAddress: from})
		if err == nil && len(busy) > 0 {
			log.Info("studio: caller already has an active execution and the flow does not allow concurrent calls", "from", from, "execution_sid", busy[0].Sid)
			return twimlDocument(sayElement(BusyMessage, "", "", 1), elem("Hangup")), http.StatusOK
		}
	}
	now := x.opts.Clock.Now().UTC()
	ex := &Execution{
		Sid: x.opts.NewSid("FN"), FlowSid: fl.Sid, FlowRevision: fl.Revision,
		ContactSid: ContactSid(from), ContactAddress: from,
		InitiatedBy: req.callSid, CallSid: req.callSid, Status: StatusActive,
		DateCreated: now, DateUpdated: now,
	}
	ex.Context = map[string]any{
		"flow": map[string]any{
			"flow_sid": fl.Sid, "sid": ex.Sid,
			"channel":   map[string]any{"address": to},
			"data":      map[string]any{},
			"variables": map[string]any{},
		},
		"contact": map[string]any{"channel": map[string]any{"address": from}},
		"trigger": map[string]any{"call": paramMap(req.params)},
		"widgets": map[string]any{},
	}
	unlock := x.locks.lock(ex.Sid)
	defer unlock()
	if err := x.store.CreateExecution(ctx, ex); err != nil {
		log.Error("studio: storing the execution failed", "error", err)
		return []byte("studio: execution store: " + err.Error()), http.StatusInternalServerError
	}
	log = log.With("execution_sid", ex.Sid)
	log.Info("studio: execution started", "from", from, "to", to, "revision", fl.Revision)
	r := &runner{x: x, ctx: ctx, log: log, ex: ex, flows: []*Flow{fl}, visits: map[string]int{}, hungUp: req.final}
	trigger := fl.State(fl.InitialState)
	return r.run(trigger, "incomingCall", trigger.Next("incomingCall")), http.StatusOK
}

// errorDocument is the TwiML for a failed execution: the error message
// and a hang-up (nothing once the call is over).
func (x *Executor) errorDocument(callOver bool) []byte {
	if callOver {
		return twimlDocument()
	}
	return twimlDocument(sayElement(x.opts.ErrorMessage, "", "", 1), elem("Hangup"))
}

// paramMap flattens request parameters (first values) for the context.
func paramMap(p url.Values) map[string]any {
	m := make(map[string]any, len(p))
	for k, vs := range p {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}

// describe is a short text for logs.
func describe(format string, args ...any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}
