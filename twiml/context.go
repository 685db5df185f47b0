package twiml

import (
	"fmt"
	"strings"
)

// Context is the situation a document was fetched for; some situations
// allow only a subset of verbs (twiml-voice.md §1.4).
type Context int

// The document contexts.
const (
	// Main is an ordinary call document: every verb is allowed.
	Main Context = iota
	// EnqueueWait is an <Enqueue waitUrl> document (hold music): Play, Say,
	// Pause, Hangup, Redirect, Leave, Gather (input dtmf or speech, not
	// both). Anything else ends the wait with QueueResult=error.
	EnqueueWait
	// QueueURL is a <Dial><Queue url> document played to the dequeued
	// caller before bridging: Play, Say, Pause, Redirect.
	QueueURL
	// Whisper is a <Number|Client|Sip url> document run on the called
	// party before bridging: Play, Say, Gather, Hangup, Pause, Redirect;
	// <Dial> fails with 13201.
	Whisper
	// ConferenceWait is a <Conference waitUrl> document: Play, Say, Pause,
	// Redirect; anything else fails with 13238.
	ConferenceWait
)

// String returns the context's name as used in messages.
func (ctx Context) String() string {
	switch ctx {
	case Main:
		return "main document"
	case EnqueueWait:
		return "Enqueue waitUrl"
	case QueueURL:
		return "Queue url"
	case Whisper:
		return "Dial noun url (whisper)"
	case ConferenceWait:
		return "Conference waitUrl"
	}
	return fmt.Sprintf("Context(%d)", int(ctx))
}

// allowedVerbs lists the verbs each restricted context permits.
var allowedVerbs = map[Context][]string{
	EnqueueWait:    {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"},
	QueueURL:       {"Play", "Say", "Pause", "Redirect"},
	Whisper:        {"Play", "Say", "Gather", "Hangup", "Pause", "Redirect"},
	ConferenceWait: {"Play", "Say", "Pause", "Redirect"},
}

// Allowed reports whether every verb of the document may run in ctx. The
// error is an [*Error] for the first offending verb: 13201 for <Dial> in a
// whisper document, 13238 in a Conference waitUrl, 12200 otherwise.
func (r *Response) Allowed(ctx Context) error {
	if ctx == Main {
		return nil
	}
	allowed, ok := allowedVerbs[ctx]
	if !ok {
		return &Error{Code: CodeSchema, Message: fmt.Sprintf("unknown document context %d", int(ctx))}
	}
	for _, v := range r.Verbs {
		name := v.Name()
		if !contains(allowed, name) {
			code := CodeSchema
			msg := fmt.Sprintf("Schema validation warning: <%s> is not allowed in a %s document (allowed: %s)", name, ctx, strings.Join(allowed, ", "))
			switch {
			case ctx == Whisper && name == "Dial":
				code, msg = CodeDialFromDial, "Dial: Cannot Dial out from a Dial Call Segment"
			case ctx == ConferenceWait:
				code = CodeConfWaitVerb
				msg = fmt.Sprintf("Dial->Conference: Invalid verb <%s> in waitUrl (allowed: %s)", name, strings.Join(allowed, ", "))
			}
			return &Error{Code: code, Line: v.Line(), Verb: name, Message: msg}
		}
		if g, ok := v.(*Gather); ok && ctx == EnqueueWait && g.Input.DTMF() && g.Input.Speech() {
			return &Error{Code: CodeSchema, Line: g.Line(), Verb: "Gather", Message: fmt.Sprintf(
				"Schema validation warning: <Gather> in an %s document takes input dtmf or speech, not both", ctx)}
		}
	}
	return nil
}
