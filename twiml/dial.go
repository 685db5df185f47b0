package twiml

import "strings"

// Values of Dial's record attribute.
const (
	DialDoNotRecord           = "do-not-record"
	DialRecordFromAnswer      = "record-from-answer"
	DialRecordFromRinging     = "record-from-ringing"
	DialRecordFromAnswerDual  = "record-from-answer-dual"
	DialRecordFromRingingDual = "record-from-ringing-dual"
)

// Dial connects the caller to another party; twiml-voice.md §2.6.
//
// Exactly one of Number (a plain number as the element text) and Nouns is
// normally set. When neither is (an empty <Dial>, reported as warning
// 13223) the engine ends the Dial with DialCallStatus=failed.
type Dial struct {
	Pos
	// Action is requested when the dialled leg ends; "" = none (the next
	// verb runs instead).
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Timeout is the ring time in seconds: 5-600, default 30.
	Timeout int
	// TimeLimit is the longest call after answer, in seconds: default 14400.
	TimeLimit int
	// CallerID to present; "" = the caller's number.
	CallerID string
	// AnswerOnBridge keeps the inbound call ringing until the dialled party
	// answers (only meaningful as the first verb); default false.
	AnswerOnBridge bool
	// HangupOnStar lets the caller drop the called party with '*'; default false.
	HangupOnStar bool
	// Sequential rings the nouns one after another instead of in parallel;
	// default false.
	Sequential bool
	// Record is one of the Dial*Record* constants; default DialDoNotRecord
	// ("true" means DialRecordFromAnswer, "false" DialDoNotRecord).
	Record string
	// RecordingStatusCallback is requested when a recording is ready.
	RecordingStatusCallback string
	// RecordingStatusCallbackMethod is "GET" or "POST", default POST.
	RecordingStatusCallbackMethod string
	// RecordingStatusCallbackEvents: "in-progress", "completed", "absent";
	// default ["completed"].
	RecordingStatusCallbackEvents []string
	// RecordingTrack is "both" (default), "inbound" or "outbound".
	RecordingTrack string
	// Trim is DoNotTrim (default) or TrimSilence.
	Trim string
	// RingTone is a country code for the ringback tone; "" = the default
	// ringback.
	RingTone string
	// ReferURL receives SIP REFERs from the called party; "" = none.
	ReferURL string
	// ReferMethod is "GET" or "POST", default POST.
	ReferMethod string
	// Number is the element text (a phone number) when there are no nouns.
	Number string
	// Nouns are the parties to dial, in document order: up to 10 each of
	// *Number, *Client, *Sip; or a single *Conference or *Queue; or
	// *Application / *Element (WhatsApp, Sim).
	Nouns []Noun
}

// Name returns "Dial".
func (*Dial) Name() string { return "Dial" }

// ringTones are the accepted ringTone country codes.
var ringTones = []string{"at", "au", "bg", "br", "be", "ch", "cl", "cn", "cz", "de", "dk", "ee", "es", "fi", "fr",
	"gr", "hu", "il", "in", "it", "lt", "jp", "mx", "my", "nl", "no", "nz", "ph", "pl", "pt", "ru", "se", "sg", "th",
	"uk", "us", "us-old", "tw", "ve", "za"}

// maxDialNouns is the limit on each of Number, Client and Sip in one Dial.
const maxDialNouns = 10

