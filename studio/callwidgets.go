package studio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// callResult is how a call widget answers.
type callResult struct {
	// doc is the TwiML to answer with; nil when the widget finished at
	// once with event (nothing is sent to the call).
	doc   []byte
	event string
	// deadline is when an add-twiml-redirect stops waiting.
	deadline time.Time
	// handOff: the call leaves the flow for good (the execution ends).
	handOff bool
}

// defaultRedirectTimeout is add-twiml-redirect's wait when no timeout is
// given (Studio's maximum).
const defaultRedirectTimeout = 14400

func itoa(n int) string { return strconv.Itoa(n) }

// callWidget renders a call widget's TwiML; its action or closing
// <Redirect> returns to the flow.
func (r *runner) callWidget(st *State) (callResult, error) {
	b := r.bindings()
	switch st.Type {
	case "say-play":
		return r.sayPlay(st, b), nil
	case "gather-input-on-call":
		return r.gather(st, b), nil
	case "connect-call-to":
		return r.connect(st, b)
	case "record-voicemail":
		return r.recordVoicemail(st, b), nil
	case "enqueue-call":
		return r.enqueue(st, b), nil
	case "send-to-flex":
		return r.sendToFlex(st, b), nil
	case "add-twiml-redirect":
		return r.redirect(st, b), nil
	case "fork-stream":
		return r.forkStream(st, b)
	}
	return callResult{}, fmt.Errorf("state %q (%s): not a call widget", st.Name, st.Type)
}

// callback is the URL a widget's TwiML returns to.
func (r *runner) callback(st *State, event string) string {
	return r.x.callbackURL(r.ex.FlowSid, event, st.Name)
}

// back is the closing <Redirect> to the flow for event.
func (r *runner) back(st *State, event string) *element {
	return elem("Redirect").attr("method", "POST").body(r.callback(st, event))
}

// prompt is the <Say> or <Play> of say-play and gather (nil if none).
func (r *runner) prompt(st *State, b map[string]any) *element {
	loop := r.intProp(st, "loop", 1, b)
	if say := r.text(st, "say", b); strings.TrimSpace(say) != "" {
		return sayElement(say, r.text(st, "voice", b), r.text(st, "language", b), loop)
	}
	if play := strings.TrimSpace(r.text(st, "play", b)); play != "" {
		e := elem("Play").body(play)
		if loop != 1 {
			e.attrAlways("loop", itoa(loop))
		}
		return e
	}
	return nil
}

// sayPlay: <Say>/<Play>/<Play digits>, then back with audioComplete.
func (r *runner) sayPlay(st *State, b map[string]any) callResult {
	var verbs []*element
	if digits := strings.TrimSpace(r.text(st, "digits", b)); digits != "" {
		verbs = append(verbs, elem("Play").attr("digits", digits))
	} else if p := r.prompt(st, b); p != nil {
		verbs = append(verbs, p)
	}
	verbs = append(verbs, r.back(st, "audioComplete"))
	return callResult{doc: twimlDocument(verbs...)}
}

// gather: <Gather> with the prompt nested, then back with timeout when
// nothing was entered. Speech is asked for only when the speech
// transition is wired, as in Studio.
func (r *runner) gather(st *State, b map[string]any) callResult {
	g := elem("Gather").attr("action", r.callback(st, EventAction)).attr("method", "POST")
	speech := st.Next("speech") != ""
	if speech {
		g.attr("input", "dtmf speech")
	} else {
		g.attr("input", "dtmf")
	}
	g.attr("timeout", itoa(r.intProp(st, "timeout", 5, b)))
	if n := r.intProp(st, "number_of_digits", 0, b); n > 0 {
		g.attr("numDigits", itoa(n))
	}
	// "Stop gathering on keypress" unchecked means no finish key.
	switch {
	case !r.boolProp(st, "stop_gather", true, b):
		g.attrAlways("finishOnKey", "")
	case st.Properties.Has("finish_on_key"):
		g.attrAlways("finishOnKey", r.text(st, "finish_on_key", b))
	default:
		g.attr("finishOnKey", "#")
	}
	if speech {
		g.attr("speechTimeout", strings.TrimSpace(r.text(st, "speech_timeout", b)))
		g.attr("language", r.text(st, "gather_language", b))
		g.attr("speechModel", r.text(st, "speech_model", b))
		g.attr("hints", r.text(st, "hints", b))
		if st.Properties.Has("profanity_filter") {
			g.attr("profanityFilter", strconv.FormatBool(r.boolProp(st, "profanity_filter", true, b)))
		}
	}
	if p := r.prompt(st, b); p != nil {
		g.add(p)
	}
	return callResult{doc: twimlDocument(g, r.back(st, "timeout"))}
}

