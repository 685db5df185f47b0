package webrtc

import (
	"context"

	"github.com/voxgate/voxgate/media"
)

// DTMF returns the channel of digits pressed by the agent: keys from the
// page's keypad (InjectDigit) and RFC 4733 telephone-event packets. It
// holds up to 32 digits; when the reader falls behind further, digits are
// dropped and logged. The channel is never closed: select on Done as well.
func (l *Leg) DTMF() <-chan media.Digit { return l.digits.C() }

// InjectDigit adds a key the page sent over the signalling channel to the
// DTMF channel. It is reported with Via media.ViaSIPInfo, the out-of-band
// signalling kind. Bytes that are not keys (0-9 * # A-D, a-d accepted) are
// ignored.
func (l *Leg) InjectDigit(key byte) { l.digits.Inject(key) }

// SendDTMF sends digits (0-9 * # A-D; w = 0.5 s pause, W = 1 s) to the
// browser and blocks until they are sent, ctx is cancelled or the leg
// ends. With telephone-event negotiated it sends RFC 4733 packets,
// pausing Play audio while each digit is sent; otherwise it plays the
// digits as tones, as a Play would. Calls are served one at a time.
func (l *Leg) SendDTMF(ctx context.Context, digits string) error {
	return l.jobs.SendDTMF(ctx, digits, l.eventPayloadType)
}

// eventPayloadType is the telephone-event payload type of the track's
// binding now (0: none, or not bound).
func (l *Leg) eventPayloadType() uint8 { return l.track.binding().eventPT }
