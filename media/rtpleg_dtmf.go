package media

import (
	"context"
)

// DTMF returns the channel of digits pressed by the far end, whether sent
// as telephone-event packets, as tones in the audio (when no
// telephone-event was negotiated) or through InjectDigit. It holds up to 32
// digits; when the reader falls behind further, digits are dropped and
// logged. The channel is never closed: select on Done as well.
func (l *RTPLeg) DTMF() <-chan Digit { return l.digits.C() }

// InjectDigit adds a digit received outside RTP (SIP INFO) to the DTMF
// channel. Bytes that are not keys (0-9 * # A-D, a-d accepted) are
// ignored.
func (l *RTPLeg) InjectDigit(key byte) { l.digits.Inject(key) }

// SendDTMF sends digits (0-9 * # A-D; w = 0.5 s pause, W = 1 s) and blocks
// until they are sent, ctx is cancelled or the leg ends. With a negotiated
// telephone-event payload type it sends RFC 4733 packets from the send loop,
// pausing Play audio while each digit is sent; without one it plays the
// digits as tones, as a Play would (waiting for a running Play first).
// Calls are served one at a time.
func (l *RTPLeg) SendDTMF(ctx context.Context, digits string) error {
	return l.jobs.SendDTMF(ctx, digits, l.eventPayloadType)
}

// eventPayloadType is the telephone-event payload type negotiated now (0:
// none).
func (l *RTPLeg) eventPayloadType() uint8 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eventPT
}