func (c *converter) dial(n *node) *Dial {
	e := c.elem(n)
	d := &Dial{
		Pos:                           Pos{LineNo: n.line},
		Action:                        e.str("action", ""),
		Method:                        e.method("method", CodeDialMethod),
		Timeout:                       e.clamped("timeout", 30, 5, 600, CodeDialTimeout),
		TimeLimit:                     e.clampedPositive("timeLimit", 14400, 86400, CodeDialTimeLimit),
		CallerID:                      e.str("callerId", ""),
		AnswerOnBridge:                e.boolean("answerOnBridge", false, CodeSchema),
		HangupOnStar:                  e.boolean("hangupOnStar", false, CodeDialHangupOnStar),
		Sequential:                    e.boolean("sequential", false, CodeSchema),
		Record:                        dialRecord(e),
		RecordingStatusCallback:       e.str("recordingStatusCallback", ""),
		RecordingStatusCallbackMethod: e.method("recordingStatusCallbackMethod", CodeDialMethod),
		RecordingStatusCallbackEvents: recordingEvents(e),
		RecordingTrack:                e.enum("recordingTrack", "both", CodeSchema, "both", "inbound", "outbound"),
		Trim:                          e.enum("trim", DoNotTrim, CodeSchema, TrimSilence, DoNotTrim),
		RingTone:                      e.enum("ringTone", "", CodeSchema, ringTones...),
		ReferURL:                      e.str("referUrl", ""),
		ReferMethod:                   e.method("referMethod", CodeDialMethod),
	}
	for _, ignored := range []string{"callReason", "recordingConfigurationId", "events"} {
		e.raw(ignored)
	}
	e.done()

	var text []*node
	counts := map[string]int{}
	for _, k := range n.kids {
		if k.isText() {
			text = append(text, k)
			continue
		}
		var noun Noun
		switch k.name {
		case "Number":
			noun = c.number(k)
		case "Client":
			noun = c.client(k)
		case "Sip":
			noun = c.sip(k)
		case "Conference":
			noun = c.conference(k)
		case "Queue":
			noun = c.queue(k)
		case "Application":
			noun = c.application(k)
		case "WhatsApp", "Sim":
			noun = c.element(k)
		default:
			c.misplaced(k, "Dial", CodeDialNested)
			continue
		}
		counts[k.name]++
		if counts[k.name] > maxDialNouns {
			c.errorf(k, "Dial", CodeDialNested, "Dial: Invalid nested element: more than %d <%s> nouns", maxDialNouns, k.name)
			continue
		}
		d.Nouns = append(d.Nouns, noun)
	}
	for _, noun := range d.Nouns {
		if name := noun.Name(); (name == "Conference" || name == "Queue") && len(d.Nouns) > 1 {
			c.add(SeverityError, CodeDialNested, noun.Line(), "Dial", "Dial: Invalid nested element: <%s> must be the only noun in <Dial>", name)
		}
	}

	if len(d.Nouns) > 0 || counts["Number"]+counts["Client"]+counts["Sip"] > 0 {
		for _, t := range text {
			c.strayText(t, "Dial")
		}
		return d
	}
	d.Number = n.textContent()
	switch {
	case d.Number == "" && len(n.kids) > 0 && n.hasElements():
		// Every child was rejected above; nothing more to say.
	case d.Number == "":
		c.warnf(n, "Dial", CodeNumberFormat, "Dial: Invalid phone number format: <Dial> has no number or noun to dial")
	case !validPhoneNumber(d.Number):
		c.warnf(n, "Dial", CodeNumberFormat, "Dial: Invalid phone number format %q", d.Number)
	}
	return d
}

func dialRecord(e elem) string {
	v, ok := e.raw("record")
	if !ok {
		return DialDoNotRecord
	}
	switch t := strings.TrimSpace(v); {
	case strings.EqualFold(t, "true"):
		return DialRecordFromAnswer
	case strings.EqualFold(t, "false"):
		return DialDoNotRecord
	}
	for _, r := range []string{DialDoNotRecord, DialRecordFromAnswer, DialRecordFromRinging, DialRecordFromAnswerDual, DialRecordFromRingingDual} {
		if strings.EqualFold(strings.TrimSpace(v), r) {
			return r
		}
	}
	e.warn(CodeDialRecord, "Invalid record value %q; using %q", v, DialDoNotRecord)
	return DialDoNotRecord
}

// validPhoneNumber accepts an optional leading '+', digits, and the
// formatting characters space - . ( ), with 1 to 20 digits.
func validPhoneNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 1 && digits <= 20
}
