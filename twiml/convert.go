package twiml

import (
	"fmt"
	"sort"
	"strings"
)

// converter turns the element tree into typed verbs, collecting problems.
type converter struct {
	problems []Problem
}

func (c *converter) add(sev Severity, code, line int, verb, format string, args ...any) {
	c.problems = append(c.problems, Problem{Severity: sev, Code: code, Line: line, Verb: verb, Message: fmt.Sprintf(format, args...)})
}

// errorf records a problem that stops the document from running.
func (c *converter) errorf(n *node, verb string, code int, format string, args ...any) {
	c.add(SeverityError, code, n.line, verb, format, args...)
}

// warnf records a problem Twilio only warns about.
func (c *converter) warnf(n *node, verb string, code int, format string, args ...any) {
	c.add(SeverityWarning, code, n.line, verb, format, args...)
}

// sortedProblems returns the problems in line order (stable within a line).
func (c *converter) sortedProblems() []Problem {
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
	return c.problems
}

// response converts the root element.
func (c *converter) response(root *node) *Response {
	if root.name != "Response" {
		c.errorf(root, "", CodeRootNotResponse, "Root element must be Response, not <%s>%s", root.name, caseHint(root.name, "Response"))
		return nil
	}
	root.get("version") // legacy attribute: accepted and ignored (§1.1)
	c.unknownAttrs(root, "Response")
	r := &Response{}
	for _, k := range root.kids {
		if k.isText() {
			c.strayText(k, "Response")
			continue
		}
		if v := c.topVerb(k); v != nil {
			r.Verbs = append(r.Verbs, v)
		}
	}
	return r
}

// topVerb converts an element directly inside <Response>; nil means it was
// rejected (an error has been recorded).
func (c *converter) topVerb(n *node) Verb {
	switch n.name {
	case "Say":
		return c.say(n, "")
	case "Play":
		return c.play(n, "")
	case "Pause":
		return c.pause(n)
	case "Gather":
		return c.gather(n)
	case "Record":
		return c.record(n)
	case "Dial":
		return c.dial(n)
	case "Enqueue":
		return c.enqueue(n)
	case "Leave":
		return &Leave{Pos: c.simple(n, "Leave", false)}
	case "Hangup":
		h := &Hangup{}
		h.Pos, h.Parameters = c.withParameters(n, "Hangup")
		return h
	case "Redirect":
		return c.redirect(n)
	case "Reject":
		return c.reject(n)
	case "Refer":
		return c.refer(n)
	case "Connect":
		return c.connect(n)
	case "Start":
		return c.start(n)
	case "Stop":
		return c.stop(n)
	case "Pay":
		return c.pay(n)
	case "Echo":
		return &Echo{Pos: c.simple(n, "Echo", false)}
	case "Sms":
		c.errorf(n, "Response", CodeSchema, "Schema validation warning: <Sms> in a voice document is a legacy verb Voxgate does not support; send messages through the Messaging API")
		return nil
	case "Prompt":
		c.errorf(n, "Response", CodeSchema, "Schema validation warning: <Prompt> is only allowed inside <Pay>")
		return nil
	}
	c.misplaced(n, "Response", CodeSchema)
	return nil
}

// verbNames lists every verb <Response> may contain; nounNames the nouns.
var (
	verbNames = []string{"Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Hangup",
		"Redirect", "Reject", "Refer", "Connect", "Start", "Stop", "Pay", "Echo", "Prompt", "Sms"}
	nounNames = []string{"Number", "Client", "Sip", "Conference", "Queue", "Application", "WhatsApp", "Sim",
		"Identity", "Parameter", "Task", "Stream", "Siprec", "Transcription", "Recording", "Room",
		"ConversationRelay", "VirtualAgent", "Conversation", "Assistant", "AiSession", "Autopilot",
		"ApplicationSid", "Language", "Config", "Uri", "Headers", "Header"}
)

