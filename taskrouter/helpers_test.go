package taskrouter

import (
	"context"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// advance moves the clock and fires what fell due.
func advance(r *Router, c *fakeClock, d time.Duration) {
	c.Advance(d)
	r.RunDue()
}

func newTestRouter(t *testing.T, opts Options) (*Router, *fakeClock) {
	t.Helper()
	c := newFakeClock()
	if opts.Clock == nil {
		opts.Clock = c
	}
	r, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, c
}

func ptr[T any](v T) *T { return &v }

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// activityByName finds an activity SID.
func activityByName(t *testing.T, r *Router, ws, name string) string {
	t.Helper()
	acts, err := r.Activities(ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if a.FriendlyName == name {
			return a.SID
		}
	}
	t.Fatalf("no activity %q", name)
	return ""
}
