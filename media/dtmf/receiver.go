package dtmf

// recentPresses is how many key presses a Receiver remembers to drop late
// duplicates.
const recentPresses = 16

// Long events are split into segments of at most 0xFFFF timestamp units
// (RFC 4733 §2.5.1.3); the next segment starts, without a marker, at the
// timestamp where the previous one ended. A segment is taken as a
// continuation when the previous one reached segmentMinDuration and the new
// timestamp is within segmentSlack of its end.
const (
	segmentMinDuration = 0xFF00
	segmentSlack       = 1600 // 200 ms at 8 kHz
)

// press is one remembered key press.
type press struct {
	ssrc        uint32
	timestamp   uint32
	maxDuration uint16
	code        uint8
	used        bool
	ended       bool
}

// Receiver turns RFC 4733 telephone-event packets into key presses, each
// reported exactly once.
//
// A press is identified by (SSRC, RTP timestamp, event code), not by
// "newer timestamp wins": SIPp's pcaps, for example, give every digit a
// fixed timestamp, so timestamps go backwards between presses, and they use
// an SSRC different from the audio stream's. A press is reported on the
// first packet seen for it (marker or not, so a lost start packet or a press
// seen only through its end packets still counts); retransmits, the
// repeated end packets and late or reordered packets of any of the last 16
// presses are dropped. A new press that reuses the timestamp and code of a
// remembered press on the same SSRC is therefore taken as a duplicate.
// Events other than the 16 DTMF keys (such as 16, hook flash) are ignored.
//
// The zero value is ready to use. Packet allocates nothing.
type Receiver struct {
	recent [recentPresses]press
	next   int // slot of recent that the next new press overwrites
}

// Packet takes the RTP SSRC, timestamp and marker bit and the payload of one
// telephone-event packet. It returns the key and true when the packet starts
// a press that has not been reported yet. Malformed payloads are ignored.
func (r *Receiver) Packet(ssrc, timestamp uint32, marker bool, payload []byte) (key byte, ok bool) {
	ev, ok := parseEvent(payload)
	if !ok {
		return 0, false
	}
	key, ok = CodeToKey(ev.Code)
	if !ok {
		return 0, false
	}
	if p := r.find(ssrc, timestamp, ev.Code); p != nil {
		p.update(ev)
		return 0, false
	}
	continuation := !marker && r.continuesSegment(ssrc, timestamp, ev.Code)
	r.remember(ssrc, timestamp, ev)
	if continuation {
		return 0, false
	}
	return key, true
}

// Reset forgets every remembered press.
func (r *Receiver) Reset() { *r = Receiver{} }

// find returns the remembered press with this identity, or nil.
func (r *Receiver) find(ssrc, timestamp uint32, code uint8) *press {
	for i := range r.recent {
		p := &r.recent[i]
		if p.used && p.ssrc == ssrc && p.timestamp == timestamp && p.code == code {
			return p
		}
	}
	return nil
}

// continuesSegment reports whether a press starting at timestamp is the
// next segment of a long event that has not ended.
func (r *Receiver) continuesSegment(ssrc, timestamp uint32, code uint8) bool {
	for i := range r.recent {
		p := &r.recent[i]
		if !p.used || p.ended || p.ssrc != ssrc || p.code != code || p.maxDuration < segmentMinDuration {
			continue
		}
		gap := int64(timestamp-p.timestamp) - int64(p.maxDuration)
		if gap >= -segmentSlack && gap <= segmentSlack {
			return true
		}
	}
	return false
}

// remember stores a new press, overwriting the oldest.
func (r *Receiver) remember(ssrc, timestamp uint32, ev Event) {
	r.recent[r.next] = press{ssrc: ssrc, timestamp: timestamp, code: ev.Code, used: true}
	r.recent[r.next].update(ev)
	r.next = (r.next + 1) % len(r.recent)
}

// update records what a packet of the press tells about its progress.
func (p *press) update(ev Event) {
	p.maxDuration = max(p.maxDuration, ev.Duration)
	p.ended = p.ended || ev.End
}
