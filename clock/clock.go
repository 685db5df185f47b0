// Package clock is Voxgate's one source of time and timers. Everything
// that waits or stamps times (the call engine, queues, Studio flows,
// recordings) takes a Clock, so that tests drive time with
// clocktest.Fake instead of sleeping.
package clock

import "time"

// Clock tells the time and runs timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
	// AfterFunc calls f in its own goroutine once d has passed and returns
	// a function that cancels the call, reporting whether it did so before
	// f was called. It never calls f before returning.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Real is the system clock.
var Real Clock = system{}

type system struct{}

func (system) Now() time.Time                         { return time.Now() }
func (system) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (system) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
