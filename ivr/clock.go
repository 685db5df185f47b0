package ivr

import "time"

// Clock tells the engine the time and runs its timers, so that timing
// (Gather timeouts, Pause) can be tested with a fake clock.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
