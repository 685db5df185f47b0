package store

import (
	"context"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"

	"github.com/voxgate/voxgate/clock/clocktest"
)

// newFakeClock is a clock that moves on by a millisecond every time it
// is read.
func newFakeClock() *clocktest.Fake {
	c := clocktest.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	c.SetStep(time.Millisecond)
	return c
}

// openTest opens a store in dir with the real migrations and clock.
func openTest(t testing.TB, dir string, clock *clocktest.Fake) *DB {
	t.Helper()
	s, err := openTestWith(context.Background(), dir, migrations, clock.Now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestStore opens a fresh store in a temporary directory.
func newTestStore(t testing.TB) (*DB, *clocktest.Fake) {
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
