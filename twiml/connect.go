package twiml

import "strings"

// Connect connects the call to a long-lived session (media stream, AI
// agent, ...) and blocks until it ends.
type Connect struct {
	Pos
	// Action is requested when the session ends; "" = none (the next verb
	// runs instead).
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// Target is the session: a *Stream, or an *Element for Room,
	// ConversationRelay, VirtualAgent, Conversation, Assistant, AiSession,
	// Autopilot. nil when missing (reported as a warning).
	Target Noun
}

// Name returns "Connect".
func (*Connect) Name() string { return "Connect" }

// Start starts background features (non-blocking): media streams, SIPREC,
// real-time transcription, call recording.
type Start struct {
	Pos
	// Action and Method ([lib] attributes) are kept; Method defaults to POST.
	Action string
	Method string
	// Features are *Stream, or *Element for Siprec, Transcription, Recording.
	Features []Noun
}

// Name returns "Start".
func (*Start) Name() string { return "Start" }

// Stop stops background features started by <Start>, identified by name.
type Stop struct {
	Pos
	// Features are *Stream, or *Element for Siprec and Transcription.
	Features []Noun
}

// Name returns "Stop".
func (*Stop) Name() string { return "Stop" }

// Values of Stream's track attribute.
const (
	TrackInbound  = "inbound_track"
	TrackOutbound = "outbound_track"
	TrackBoth     = "both_tracks"
)

// Stream is a media stream over WebSocket (<Connect><Stream> is
// bidirectional, <Start><Stream> a one-way fork).
type Stream struct {
	Pos
	// URL is the WebSocket URL (wss://, or ws:// on a private network).
	URL string
	// StreamName is the name attribute, used by <Stop> and the REST API.
	StreamName string
	// Track is TrackInbound (default), TrackOutbound or TrackBoth.
	Track string
	// StatusCallback receives stream events; "" = none.
	StatusCallback string
	// StatusCallbackMethod is "GET" or "POST", default POST.
	StatusCallbackMethod string
	// ConnectorName is kept as given.
	ConnectorName string
	// Parameters are custom <Parameter>s sent in the start message.
	Parameters []Parameter
}

// Name returns "Stream".
func (*Stream) Name() string { return "Stream" }

// Element is a noun this package keeps generically: its attributes, text
// and children as written.
type Element struct {
	Pos
	// Tag is the element name.
	Tag string
	// Attrs are the attributes in document order.
	Attrs []Parameter
	// Text is the element's own text, trimmed.
	Text string
	// Children are the nested elements.
	Children []*Element
}

// Name returns the element name.
func (e *Element) Name() string { return e.Tag }

// Attr returns the value of the named attribute.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

var (
	connectNouns = []string{"Stream", "Room", "ConversationRelay", "VirtualAgent", "Conversation", "Assistant", "AiSession", "Autopilot"}
	startNouns   = []string{"Stream", "Siprec", "Transcription", "Recording"}
	stopNouns    = []string{"Stream", "Siprec", "Transcription"}
)

func (c *converter) connect(n *node) *Connect {
	e := c.elem(n)
	cn := &Connect{
		Pos:    Pos{LineNo: n.line},
		Action: e.str("action", ""),
		Method: e.method("method", CodeSchema),
	}
	e.done()
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, "Connect")
		case !contains(connectNouns, k.name):
			c.misplaced(k, "Connect", CodeSchema)
		case cn.Target != nil:
			c.errorf(k, "Connect", CodeSchema, "Schema validation warning: <Connect> takes exactly one noun; <%s> is a second one", k.name)
		case k.name == "Stream":
			cn.Target = c.stream(k, "Connect")
		default:
			cn.Target = c.element(k)
		}
	}
	if cn.Target == nil {
		c.warnf(n, "Connect", CodeSchema, "Schema validation warning: <Connect> has nothing to connect to")
	}
	return cn
}

func (c *converter) start(n *node) *Start {
	e := c.elem(n)
	s := &Start{
		Pos:    Pos{LineNo: n.line},
		Action: e.str("action", ""),
		Method: e.method("method", CodeSchema),
	}
	e.done()
	s.Features = c.features(n, "Start", startNouns)
	return s
}

func (c *converter) stop(n *node) *Stop {
	c.elem(n).done()
	return &Stop{Pos: Pos{LineNo: n.line}, Features: c.features(n, "Stop", stopNouns)}
}

// features converts the nouns of <Start> or <Stop>.
func (c *converter) features(n *node, verb string, allowed []string) []Noun {
	var out []Noun
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, verb)
		case !contains(allowed, k.name):
			c.misplaced(k, verb, CodeStartNoun)
		case k.name == "Stream":
			out = append(out, c.stream(k, verb))
		default:
			out = append(out, c.element(k))
		}
	}
	if len(out) == 0 {
		c.warnf(n, verb, CodeSchema, "Schema validation warning: <%s> has no nouns and does nothing", verb)
	}
	return out
}

func (c *converter) stream(n *node, parent string) *Stream {
	e := c.elem(n)
	s := &Stream{
		Pos:                  Pos{LineNo: n.line},
		URL:                  e.str("url", ""),
		StreamName:           e.str("name", ""),
		Track:                e.enum("track", TrackInbound, CodeSchema, TrackInbound, TrackOutbound, TrackBoth),
		StatusCallback:       e.str("statusCallback", ""),
		StatusCallbackMethod: e.method("statusCallbackMethod", CodeSchema),
		ConnectorName:        e.str("connectorName", ""),
	}
	s.Pos, s.Parameters = c.withParameters(n, "Stream")
	lower := strings.ToLower(s.URL)
	switch {
	case parent == "Stop":
		if s.URL == "" && s.StreamName == "" {
			c.warnf(n, "Stream", CodeSchema, "Schema validation warning: <Stop><Stream> needs a name or url to identify the stream")
		}
	case s.URL == "":
		c.warnf(n, "Stream", CodeSchema, "Schema validation warning: <Stream> has no url")
	case !strings.HasPrefix(lower, "wss://") && !strings.HasPrefix(lower, "ws://"):
		c.warnf(n, "Stream", CodeSchema, "Schema validation warning: <Stream> url %q must be a wss:// WebSocket URL", shorten(s.URL))
	}
	if parent == "Connect" && s.Track != TrackInbound {
		c.warnf(n, "Stream", CodeSchema, "Schema validation warning: <Connect><Stream> only streams the inbound track; track=%q is ignored", s.Track)
		s.Track = TrackInbound
	}
	return s
}

// element keeps a noun generically; its attributes are all accepted.
func (c *converter) element(n *node) *Element {
	el := &Element{Pos: Pos{LineNo: n.line}, Tag: n.name, Text: n.textContent()}
	for _, a := range n.attrs {
		el.Attrs = append(el.Attrs, Parameter{Name: a.name, Value: a.value})
	}
	for _, k := range n.kids {
		if !k.isText() {
			el.Children = append(el.Children, c.element(k))
		}
	}
	return el
}
