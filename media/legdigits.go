package media

import (
	"log/slog"
	"time"

	"github.com/voxgate/voxgate/media/dtmf"
)

// The RFC 4733 receiver remembers presses by (SSRC, timestamp, code) to
// drop retransmits and the repeated end packets. Some senders (SIPp
// replaying a pcap, for one) send the very same packets again for a second
// press of the same key, so EventReceiver makes the receiver forget once
// the far end has been quiet: a press's retransmits and its end packets
// arrive within tens of milliseconds, while a person presses keys hundreds
// of milliseconds apart. A telephone-event packet arriving at least
// eventForgetAfterEnd after an end packet, or at least eventForgetAfter
// after any telephone-event packet, starts with an empty memory. The price:
// a stray end packet delayed by more than that counts as a new press.
const (
	eventForgetAfterEnd = 300 * time.Millisecond
	eventForgetAfter    = time.Second
)

// EventReceiver turns a far end's RFC 4733 telephone-event packets into
// key presses, once per press, forgetting past presses after a quiet
// spell (see eventForgetAfter). The zero value is ready; only a leg's
// receive loop uses it.
type EventReceiver struct {
	events dtmf.Receiver

	// The last telephone-event packet: whether there was one, when it
	// arrived and whether it was an end packet.
	seen      bool
	lastAt    time.Time
	lastEnded bool
}

// Packet handles the telephone-event packet with payload and the given
// header fields, arriving at now, and reports the key when it is a new
// press.
func (r *EventReceiver) Packet(ssrc, timestamp uint32, marker bool, payload []byte, now time.Time) (key byte, ok bool) {
	if r.seen {
		quiet := now.Sub(r.lastAt)
		if quiet >= eventForgetAfter || (r.lastEnded && quiet >= eventForgetAfterEnd) {
			r.events.Reset()
		}
	}
	r.seen = true
	r.lastAt = now
	r.lastEnded = len(payload) >= dtmf.EventSize && payload[1]&0x80 != 0 // the E bit
	return r.events.Packet(ssrc, timestamp, marker, payload)
}

// DigitQueue is a leg's channel of DTMF digits from the far end. Pushing
// never blocks: when the reader falls behind by more than the capacity,
// digits are dropped and logged. The channel is never closed. Init it
// before use.
type DigitQueue struct {
	ch  chan Digit
	log *slog.Logger
}

// Init prepares q with room for capacity digits, logging to log.
func (q *DigitQueue) Init(capacity int, log *slog.Logger) {
	q.ch = make(chan Digit, capacity)
	q.log = log
}

// C returns the channel the digits arrive on.
func (q *DigitQueue) C() <-chan Digit { return q.ch }

// Inject adds a digit received outside the media (SIP INFO, a web page's
// keypad), reported with Via ViaSIPInfo. Bytes that are not keys (0-9 * #
// A-D, a-d accepted) are ignored.
func (q *DigitQueue) Inject(key byte) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	if _, ok := dtmf.KeyToCode(key); !ok {
		q.log.Debug("ignoring injected non-DTMF key", "key", key)
		return
	}
	q.Push(key, ViaSIPInfo, time.Now())
}

// Push delivers a digit without ever blocking the caller.
func (q *DigitQueue) Push(key byte, via DigitVia, at time.Time) {
	select {
	case q.ch <- Digit{Key: key, Via: via, At: at}:
		q.log.Debug("dtmf digit", "key", string(rune(key)), "via", via)
	default:
		q.log.Warn("dtmf channel full, digit dropped", "key", string(rune(key)), "via", via)
	}
}
