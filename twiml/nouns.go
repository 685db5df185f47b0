package twiml

import (
	"strings"
	"unicode/utf8"
)

// LegOptions are the attributes every dialled-party noun (Number, Client,
// Sip, Application) shares.
type LegOptions struct {
	// URL is TwiML run on the called party before bridging (whisper /
	// screening; restricted to the Whisper context); "" = none.
	URL string
	// Method for URL: "GET" or "POST", default POST.
	Method string
	// StatusCallback receives call-progress events of the child leg.
	StatusCallback string
	// StatusCallbackMethod is "GET" or "POST", default POST.
	StatusCallbackMethod string
	// StatusCallbackEvents: "initiated", "ringing", "answered",
	// "completed"; default ["completed"] when StatusCallback is set, else nil.
	StatusCallbackEvents []string
}

// MachineDetection holds the answering-machine-detection attributes of
// <Number> and <Sip>.
type MachineDetection struct {
	// Mode is "Enable", "DetectMessageEnd", or "" (off, the default).
	Mode string
	// Timeout in seconds, 3-60, default 30.
	Timeout int
	// SpeechThreshold in milliseconds, 1000-6000, default 2400.
	SpeechThreshold int
	// SpeechEndThreshold in milliseconds, 500-5000, default 1200.
	SpeechEndThreshold int
	// SilenceTimeout in milliseconds, 2000-10000, default 5000.
	SilenceTimeout int
	// StatusCallback receives the AMD result asynchronously; "" = none.
	StatusCallback string
	// StatusCallbackMethod is "GET" or "POST", default POST.
	StatusCallbackMethod string
}

// Number is a phone number to dial.
type Number struct {
	Pos
	// Number is the element text as written (E.164 preferred; formatting
	// characters allowed).
	Number string
	// SendDigits are DTMF keys sent after answer (0-9 A-D * # w W).
	SendDigits string
	// BYOC is a trunk SID; "" = default routing.
	BYOC string
	LegOptions
	// AMD configures answering-machine detection.
	AMD MachineDetection
}

// Name returns "Number".
func (*Number) Name() string { return "Number" }

// Client is a registered softphone / SDK client.
type Client struct {
	Pos
	// Identity is the client name (element text, or the <Identity> child).
	Identity string
	// Parameters are custom <Parameter>s passed to the client.
	Parameters []Parameter
	// ClientNotificationURL is accepted and kept; "" = none.
	ClientNotificationURL string
	LegOptions
}

// Name returns "Client".
func (*Client) Name() string { return "Client" }

// Sip is a SIP URI to dial.
type Sip struct {
	Pos
	// URI is the SIP URI (element text, or a <Uri> child), with any
	// ";transport=" parameters and "?header=value" headers as written.
	URI string
	// Username and Password authenticate against the far end (digest).
	Username string
	Password string
	// Headers are <Headers><Header name value/></Headers> children, if any.
	Headers []Parameter
	LegOptions
	// AMD configures answering-machine detection.
	AMD MachineDetection
}

// Name returns "Sip".
func (*Sip) Name() string { return "Sip" }

// Conference joins a named conference room.
type Conference struct {
	Pos
	// Room is the conference name (element text).
	Room string
	// Muted joins muted; default false.
	Muted bool
	// Beep is "true" (default), "false", "onEnter" or "onExit".
	Beep string
	// StartConferenceOnEnter starts the conference when this participant
	// joins; default true.
	StartConferenceOnEnter bool
	// EndConferenceOnExit ends it when this participant leaves; default false.
	EndConferenceOnExit bool
	// WaitURL is the hold TwiML/audio before the conference starts (runs in
	// the ConferenceWait context). Meaningful only when HasWaitURL.
	WaitURL string
	// HasWaitURL is false when waitUrl is absent (use the built-in hold
	// music); true with WaitURL == "" means silence.
	HasWaitURL bool
	// WaitMethod is "GET" or "POST", default POST.
	WaitMethod string
	// MaxParticipants is 2-250, default 250.
	MaxParticipants int
	// Record is "do-not-record" (default) or "record-from-start".
	Record string
	// Trim is TrimSilence (default) or DoNotTrim.
	Trim string
	// RecordingChannels is "mono" (default) or "dual": a Voxgate
	// extension (Twilio records conferences mono) whose channel 1 is this
	// participant and channel 2 what it hears from the room.
	RecordingChannels string
	// Region, Coach (a CallSid), ParticipantLabel, JitterBufferSize
	// ("large", "medium", "small", "off") and EventCallbackURL are kept
	// as given; "" when absent.
	Region, Coach, ParticipantLabel, JitterBufferSize, EventCallbackURL string
	// StatusCallback receives conference events; "" = none.
	StatusCallback string
	// StatusCallbackMethod is "GET" or "POST", default POST.
	StatusCallbackMethod string
	// StatusCallbackEvents: start end join leave mute hold modify speaker
	// announcement; nil when absent.
	StatusCallbackEvents []string
	// RecordingStatusCallback, its method (default POST) and events
	// (default ["completed"]).
	RecordingStatusCallback       string
	RecordingStatusCallbackMethod string
	RecordingStatusCallbackEvents []string
}

