package ivr

import (
	"errors"
	"fmt"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/twiml"
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

func (e *verbError) Error() string { return fmt.Sprintf("%d: %v", e.code, e.err) }
func (e *verbError) Unwrap() error { return e.err }

// errorCode extracts the Twilio error code of err (12400 if it has none).
func errorCode(err error) int {
	var we *webhook.Error
	if errors.As(err, &we) {
		return we.Code
	}
	var te *twiml.Error
	if errors.As(err, &te) {
		return te.Code
	}
	var ve *verbError
	if errors.As(err, &ve) {
		return ve.code
	}
	return 12400
}
