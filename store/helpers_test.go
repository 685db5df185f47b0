package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// fakeClock is a clock that moves on by step every time it is read.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), step: time.Millisecond}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// openTest opens a store in dir with the real migrations and clock.
func openTest(t testing.TB, dir string, clock *fakeClock) *DB {
	t.Helper()
	s, err := openTestWith(context.Background(), dir, migrations, clock.now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestStore opens a fresh store in a temporary directory.
func newTestStore(t testing.TB) (*DB, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return openTest(t, t.TempDir(), clock), clock
}

const testAccount = "AC00000000000000000000000000000001"

// sampleCall is a completed call with every field set.
func sampleCall() Call {
	start := time.Date(2025, 2, 10, 9, 30, 15, 123456789, time.UTC)
	return Call{
		SID:           sid.New(sid.Call),
		AccountSID:    testAccount,
		ParentCallSID: sid.New(sid.Call),
		From:          "+15551230001",
		To:            "+15551230002",
		FromFormatted: "(555) 123-0001",
		ToFormatted:   "(555) 123-0002",
		Direction:     "outbound-dial",
		Status:        CallCompleted,
		StartTime:     start,
		EndTime:       start.Add(42 * time.Second),
		Duration:      42,
		AnsweredBy:    "human",
		ForwardedFrom: "+15551230003",
		CallerName:    "Ada",
		QueueTime:     1500,
		TrunkSID:      "TK00000000000000000000000000000001",
		SIPCallID:     "a84b4c76e66710@pc33.example.com",
	}
}
