package twiml

import (
	"fmt"
	"strings"
)

// Messaging TwiML (messaging.md §1): the document a messaging webhook
// returns. Only <Message> (and its legacy name <Sms>) and <Redirect> run;
// other verbs are skipped with warning 14110.

// Messaging error codes.
const (
	CodeMessageInvalidVerb = 14110 // Invalid verb for message reply
)

// MessagingResponse is a parsed messaging document: its verbs in order.
type MessagingResponse struct {
	Verbs []MessagingVerb
}

// MessagingVerb is *Message or *MessageRedirect.
type MessagingVerb interface {
	Line() int
	messagingVerb()
}

// Message is <Message>: one outbound message. Attribute values are as
// written (the messaging engine validates numbers and URLs, which needs
// the account's numbers); Method is GET or POST (default POST).
type Message struct {
	Pos
	To, From       string
	Action         string
	Method         string
	StatusCallback string
	// Body is the text (the element's own text, or its <Body> nouns
	// joined), trimmed.
	Body string
	// Media are the <Media> URLs, in order.
	Media []string
}

// MessageRedirect is <Redirect> in a messaging document.
type MessageRedirect struct {
	Pos
	URL    string
	Method string // GET or POST (default POST)
}

func (*Message) messagingVerb()         {}
func (*MessageRedirect) messagingVerb() {}

// ParseMessaging parses a messaging document. Errors (*Error) mean nothing
// runs: 11750 body too large, 12100 not well-formed XML (an empty body
// included), 12102 root is not <Response>. Warnings are logged by the
// caller: 14110 for verbs a messaging reply cannot hold (skipped), 12200
// for unknown attributes, nouns and bad methods.
func ParseMessaging(data []byte) (*MessagingResponse, []Warning, error) {
	root, p := decodeTree(data)
	if p != nil {
		return nil, nil, p.asError()
	}
	if root.name != "Response" {
		return nil, nil, &Error{Code: CodeRootNotResponse, Line: root.line, Verb: root.name,
			Message: "Root element must be Response, not <" + root.name + ">"}
	}
	var warns []Warning
	warn := func(code int, n *node, format string, args ...any) {
		warns = append(warns, Warning{Code: code, Line: n.line, Verb: n.name, Message: fmt.Sprintf(format, args...)})
	}
	resp := &MessagingResponse{}
	for _, n := range root.kids {
		if n.isText() {
			if strings.TrimSpace(n.text) != "" {
				warn(CodeSchema, root, "Schema validation warning: text directly inside <Response> is ignored")
			}
			continue
		}
		switch n.name {
		case "Message", "Sms":
			resp.Verbs = append(resp.Verbs, parseMessageVerb(n, warn))
		case "Redirect":
			r := &MessageRedirect{Pos: Pos{LineNo: n.line}, URL: n.textContent(), Method: messagingMethod(n, warn)}
			unknownAttrs(n, warn)
			resp.Verbs = append(resp.Verbs, r)
		default:
			warn(CodeMessageInvalidVerb, n, "Invalid verb for message reply: <%s> is skipped (valid: Message, Redirect)", n.name)
		}
	}
	return resp, warns, nil
}

func parseMessageVerb(n *node, warn func(int, *node, string, ...any)) *Message {
	m := &Message{Pos: Pos{LineNo: n.line}}
	m.To, _ = n.get("to")
	m.From, _ = n.get("from")
	m.Action, _ = n.get("action")
	m.StatusCallback, _ = n.get("statusCallback")
	m.Method = messagingMethod(n, warn)
	unknownAttrs(n, warn)
	if !n.hasElements() {
		m.Body = n.textContent()
		return m
	}
	var body []string
	for _, k := range n.kids {
		switch {
		case k.isText():
			if strings.TrimSpace(k.text) != "" {
				body = append(body, strings.TrimSpace(k.text))
			}
		case k.name == "Body":
			body = append(body, k.textContent())
		case k.name == "Media":
			m.Media = append(m.Media, k.textContent())
		default:
			warn(CodeSchema, k, "Schema validation warning: <%s> is not a noun of <Message>; ignored", k.name)
		}
	}
	m.Body = strings.TrimSpace(strings.Join(body, "\n"))
	return m
}

// messagingMethod reads the method attribute (default POST).
func messagingMethod(n *node, warn func(int, *node, string, ...any)) string {
	v, ok := n.get("method")
	if !ok || v == "" {
		return "POST"
	}
	switch strings.ToUpper(v) {
	case "GET", "POST":
		return strings.ToUpper(v)
	}
	warn(CodeSchema, n, "Schema validation warning: method %q is not GET or POST; using POST", v)
	return "POST"
}

// unknownAttrs warns about attributes no getter read.
func unknownAttrs(n *node, warn func(int, *node, string, ...any)) {
	for i, a := range n.attrs {
		if (n.used != nil && n.used[i]) || isNamespaceDecl(a.name) {
			continue
		}
		warn(CodeSchema, n, "Schema validation warning: unknown attribute %q", a.name)
	}
}