// misplaced records an element that may not appear inside parent. With a
// verb-specific code the message is Twilio's ("Gather: Invalid nested verb
// <Dial>"); otherwise it explains the schema rule.
func (c *converter) misplaced(n *node, parent string, code int) {
	known := contains(verbNames, n.name) || contains(nounNames, n.name) || contains(ssmlElements, n.name)
	switch code {
	case CodeGatherNested:
		c.errorf(n, parent, code, "Gather: Invalid nested verb <%s>%s", n.name, knownCaseHint(n.name))
		return
	case CodeDialNested:
		c.errorf(n, parent, code, "Dial: Invalid nested element <%s>%s", n.name, knownCaseHint(n.name))
		return
	case CodeStartNoun:
		c.errorf(n, parent, code, "%s: Invalid nested noun value <%s>%s", parent, n.name, knownCaseHint(n.name))
		return
	}
	switch {
	case parent == "Response" && contains(nounNames, n.name):
		c.errorf(n, parent, code, "Schema validation warning: <%s> is a noun and cannot be used as a verb in <Response>", n.name)
	case known:
		c.errorf(n, parent, code, "Schema validation warning: <%s> is not allowed inside <%s>", n.name, parent)
	default:
		c.errorf(n, parent, code, "Schema validation warning: unknown element <%s>%s", n.name, knownCaseHint(n.name))
	}
}

// knownCaseHint suggests the right spelling when name differs from a known
// element only in letter case (element names are case-sensitive).
func knownCaseHint(name string) string {
	for _, list := range [][]string{verbNames, nounNames} {
		for _, known := range list {
			if h := caseHint(name, known); h != "" {
				return h
			}
		}
	}
	return ""
}

func caseHint(got, want string) string {
	if got != want && strings.EqualFold(got, want) {
		return " (names are case-sensitive: did you mean <" + want + ">?)"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// strayText warns about non-blank text where only elements belong.
func (c *converter) strayText(k *node, parent string) {
	if t := strings.TrimSpace(k.text); t != "" {
		c.warnf(k, parent, CodeSchema, "Schema validation warning: text %q inside <%s> is ignored", shorten(t), parent)
	}
}

// unknownAttrs warns about attributes no converter read.
func (c *converter) unknownAttrs(n *node, verb string) {
	for i, a := range n.attrs {
		if (n.used != nil && n.used[i]) || isNamespaceDecl(a.name) {
			continue
		}
		c.warnf(n, verb, CodeSchema, "Schema validation warning: unknown attribute %q on <%s> is ignored%s", a.name, n.name, attrCaseHint(n, i))
	}
}

// attrCaseHint suggests the attribute a converter looked for when the
// unread attribute i differs from it only in letter case.
func attrCaseHint(n *node, i int) string {
	if n.hints != nil && n.hints[i] != "" {
		return " (attribute names are case-sensitive: did you mean " + n.hints[i] + "?)"
	}
	return ""
}

// simple handles an element that takes no attributes (beyond those already
// read), no text and no children. allowText lets text through silently.
func (c *converter) simple(n *node, verb string, allowText bool) Pos {
	c.unknownAttrs(n, verb)
	for _, k := range n.kids {
		if k.isText() {
			if !allowText {
				c.strayText(k, verb)
			}
			continue
		}
		c.misplaced(k, verb, CodeSchema)
	}
	return Pos{LineNo: n.line}
}

// withParameters handles an element whose only children are <Parameter>s.
func (c *converter) withParameters(n *node, verb string) (Pos, []Parameter) {
	c.unknownAttrs(n, verb)
	var params []Parameter
	for _, k := range n.kids {
		switch {
		case k.isText():
			c.strayText(k, verb)
		case k.name == "Parameter":
			params = append(params, c.parameter(k))
		default:
			c.misplaced(k, verb, CodeSchema)
		}
	}
	return Pos{LineNo: n.line}, params
}

// parameter converts <Parameter name="" value=""/>.
func (c *converter) parameter(n *node) Parameter {
	name, _ := n.get("name")
	value, _ := n.get("value")
	c.simple(n, "Parameter", false)
	if strings.TrimSpace(name) == "" {
		c.warnf(n, "Parameter", CodeSchema, "Schema validation warning: <Parameter> without a name is ignored by the receiver")
	}
	return Parameter{Name: name, Value: value}
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