// Name returns "Conference".
func (*Conference) Name() string { return "Conference" }

// Queue dequeues the front caller of a named queue and bridges it.
type Queue struct {
	Pos
	// QueueName is the queue (element text).
	QueueName string
	// URL is TwiML run on the dequeued caller before bridging (QueueURL
	// context); "" = none.
	URL string
	// Method for URL: "GET" or "POST", default POST.
	Method string
	// ReservationSID and PostWorkActivitySID are TaskRouter attributes,
	// kept as given.
	ReservationSID      string
	PostWorkActivitySID string
}

// Name returns "Queue".
func (*Queue) Name() string { return "Queue" }

// Application dials another TwiML application.
type Application struct {
	Pos
	// SID is the application SID (element text, or <ApplicationSid>).
	SID string
	// CustomerID identifies the caller to the application.
	CustomerID string
	// CopyParentTo passes the parent call's To along; default false.
	CopyParentTo bool
	// Parameters are custom <Parameter>s.
	Parameters []Parameter
	LegOptions
}

// Name returns "Application".
func (*Application) Name() string { return "Application" }

var legEvents = []string{"initiated", "ringing", "answered", "completed"}

// legOptions reads the shared dialled-party attributes.
func legOptions(e elem, methodCode int) LegOptions {
	o := LegOptions{
		URL:                  e.str("url", ""),
		Method:               e.method("method", methodCode),
		StatusCallback:       e.str("statusCallback", ""),
		StatusCallbackMethod: e.method("statusCallbackMethod", methodCode),
	}
	var def []string
	if o.StatusCallback != "" {
		def = []string{"completed"}
	}
	o.StatusCallbackEvents = e.list("statusCallbackEvent", def, CodeSchema, legEvents...)
	return o
}

func machineDetection(e elem) MachineDetection {
	return MachineDetection{
		Mode:                 e.enum("machineDetection", "", CodeSchema, "Enable", "DetectMessageEnd"),
		Timeout:              e.clamped("machineDetectionTimeout", 30, 3, 60, CodeSchema),
		SpeechThreshold:      e.clamped("machineDetectionSpeechThreshold", 2400, 1000, 6000, CodeSchema),
		SpeechEndThreshold:   e.clamped("machineDetectionSpeechEndThreshold", 1200, 500, 5000, CodeSchema),
		SilenceTimeout:       e.clamped("machineDetectionSilenceTimeout", 5000, 2000, 10000, CodeSchema),
		StatusCallback:       e.str("amdStatusCallback", ""),
		StatusCallbackMethod: e.method("amdStatusCallbackMethod", CodeSchema),
	}
}

func (c *converter) number(n *node) *Number {
	e := c.elem(n)
	e.label = "Dial->Number"
	num := &Number{
		Pos:        Pos{LineNo: n.line},
		BYOC:       e.str("byoc", ""),
		LegOptions: legOptions(e, CodeNumberMethod),
		AMD:        machineDetection(e),
	}
	if v, ok := e.raw("sendDigits"); ok {
		num.SendDigits = c.dtmf(n, "Number", "Dial->Number", CodeNumberSendDigits, v)
	}
	c.simple(n, "Number", true)
	num.Number = n.textContent()
	switch {
	case num.Number == "":
		c.warnf(n, "Number", CodeNumberFormat, "Dial: Invalid phone number format: <Number> is empty")
	case !validPhoneNumber(num.Number):
		c.warnf(n, "Number", CodeNumberFormat, "Dial: Invalid phone number format %q", num.Number)
	}
	return num
}