// connect: <Dial> to a number (or several at once), a client or a SIP URI.
func (r *runner) connect(st *State, b map[string]any) (callResult, error) {
	d := elem("Dial").attr("action", r.callback(st, EventAction)).attr("method", "POST").
		attr("callerId", strings.TrimSpace(r.text(st, "caller_id", b))).
		attr("timeout", itoa(r.intProp(st, "timeout", 30, b)))
	if limit := r.intProp(st, "time_limit", 0, b); limit > 0 {
		d.attr("timeLimit", itoa(limit))
	}
	if r.boolProp(st, "record", false, b) {
		d.attr("record", "record-from-answer")
	}
	to := strings.TrimSpace(r.text(st, "to", b))
	noun := strings.TrimSpace(r.text(st, "noun", b))
	switch noun {
	case "number":
		d.add(elem("Number").body(to))
	case "number-multi":
		for _, n := range strings.Split(to, ",") {
			if n = strings.TrimSpace(n); n != "" {
				d.add(elem("Number").body(n))
			}
		}
	case "client":
		d.add(elem("Client").body(strings.TrimPrefix(to, "client:")))
	case "sip":
		endpoint := strings.TrimSpace(r.text(st, "sip_endpoint", b))
		if endpoint == "" {
			endpoint = to
		}
		if !strings.HasPrefix(strings.ToLower(endpoint), "sip:") && !strings.HasPrefix(strings.ToLower(endpoint), "sips:") {
			endpoint = "sip:" + endpoint
		}
		d.add(elem("Sip").attr("username", r.text(st, "sip_username", b)).attr("password", r.text(st, "sip_password", b)).body(endpoint))
	case "conference", "sim":
		return callResult{}, fmt.Errorf("state %q (connect-call-to): connecting to a %s is not supported by this gateway yet", st.Name, noun)
	default:
		return callResult{}, fmt.Errorf("state %q (connect-call-to): property \"noun\": unknown noun %q", st.Name, noun)
	}
	if len(d.children) == 0 || (noun != "sip" && to == "") {
		return callResult{}, fmt.Errorf("state %q (connect-call-to): property \"to\" is empty", st.Name)
	}
	return callResult{doc: twimlDocument(d)}, nil
}

// recordVoicemail: <Record>, then back with noAudio (the engine goes on to
// the next verb when nothing was recorded).
func (r *runner) recordVoicemail(st *State, b map[string]any) callResult {
	rec := elem("Record").attr("action", r.callback(st, EventAction)).attr("method", "POST").
		attr("timeout", itoa(r.intProp(st, "timeout", 5, b))).
		attr("maxLength", itoa(r.intProp(st, "max_length", 3600, b)))
	if st.Properties.Has("finish_on_key") {
		rec.attrAlways("finishOnKey", r.text(st, "finish_on_key", b))
	} else {
		rec.attr("finishOnKey", "#")
	}
	rec.attr("playBeep", strconv.FormatBool(r.boolProp(st, "play_beep", true, b)))
	trim := strings.TrimSpace(r.text(st, "trim", b))
	if trim == "" {
		trim = "trim-silence"
	}
	rec.attr("trim", trim)
	if r.boolProp(st, "transcribe", false, b) {
		rec.attr("transcribe", "true").attr("transcribeCallback", strings.TrimSpace(r.text(st, "transcription_callback_url", b)))
	}
	rec.attr("recordingStatusCallback", strings.TrimSpace(r.text(st, "recording_status_callback_url", b)))
	return callResult{doc: twimlDocument(rec, r.back(st, "noAudio"))}
}

