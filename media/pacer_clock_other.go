//go:build !linux

package media

import "time"

// newSlotClock returns the scheduler worker's ticker: a Go timer outside
// Linux.
func newSlotClock(epoch time.Time, period time.Duration, stop <-chan struct{}) slotTicker {
	return newGoTimerClock(epoch, period, stop)
}
