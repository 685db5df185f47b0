package studio

// Kind says how the executor treats a widget on a voice call.
type Kind int

// Widget kinds.
const (
	// KindTrigger is the flow's entry.
	KindTrigger Kind = iota + 1
	// KindInline widgets run inside the gateway without touching the call.
	KindInline
	// KindCall widgets answer with TwiML and wait for the call's callback.
	KindCall
	// KindUnsupported are voice widgets this gateway does not run yet: on
	// a call they take their failure transition (or end the execution).
	KindUnsupported
	// KindMessaging widgets only make sense for messages: on a call they
	// take their failure transition (or end the execution).
	KindMessaging
	// KindOutgoingCall widgets (make-outgoing-call) place a call from a
	// REST-started execution that has none; the flow goes on on that call
	// once it answers.
	KindOutgoingCall
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindTrigger:
		return "trigger"
	case KindInline:
		return "inline"
	case KindCall:
		return "call"
	case KindUnsupported:
		return "unsupported"
	case KindMessaging:
		return "messaging"
	case KindOutgoingCall:
		return "outgoing-call"
	}
	return "unknown"
}

// WidgetKind returns how a widget type is treated; ok is false for a type
// Studio does not have.
func WidgetKind(widgetType string) (k Kind, ok bool) {
	w, ok := widgetSpecs[widgetType]
	return w.kind, ok
}

// WidgetEvents returns the transition events of a widget type (nil for an
// unknown type).
func WidgetEvents(widgetType string) []string {
	return append([]string(nil), widgetSpecs[widgetType].events...)
}

// propKind is the JSON form a property must have.
type propKind int

const (
	pString    propKind = iota + 1 // string (numbers and booleans are accepted)
	pInt                           // whole number, or a string holding one (or Liquid)
	pBool                          // boolean, or "true"/"false" (or Liquid)
	pKeyValues                     // [{key, value}]
	pArray                         // any array
	pObject                        // any object
)

// propSpec describes one property of a widget.
type propSpec struct {
	name     string
	kind     propKind
	required bool
}

// widgetSpec describes a widget type.
type widgetSpec struct {
	kind   Kind
	events []string
	props  []propSpec
	// open widgets take properties this catalog does not list (no warning).
	open bool
	// failEvent is the transition an unsupported or messaging widget takes
	// when it is reached on a call; "" ends the execution with an error.
	failEvent string
	// note says why the widget is not run.
	note string
}

func str(name string) propSpec       { return propSpec{name: name, kind: pString} }
func reqStr(name string) propSpec    { return propSpec{name: name, kind: pString, required: true} }
func integer(name string) propSpec   { return propSpec{name: name, kind: pInt} }
func boolean(name string) propSpec   { return propSpec{name: name, kind: pBool} }
func keyValues(name string) propSpec { return propSpec{name: name, kind: pKeyValues} }

// outgoingCallProps are make-outgoing-call's properties (v1 and v2); to
// and from default to {{contact.channel.address}} and
// {{flow.channel.address}}.
var outgoingCallProps = []propSpec{
	str("to"), str("from"), integer("timeout"), boolean("record"), str("recording_channels"),
	str("recording_status_callback"), str("trim"), str("machine_detection"), boolean("detect_answering_machine"),
	integer("machine_detection_timeout"), integer("machine_detection_speech_threshold"),
	integer("machine_detection_speech_end_threshold"), integer("machine_detection_silence_timeout"),
	str("send_digits"), str("sip_auth_username"), str("sip_auth_password"),
}

