package ivr

import (
	"errors"
	"fmt"
)

var (
	// errHangup ends the document: the call is over (hung up, rejected, gone).
	errHangup = errors.New("ivr: call over")
	// errInterrupted ends the document: a live redirect replaces it.
	errInterrupted = errors.New("ivr: redirected")
)

// verbError is a failure while running a verb, with its Twilio code.
type verbError struct {
	code int
	err  error
}

func (e *verbError) Error() string   { return fmt.Sprintf("%d: %v", e.code, e.err) }
func (e *verbError) Unwrap() error   { return e.err }
func (e *verbError) TwilioCode() int { return e.code }

// twilioCoder is an error that knows its Twilio error code: the
// *webhook.Error of a failed fetch, the *twiml.Error of a bad document,
// a verb's *verbError.
type twilioCoder interface {
	error
	TwilioCode() int
}

// errorCode is the Twilio error code of err (12400 if it has none).
func errorCode(err error) int {
	if tc, ok := errors.AsType[twilioCoder](err); ok {
		return tc.TwilioCode()
	}
	return 12400
}
