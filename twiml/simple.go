package twiml

import "strings"

// Hangup ends the call.
type Hangup struct {
	Pos
	// Parameters are <Parameter> children (helper libraries allow them);
	// the engine may map them to headers on the BYE.
	Parameters []Parameter
}

// Name returns "Hangup".
func (*Hangup) Name() string { return "Hangup" }

// Echo loops the caller's audio back until hangup (undocumented by Twilio,
// present in the helper libraries).
type Echo struct{ Pos }

// Name returns "Echo".
func (*Echo) Name() string { return "Echo" }

// Redirect replaces the document with the one at URL.
type Redirect struct {
	Pos
	// URL is the element text, trimmed; absolute or relative to the
	// current document.
	URL string
	// Method is "GET" or "POST", default POST.
	Method string
}

// Name returns "Redirect".
func (*Redirect) Name() string { return "Redirect" }

// Values of Reject's reason attribute.
const (
	RejectRejected = "rejected"
	RejectBusy     = "busy"
)

// Reject refuses the call (unanswered when it is the first verb).
type Reject struct {
	Pos
	// Reason is RejectRejected (default) or RejectBusy.
	Reason string
	// Parameters are <Parameter> children (helper libraries allow them).
	Parameters []Parameter
}

// Name returns "Reject".
func (*Reject) Name() string { return "Reject" }

func (c *converter) redirect(n *node) *Redirect {
	e := c.elem(n)
	r := &Redirect{Method: e.method("method", CodeRedirectMethod)}
	r.Pos = c.simple(n, "Redirect", true)
	r.URL = n.textContent()
	if r.URL == "" {
		c.warnf(n, "Redirect", CodeInvalidURL, "Invalid URL format: <Redirect> has no URL (it would re-request the current document)")
	}
	return r
}

func (c *converter) reject(n *node) *Reject {
	e := c.elem(n)
	r := &Reject{Reason: e.enum("reason", RejectRejected, CodeSchema, RejectRejected, RejectBusy)}
	r.Pos, r.Parameters = c.withParameters(n, "Reject")
	return r
}

func trimmed(s string) string { return strings.TrimSpace(s) }
