//go:build !linux

package media

import "time"

// newWorkerIO returns a scheduler worker's workerIO: outside Linux a Go
// timer, and legs keep their own receive loops.
func newWorkerIO(epoch time.Time, period time.Duration, stop <-chan struct{}) workerIO {
	return newGoTimerClock(epoch, period, stop)
}
