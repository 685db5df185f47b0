package media

import (
	"errors"
	"time"
)

// workerIO is what a scheduler worker waits on: ticks at every slot
// boundary (epoch + k*period) while armed and, where the platform allows
// (Linux: pacer_io_linux.go), the sockets of the legs it receives for.
// Only the worker calls its methods, except interrupt.
type workerIO interface {
	// arm starts the ticks: the first at the start of slot first, then
	// one per period.
	arm(first int64) error
	// disarm stops the ticks.
	disarm() error
	// wait blocks until the next tick or until a watched leg's socket is
	// readable, and appends the legs with something to read to ready. It
	// returns errClockInterrupted once interrupt has been called.
	wait(ready []*RTPLeg) ([]*RTPLeg, error)
	// watch makes the worker receive for l (wait reports l when its
	// socket is readable). It returns false when the worker cannot: l
	// then needs its own receive loop.
	watch(l *RTPLeg) bool
	// unwatch forgets l, which has ended.
	unwatch(l *RTPLeg)
	// watching returns the legs being watched.
	watching() []*RTPLeg
	// interrupt makes wait return errClockInterrupted, now and from then
	// on. It may be called from any goroutine.
	interrupt()
	// close releases the ticker and the poller.
	close() error
}

// errClockInterrupted is returned by workerIO.wait once the scheduler is
// closing.
var errClockInterrupted = errors.New("media: scheduler clock interrupted")

// goTimerClock is a workerIO made of a Go timer, watching no sockets. It
// is portable but may fire up to a millisecond late when the process is
// otherwise idle (see epollIO), so it is the fallback.
type goTimerClock struct {
	epoch  time.Time
	period time.Duration
	timer  *time.Timer
	next   int64 // slot of the next tick
	armed  bool
	stop   <-chan struct{} // closed when the scheduler closes: interrupts wait
}

func newGoTimerClock(epoch time.Time, period time.Duration, stop <-chan struct{}) *goTimerClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &goTimerClock{epoch: epoch, period: period, timer: t, stop: stop}
}

func (c *goTimerClock) arm(first int64) error {
	c.next, c.armed = first, true
	c.timer.Reset(time.Until(c.slotTime(first)))
	return nil
}

func (c *goTimerClock) disarm() error {
	c.armed = false
	c.timer.Stop()
	return nil
}

func (c *goTimerClock) wait(ready []*RTPLeg) ([]*RTPLeg, error) {
	if !c.armed {
		<-c.stop
		return ready, errClockInterrupted
	}
	select {
	case <-c.stop:
		return ready, errClockInterrupted
	case <-c.timer.C:
	}
	// The next tick is the first slot boundary still ahead.
	c.next = max(c.next, int64(time.Since(c.epoch)/c.period)) + 1
	c.timer.Reset(time.Until(c.slotTime(c.next)))
	return ready, nil
}

func (c *goTimerClock) slotTime(k int64) time.Time { return c.epoch.Add(time.Duration(k) * c.period) }

func (c *goTimerClock) watch(*RTPLeg) bool  { return false }
func (c *goTimerClock) unwatch(*RTPLeg)     {}
func (c *goTimerClock) watching() []*RTPLeg { return nil }

// interrupt does nothing: wait also watches the scheduler's stop channel.
func (c *goTimerClock) interrupt() {}

func (c *goTimerClock) close() error {
	c.timer.Stop()
	return nil
}