// maxClientIdentity is the longest client identity Twilio accepts.
const maxClientIdentity = 256

func (c *converter) client(n *node) *Client {
	e := c.elem(n)
	e.label = "Dial->Client"
	cl := &Client{
		Pos:                   Pos{LineNo: n.line},
		ClientNotificationURL: e.str("clientNotificationUrl", ""),
		LegOptions:            legOptions(e, CodeDialMethod),
	}
	e.done()
	identityChild := ""
	for _, k := range n.kids {
		switch {
		case k.isText():
		case k.name == "Identity":
			c.simple(k, "Identity", true)
			identityChild = k.textContent()
		case k.name == "Parameter":
			cl.Parameters = append(cl.Parameters, c.parameter(k))
		default:
			c.misplaced(k, "Client", CodeSchema)
		}
	}
	cl.Identity = n.textContent()
	if identityChild != "" {
		if cl.Identity != "" {
			c.warnf(n, "Client", CodeSchema, "Schema validation warning: <Client> has both text and <Identity>; using <Identity>")
		}
		cl.Identity = identityChild
	}
	switch l := utf8.RuneCountInString(cl.Identity); {
	case l == 0:
		c.warnf(n, "Client", CodeSchema, "Schema validation warning: <Client> has no identity")
	case l > maxClientIdentity:
		c.warnf(n, "Client", CodeSchema, "Schema validation warning: client identity longer than %d characters", maxClientIdentity)
	}
	return cl
}

// maxSipURI is the longest SIP URI Twilio accepts.
const maxSipURI = 255

func (c *converter) sip(n *node) *Sip {
	e := c.elem(n)
	e.label = "Dial->Sip"
	s := &Sip{
		Pos:        Pos{LineNo: n.line},
		Username:   e.str("username", ""),
		Password:   e.str("password", ""),
		LegOptions: legOptions(e, CodeDialMethod),
		AMD:        machineDetection(e),
	}
	e.done()
	uriChild := ""
	for _, k := range n.kids {
		switch {
		case k.isText():
		case k.name == "Uri":
			ke := c.elem(k)
			if s.Username == "" {
				s.Username = ke.str("username", "")
			}
			if s.Password == "" {
				s.Password = ke.str("password", "")
			}
			c.simple(k, "Uri", true)
			uriChild = k.textContent()
		case k.name == "Headers":
			c.unknownAttrs(k, "Headers")
			for _, h := range k.kids {
				switch {
				case h.isText():
					c.strayText(h, "Headers")
				case h.name == "Header":
					s.Headers = append(s.Headers, c.parameter(h))
				default:
					c.misplaced(h, "Headers", CodeSchema)
				}
			}
		default:
			c.misplaced(k, "Sip", CodeSchema)
		}
	}
	s.URI = n.textContent()
	if s.URI == "" {
		s.URI = uriChild
	}
	c.checkSipURI(n, "Sip", s.URI)
	return s
}

// checkSipURI warns about a missing or malformed SIP URI.
func (c *converter) checkSipURI(n *node, verb, uri string) {
	lower := strings.ToLower(uri)
	switch {
	case uri == "":
		c.warnf(n, verb, CodeSchema, "Schema validation warning: <Sip> has no SIP URI")
	case !strings.HasPrefix(lower, "sip:") && !strings.HasPrefix(lower, "sips:"):
		c.warnf(n, verb, CodeSchema, "Schema validation warning: SIP URI %q must start with sip: or sips:", shorten(uri))
	case len(uri) > maxSipURI:
		c.warnf(n, verb, CodeSchema, "Schema validation warning: SIP URI longer than %d characters", maxSipURI)
	}
}

