package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
)

// batchFake is a store that writes batches; its single-event write waits
// for gate (when set), so a test can queue events behind it.
type batchFake struct {
	fakeStore
	gate    chan struct{}
	waiting atomic.Int32 // single-event writes that reached the gate
	batches []int        // sizes of the batches accepted
}

func (f *batchFake) AddCallEvent(ctx context.Context, e store.CallEvent) error {
	if f.gate != nil {
		f.waiting.Add(1)
		<-f.gate
	}
	return f.fakeStore.AddCallEvent(ctx, e)
}

func (f *batchFake) AddCallEvents(_ context.Context, events []store.CallEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range events {
		if e.Kind == "refuse" {
			return errors.New("refused")
		}
	}
	f.events = append(f.events, events...)
	f.batches = append(f.batches, len(events))
	return nil
}

// TestRecorderBatches: events queued while the writer is busy are written
// in one batch, in order; a refused batch is written event by event.
func TestRecorderBatches(t *testing.T) {
	st := &batchFake{gate: make(chan struct{}, 100)}
	rec := NewRecorder(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec.Status("CA1", "s0", time.Now()) // the writer takes it and waits at the gate
	waitFor(t, func() bool { return st.waiting.Load() == 1 })
	for i := 1; i <= 10; i++ {
		rec.Status("CA1", "s", time.Now())
	}
	st.gate <- struct{}{}
	waitFor(t, func() bool { st.mu.Lock(); defer st.mu.Unlock(); return len(st.events) == 11 })
	st.mu.Lock()
	if len(st.batches) != 1 || st.batches[0] != 10 {
		t.Errorf("batches %v, want one of 10", st.batches)
	}
	st.mu.Unlock()

	rec.Status("CA2", "s0", time.Now())
	waitFor(t, func() bool { return st.waiting.Load() == 2 })
	rec.add("CA2", "refuse", 0, map[string]any{})
	rec.Status("CA2", "s1", time.Now())
	for range 3 {
		st.gate <- struct{}{}
	}
	rec.Close()
	if len(st.events) != 14 || st.events[12].Kind != "refuse" || st.events[13].CallSID != "CA2" {
		t.Errorf("after a refused batch: %d events, want 14 in order", len(st.events))
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
