package ivr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Dialer places outbound call legs (the SIP layer implements it).
type Dialer interface {
	// Dial rings req.To and returns the answered leg, or a *DialFailure
	// saying why it was not answered.
	Dial(ctx context.Context, req DialRequest) (Call, error)
}

// DialRequest describes an outbound leg.
type DialRequest struct {
	CallSID   string // the new leg's CA SID
	ParentSID string // the call that dials, for <Dial> legs
	// To is a SIP URI ("sip:alice@host"), a number (routed through a
	// trunk) or "client:NAME".
	To                 string
	From               string // caller ID
	Username, Password string // SIP digest credentials
	Headers            map[string]string
	Timeout            time.Duration // ring time
	// OnRinging is called when the far end rings (early: with early media).
	OnRinging func(early bool)
	// OnEarlyMedia, when set, is given the leg once the far end's early
	// media starts (SIP 183 with SDP): its audio can be heard (Record)
	// before the answer. It must not block.
	OnEarlyMedia func(leg media.Leg)
}

// DialFailure is why an outbound leg was not answered.
type DialFailure struct {
	Status string // busy, no-answer, failed, canceled
	Code   int    // SIP final response code, 0 if none
	Reason string
}

func (f *DialFailure) Error() string {
	return fmt.Sprintf("dial %s (SIP %d %s)", f.Status, f.Code, f.Reason)
}

// dialStatus is the Twilio status for a failed Dial error.
func dialStatus(err error) string {
	var f *DialFailure
	if errors.As(err, &f) {
		return f.Status
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "failed"
}