func (c *converter) conference(n *node) *Conference {
	e := c.elem(n)
	e.label = "Dial->Conference"
	waitURL, hasWait := e.raw("waitUrl")
	cf := &Conference{
		Pos:                           Pos{LineNo: n.line},
		Muted:                         e.boolean("muted", false, CodeConfMuted),
		Beep:                          e.enum("beep", "true", CodeConfBeep, "true", "false", "onEnter", "onExit"),
		StartConferenceOnEnter:        e.boolean("startConferenceOnEnter", true, CodeConfStartOnEnter),
		EndConferenceOnExit:           e.boolean("endConferenceOnExit", false, CodeConfEndOnExit),
		WaitURL:                       strings.TrimSpace(waitURL),
		HasWaitURL:                    hasWait,
		WaitMethod:                    e.method("waitMethod", CodeConfWaitMethod),
		MaxParticipants:               e.clamped("maxParticipants", 250, 2, 250, CodeSchema),
		Record:                        e.enum("record", "do-not-record", CodeSchema, "do-not-record", "record-from-start"),
		Trim:                          conferenceTrim(e),
		RecordingChannels:             e.enum("recordingChannels", "mono", CodeSchema, "mono", "dual"),
		Region:                        e.str("region", ""),
		Coach:                         e.str("coach", ""),
		ParticipantLabel:              e.str("participantLabel", ""),
		JitterBufferSize:              e.enum("jitterBufferSize", "", CodeSchema, "large", "medium", "small", "off"),
		EventCallbackURL:              e.str("eventCallbackUrl", ""),
		StatusCallback:                e.str("statusCallback", ""),
		StatusCallbackMethod:          e.method("statusCallbackMethod", CodeDialMethod),
		StatusCallbackEvents:          e.list("statusCallbackEvent", nil, CodeSchema, "start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"),
		RecordingStatusCallback:       e.str("recordingStatusCallback", ""),
		RecordingStatusCallbackMethod: e.method("recordingStatusCallbackMethod", CodeDialMethod),
		RecordingStatusCallbackEvents: recordingEvents(e),
	}
	c.simple(n, "Conference", true)
	cf.Room = n.textContent()
	if cf.Room == "" {
		c.warnf(n, "Conference", CodeSchema, "Schema validation warning: <Conference> has no room name")
	}
	return cf
}

// conferenceTrim accepts trim-silence, do-not-trim, true and false (13239).
func conferenceTrim(e elem) string {
	switch v := e.enum("trim", TrimSilence, CodeConfTrim, TrimSilence, DoNotTrim, "true", "false"); v {
	case "true":
		return TrimSilence
	case "false":
		return DoNotTrim
	default:
		return v
	}
}

func (c *converter) queue(n *node) *Queue {
	e := c.elem(n)
	e.label = "Dial->Queue"
	q := &Queue{
		Pos:                 Pos{LineNo: n.line},
		URL:                 e.str("url", ""),
		Method:              e.method("method", CodeDialMethod),
		ReservationSID:      e.str("reservationSid", ""),
		PostWorkActivitySID: e.str("postWorkActivitySid", ""),
	}
	c.simple(n, "Queue", true)
	q.QueueName = n.textContent()
	if q.QueueName == "" {
		c.warnf(n, "Queue", CodeSchema, "Schema validation warning: <Queue> has no queue name")
	}
	return q
}

func (c *converter) application(n *node) *Application {
	e := c.elem(n)
	e.label = "Dial->Application"
	a := &Application{
		Pos:          Pos{LineNo: n.line},
		CustomerID:   e.str("customerId", ""),
		CopyParentTo: e.boolean("copyParentTo", false, CodeSchema),
		LegOptions:   legOptions(e, CodeDialMethod),
	}
	e.done()
	for _, k := range n.kids {
		switch {
		case k.isText():
		case k.name == "ApplicationSid":
			c.simple(k, "ApplicationSid", true)
			a.SID = k.textContent()
		case k.name == "Parameter":
			a.Parameters = append(a.Parameters, c.parameter(k))
		default:
			c.misplaced(k, "Application", CodeSchema)
		}
	}
	if t := n.textContent(); t != "" {
		a.SID = t
	}
	if a.SID == "" {
		c.warnf(n, "Application", CodeSchema, "Schema validation warning: <Application> has no application SID")
	}
	return a
}
