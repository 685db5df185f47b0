package media

import "time"

// maxCatchUpFrames is how many overdue frames a pacer still sends back to
// back. When the sending goroutine wakes up later than this (GC pause, an
// overloaded host) the pacer skips the missed frames instead of bursting
// them: the RTP timestamp jumps, the far end's jitter buffer sees a gap.
const maxCatchUpFrames = 3

// pacer is the clock of a send loop: frame n is due at start + n*interval,
// an absolute deadline, so lateness in one tick never shifts later ones and
// drift never accumulates. It is not safe for concurrent use; the send loop
// owns it.
type pacer struct {
	start    time.Time
	interval time.Duration
	next     int64 // index of the next frame due
}

func newPacer(start time.Time, interval time.Duration) pacer {
	return pacer{start: start, interval: interval}
}

// Deadline is when the next frame is due.
func (p *pacer) Deadline() time.Time {
	return p.start.Add(time.Duration(p.next) * p.interval)
}

// Tick is called when the timer for Deadline fired, at now. It returns the
// index of the frame to send now and how many frames were skipped before
// it because the caller was late by more than maxCatchUpFrames intervals.
// Frame indexes give the media clock: frame n has RTP timestamp base +
// n*FrameSamples, whether or not frames before it were sent.
func (p *pacer) Tick(now time.Time) (frame int64, skipped int64) {
	late := now.Sub(p.Deadline())
	if late > maxCatchUpFrames*p.interval {
		due := int64(now.Sub(p.start) / p.interval) // newest frame already due
		skipped = due - p.next
		p.next = due
	}
	frame = p.next
	p.next++
	return frame, skipped
}