// widgetSpecs is Studio's widget catalog (studio-flows-and-queues.md §1.4).
var widgetSpecs = map[string]widgetSpec{
	"trigger": {kind: KindTrigger,
		events: []string{"incomingCall", "incomingMessage", "incomingConversationMessage", "incomingRequest", "incomingParent"},
		props:  []propSpec{str("flow_url")}},

	// Flow control and tools, run in process.
	"split-based-on": {kind: KindInline, events: []string{"noMatch", "match"},
		props: []propSpec{reqStr("input")}},
	"set-variables": {kind: KindInline, events: []string{"next"},
		props: []propSpec{keyValues("variables"), boolean("parse_as_json")}},
	"run-subflow": {kind: KindInline, events: []string{"completed", "failed"},
		props: []propSpec{reqStr("flow_sid"), reqStr("flow_revision"), keyValues("parameters")}},
	"make-http-request": {kind: KindInline, events: []string{"success", "failed"},
		props: []propSpec{reqStr("method"), reqStr("url"), reqStr("content_type"), str("body"),
			keyValues("parameters"), boolean("send_twilio_credentials")}},
	"run-function": {kind: KindInline, events: []string{"success", "fail"},
		props: []propSpec{reqStr("url"), str("service_sid"), str("environment_sid"), str("function_sid"), keyValues("parameters")}},

	// Voice widgets that answer with TwiML.
	"say-play": {kind: KindCall, events: []string{"audioComplete"},
		props: []propSpec{str("say"), str("play"), str("digits"), str("voice"), str("language"), integer("loop")}},
	"gather-input-on-call": {kind: KindCall, events: []string{"keypress", "speech", "timeout"},
		props: []propSpec{str("say"), str("play"), str("voice"), str("language"), integer("loop"), integer("timeout"),
			integer("number_of_digits"), str("finish_on_key"), boolean("stop_gather"), str("speech_timeout"),
			str("gather_language"), str("speech_model"), str("hints"), boolean("profanity_filter"), str("save_response_as")}},
	"connect-call-to": {kind: KindCall, events: []string{"callCompleted", "hangup"},
		props: []propSpec{reqStr("noun"), str("to"), reqStr("caller_id"), boolean("record"), integer("timeout"),
			integer("time_limit"), str("sip_endpoint"), str("sip_username"), str("sip_password")}},
	"record-voicemail": {kind: KindCall, events: []string{"recordingComplete", "noAudio", "hangup"},
		props: []propSpec{integer("timeout"), integer("max_length"), str("finish_on_key"), boolean("play_beep"), str("trim"),
			boolean("transcribe"), str("transcription_callback_url"), str("recording_status_callback_url")}},
	"enqueue-call": {kind: KindCall, events: []string{"callComplete", "failedToEnqueue", "callFailure"},
		props: []propSpec{str("queue_name"), str("workflow_sid"), str("task_attributes"), integer("priority"), integer("timeout"),
			str("wait_url"), str("wait_url_method")}},
	"send-to-flex": {kind: KindCall, events: []string{"callComplete", "failedToEnqueue", "callFailure", "composerStarted"},
		props: []propSpec{reqStr("workflow"), reqStr("channel"), str("attributes"), integer("priority"), integer("timeout"),
			str("waitUrl"), str("waitUrlMethod")}},
	"add-twiml-redirect": {kind: KindCall, events: []string{"return", "timeout", "fail"},
		props: []propSpec{reqStr("url"), str("method"), integer("timeout")}},

	// Placing a call (REST-started executions).
	"make-outgoing-call-v2": {kind: KindOutgoingCall, events: []string{"answered", "busy", "noAnswer", "failed"}, props: outgoingCallProps},
	"make-outgoing-call-v1": {kind: KindOutgoingCall, events: []string{"answered", "answeredByMachine", "busy", "noAnswer", "failed", "hangup"},
		props: outgoingCallProps},

	// record-call starts or stops the call's recording in process (no TwiML).
	"record-call": {kind: KindInline, events: []string{"success", "failed"},
		props: []propSpec{{name: "record_call", kind: pBool, required: true}, str("recording_status_callback"),
			str("recording_status_callback_method"), str("recording_status_callback_events"), str("recording_channels"), str("trim")}},

	// fork-stream starts or stops a one-way media stream (<Start>/<Stop><Stream>).
	"fork-stream": {kind: KindCall, events: []string{"next"},
		props: []propSpec{reqStr("stream_action"), str("stream_name"), str("stream_transport_type"), str("stream_url"),
			str("stream_track"), str("stream_connector"), keyValues("stream_parameters")}},

	// Voice widgets not run by this gateway yet.
	"capture-payments": {kind: KindUnsupported,
		events:    []string{"success", "maxFailedAttempts", "providerError", "payInterrupted", "hangup", "validationError"},
		failEvent: "providerError", note: "payments (<Pay>) are not supported yet",
		props: []propSpec{str("payment_connector"), str("payment_amount"), str("charge_amount"), str("currency"),
			str("payment_method"), str("payment_token_type"), {name: "valid_card_types", kind: pArray}, boolean("security_code"),
			boolean("postal_code"), integer("min_postal_code_length"), integer("timeout"), integer("max_attempts"),
			str("language"), str("description"), keyValues("parameters")}},
	"connect-virtual-agent": {kind: KindUnsupported, events: []string{"return", "hangup"}, open: true,
		note: "virtual agents (Dialogflow) are not supported"},
	"connect-virtual-agent-v2": {kind: KindUnsupported,
		events: []string{"completed", "live-agent-handoff", "hangup", "failed", "paused", "timeout"}, open: true,
		failEvent: "failed", note: "virtual agents (Dialogflow) are not supported"},
	"run-conversation-relay": {kind: KindUnsupported, events: []string{"success", "failed"}, open: true,
		failEvent: "failed", note: "ConversationRelay is not supported"},

	// Messaging only.
	"send-message":            {kind: KindMessaging, events: []string{"sent", "failed"}, open: true, failEvent: "failed"},
	"send-and-wait-for-reply": {kind: KindMessaging, events: []string{"incomingMessage", "timeout", "deliveryFailure"}, open: true, failEvent: "deliveryFailure"},
	"start-conversation":      {kind: KindMessaging, events: []string{"created", "failed"}, open: true, failEvent: "failed"},
	"resume-conversation":     {kind: KindMessaging, events: []string{"resumed", "failed"}, open: true, failEvent: "failed"},
	"send-to-auto-pilot":      {kind: KindMessaging, events: []string{"sessionEnded", "failure", "timeout"}, open: true, failEvent: "failure"},
}

// hasEvent reports whether events holds e.
func hasEvent(events []string, e string) bool {
	for _, x := range events {
		if x == e {
			return true
		}
	}
	return false
}
