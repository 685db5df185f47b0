package queue

import "time"

// Clock is the Manager's source of time and timers. The real clock is the
// default; tests pass a fake one to drive offer timeouts, wrap-up and
// caller timeouts without sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed and returns
	// a function that cancels the call (reporting whether it did). It
	// must not call f before returning: the Manager calls it while holding
	// its lock, and f takes that lock.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
