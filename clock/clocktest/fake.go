// Package clocktest provides a fake clock.Clock for tests.
package clocktest

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Fake is a clock.Clock that moves only when told to: Advance moves it on
// and fires the timers that fall due, in time order.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	step    time.Duration // added to now by every Now (SetStep)
	seq     int
	timers  []*timer
	changed chan struct{} // a timer was started
}

type timer struct {
	at  time.Time
	seq int
	f   func()         // AfterFunc
	ch  chan time.Time // After
	d   time.Duration  // as asked for, for WaitTimer
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{}, 1)}
}

// SetStep makes every Now move the clock on by step after reading it, for
// code that needs distinct, increasing times.
func (c *Fake) SetStep(step time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = step
}

// Now implements clock.Clock.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// After implements clock.Clock.
func (c *Fake) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.add(&timer{d: d, ch: ch})
	return ch
}

// AfterFunc implements clock.Clock.
func (c *Fake) AfterFunc(d time.Duration, f func()) func() bool {
	t := c.add(&timer{d: d, f: f})
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.timers, t)
		if i < 0 {
			return false // fired or stopped
		}
		c.timers = slices.Delete(c.timers, i, i+1)
		return true
	}
}

func (c *Fake) add(t *timer) *timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t.at, t.seq = c.now.Add(t.d), c.seq
	c.timers = append(c.timers, t)
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return t
}

// Advance moves the time on by d, firing the timers that fall due in time
// order, each with the clock set to its deadline, including timers they
// start. AfterFunc functions run on the caller's goroutine.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		var due *timer
		for _, t := range c.timers {
			if !t.at.After(target) && (due == nil || t.at.Before(due.at) || t.at.Equal(due.at) && t.seq < due.seq) {
				due = t
			}
		}
		if due == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		c.timers = slices.DeleteFunc(c.timers, func(x *timer) bool { return x == due })
		if due.at.After(c.now) {
			c.now = due.at
		}
		if due.ch != nil {
			due.ch <- c.now
			continue
		}
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
}

// Pending returns how long until each pending timer fires, soonest first.
func (c *Fake) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, 0, len(c.timers))
	for _, t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	slices.Sort(out)
	return out
}

// WaitTimer waits (up to 5 s of real time) until a timer that fires d from
// now is pending: code under test has reached the wait the test wants to
// end.
func (c *Fake) WaitTimer(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if slices.Contains(c.Pending(), d) {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %v timer started (pending: %v)", d, c.Pending())
		}
	}
}