// enqueue: <Enqueue> into a named queue, or to a workflow with a <Task>.
func (r *runner) enqueue(st *State, b map[string]any) callResult {
	e := elem("Enqueue").attr("action", r.callback(st, EventAction)).attr("method", "POST")
	r.waitURL(e, st, "wait_url", "wait_url_method", b)
	if queue := strings.TrimSpace(r.text(st, "queue_name", b)); queue != "" {
		return callResult{doc: twimlDocument(e.body(queue))}
	}
	attrs, err := r.taskAttributes(st, "task_attributes", b, false)
	if err != nil {
		r.log.Warn("studio: task attributes are not a JSON object", "widget", st.Name, "error", err)
		return callResult{event: "failedToEnqueue"}
	}
	e.attr("workflowSid", strings.TrimSpace(r.text(st, "workflow_sid", b)))
	e.add(r.task(st, attrs, b))
	return callResult{doc: twimlDocument(e)}
}

// sendToFlex: <Enqueue workflowSid> with a <Task> holding the attributes
// (plus the call's facts, as Twilio adds them), priority and timeout.
func (r *runner) sendToFlex(st *State, b map[string]any) callResult {
	attrs, err := r.taskAttributes(st, "attributes", b, true)
	if err != nil {
		r.log.Warn("studio: send-to-flex attributes are not a JSON object", "widget", st.Name, "error", err)
		return callResult{event: "failedToEnqueue"}
	}
	e := elem("Enqueue").attr("action", r.callback(st, EventAction)).attr("method", "POST").
		attr("workflowSid", strings.TrimSpace(r.text(st, "workflow", b)))
	r.waitURL(e, st, "waitUrl", "waitUrlMethod", b)
	e.add(r.task(st, attrs, b))
	return callResult{doc: twimlDocument(e)}
}

// waitURL sets waitUrl and waitUrlMethod (none: the built-in hold music).
func (r *runner) waitURL(e *element, st *State, urlProp, methodProp string, b map[string]any) {
	if u := strings.TrimSpace(r.text(st, urlProp, b)); u != "" {
		e.attr("waitUrl", u).attr("waitUrlMethod", strings.ToUpper(strings.TrimSpace(r.text(st, methodProp, b))))
	}
}

// task is the <Task> element.
func (r *runner) task(st *State, attrs string, b map[string]any) *element {
	t := elem("Task").body(attrs)
	if p := r.intProp(st, "priority", 0, b); p > 0 {
		t.attr("priority", itoa(p))
	}
	if s := r.intProp(st, "timeout", 0, b); s > 0 {
		t.attr("timeout", itoa(s))
	}
	return t
}

// taskAttributes renders a JSON-object property; withCall adds the
// call's facts that are not already set.
func (r *runner) taskAttributes(st *State, name string, b map[string]any, withCall bool) (string, error) {
	text := strings.TrimSpace(r.text(st, name, b))
	attrs := map[string]any{}
	if text != "" {
		if err := decodeJSON([]byte(text), &attrs); err != nil {
			return "", fmt.Errorf("property %q: %w", name, err)
		}
		if attrs == nil {
			attrs = map[string]any{}
		}
	}
	if withCall {
		call, _ := sub(r.ex.Context, "trigger")["call"].(map[string]any)
		facts := map[string]string{"call_sid": "CallSid", "from": "From", "to": "To", "direction": "Direction",
			"called": "Called", "caller": "Caller", "account_sid": "AccountSid"}
		for attr, param := range facts {
			if _, set := attrs[attr]; !set && call[param] != nil {
				attrs[attr] = call[param]
			}
		}
	}
	data, err := json.Marshal(attrs)
	if err != nil {
		return "", fmt.Errorf("property %q: %w", name, err)
	}
	return string(data), nil
}

// redirect: <Redirect> to external TwiML, which returns to the flow with
// ?FlowEvent=return. Returns after the timeout take "timeout"; a timeout
// of 0 hands the call over for good.
func (r *runner) redirect(st *State, b map[string]any) callResult {
	method := strings.ToUpper(strings.TrimSpace(r.text(st, "method", b)))
	if method == "" {
		method = "POST"
	}
	target := strings.TrimSpace(r.text(st, "url", b))
	if target == "" {
		r.log.Warn("studio: add-twiml-redirect has an empty url", "widget", st.Name)
		return callResult{event: "fail"}
	}
	doc := twimlDocument(elem("Redirect").attr("method", method).body(target))
	timeout := r.intProp(st, "timeout", defaultRedirectTimeout, b)
	if timeout <= 0 {
		return callResult{doc: doc, handOff: true}
	}
	return callResult{doc: doc, deadline: r.x.opts.Clock.Now().Add(time.Duration(timeout) * time.Second)}
}
