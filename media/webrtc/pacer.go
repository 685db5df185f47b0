package webrtc

import "time"

// maxCatchUpFrames is how many overdue frames the send loop still sends
// back to back after waking late; beyond that it skips frames rather than
// bursting them.
const maxCatchUpFrames = 3

// pacer is the send loop's clock: frame n is due at start + n*interval,
// so lateness in one tick never shifts later ones. Only the send loop
// uses it.
type pacer struct {
	start    time.Time
	interval time.Duration
	next     int64 // index of the next frame due
}

// deadline is when the next frame is due.
func (p *pacer) deadline() time.Time {
	return p.start.Add(time.Duration(p.next) * p.interval)
}

// tick is called when the timer for deadline fired, at now. It returns
// the index of the frame to send and whether frames before it were
// skipped because the caller woke too late.
func (p *pacer) tick(now time.Time) (frame int64, skipped bool) {
	if now.Sub(p.deadline()) > maxCatchUpFrames*p.interval {
		due := int64(now.Sub(p.start) / p.interval)
		skipped = due > p.next
		p.next = due
	}
	frame = p.next
	p.next++
	return frame, skipped
}
