package ivr

import (
	"fmt"
	"reflect"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/twiml"
)

// A verb is one TwiML verb of a document as the engine runs it. For every
// verb of a document the engine makes a fresh value with the constructor
// registered for the verb's TwiML type (see registerVerb) and calls run
// once; the value holds whatever state the verb needs while it runs. run
// returns what to do next: next{} goes on with the document's next verb,
// next{req: …} fetches and runs another document (an action URL); an
// error ends the document (errHangup, errInterrupted, or a failure that
// takes the application-error path with its Twilio code).
//
// A verb talks to the call only through the session's verb API (see
// verbapi.go): the leg, answer and hang-up, fetches and action requests,
// the call's parameters and status, the clock, the logger and the
// engine's services.
type verb interface {
	run(s *session) (next, error)
}

// An earlyVerb may run while the call is still unanswered (<Pause>,
// <Reject>): the engine then leaves answering to it instead of answering
// first. first is set for the document's first verb.
type earlyVerb interface {
	verb
	runUnanswered(s *session, first bool) (next, error)
}

// verbBuilder makes the verb value that runs one TwiML verb.
type verbBuilder func(twiml.Verb) verb

// verbCase is a constructor that takes only the TwiML verbs it matches.
type verbCase struct {
	match func(twiml.Verb) bool
	build verbBuilder
}

// verbs maps a TwiML verb type to its constructors. It is filled by the
// init functions of the verb files and only read afterwards.
var verbs = struct {
	plain map[reflect.Type]verbBuilder
	cases map[reflect.Type][]verbCase // tried before plain, in registration order
}{map[reflect.Type]verbBuilder{}, map[reflect.Type][]verbCase{}}

// registerVerb makes build the constructor for every TwiML verb of type T
// (a pointer to one of package twiml's verb structs). Each verb file calls
// it from its init function: adding a verb is adding a file.
func registerVerb[T twiml.Verb](build func(T) verb) {
	t := reflect.TypeFor[T]()
	if _, dup := verbs.plain[t]; dup {
		panic(fmt.Sprintf("ivr: verb %v registered twice", t))
	}
	verbs.plain[t] = func(v twiml.Verb) verb { return build(v.(T)) }
}

// registerVerbWhen makes build the constructor for the TwiML verbs of type
// T that match reports true for, ahead of registerVerb's: a variant of a
// verb in a file of its own (say, <Enqueue workflowSid> beside <Enqueue>,
// or <Gather input="speech"> beside the DTMF <Gather>).
func registerVerbWhen[T twiml.Verb](match func(T) bool, build func(T) verb) {
	t := reflect.TypeFor[T]()
	verbs.cases[t] = append(verbs.cases[t], verbCase{
		match: func(v twiml.Verb) bool { return match(v.(T)) },
		build: func(v twiml.Verb) verb { return build(v.(T)) },
	})
}

// newVerb makes the verb value for v, or fails with 12200 when this
// gateway has no verb of its type.
func newVerb(v twiml.Verb) (verb, error) {
	t := reflect.TypeOf(v)
	for _, c := range verbs.cases[t] {
		if c.match(v) {
			return c.build(v), nil
		}
	}
	if build, ok := verbs.plain[t]; ok {
		return build(v), nil
	}
	return nil, &verbError{code: 12200, err: fmt.Errorf("<%s> (line %d) is not supported by Voxgate yet", v.Name(), v.Line())}
}

// next is what a verb asks the interpreter to do after it.
type next struct {
	req    *webhook.Request // fetch and run this document instead of going on
	doc    *twiml.Response  // or run this one (inline TwiML)
	hangup bool             // or end the call (REST hang-up)
}
