package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// flakyBatchStore is flakyStore with the real store's PutCalls: each batch
// counts as one attempt (fails as a whole). gate, when not nil, holds
// every batch until it is closed.
type flakyBatchStore struct {
	*flakyStore
	db      *store.DB
	gate    chan struct{}
	mu      sync.Mutex
	batches int
	records int
}

func (f *flakyBatchStore) PutCalls(ctx context.Context, calls []store.Call) error {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := f.fail(); err != nil {
		return err
	}
	f.mu.Lock()
	f.batches++
	f.records += len(calls)
	f.mu.Unlock()
	return f.db.PutCalls(ctx, calls)
}

func (f *flakyBatchStore) counts() (batches, records int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batches, f.records
}

// newBatchCDR is newFlakyCDR whose store writes call records in batches,
// so that the CDR writer uses its write-behind queue.
func newBatchCDR(t *testing.T, gate chan struct{}) (*cdrWriter, *flakyBatchStore) {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fs := &flakyBatchStore{flakyStore: &flakyStore{Store: db}, db: db, gate: gate}
	w := newCDRWriter(fs, testAccount, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if w.behind == nil {
		t.Fatal("the CDR writer does not use its write-behind queue with a batch store")
	}
	w.writes.first, w.writes.max = time.Millisecond, 20*time.Millisecond
	return w, fs
}

// Records that arrive while a transaction runs are written together in the
// next one, each call's newest record only, and every call ends with its
// final record.
func TestCDRWriteBehindGroupsAndCoalesces(t *testing.T) {
	gate := make(chan struct{})
	w, fs := newBatchCDR(t, gate)
	defer w.Close()
	w.behind.syncWait = time.Millisecond // the events return while the store is held
	const n = 50
	sids := make([]string, n)
	var wg sync.WaitGroup
	for i := range sids {
		sids[i] = sid.New(sid.Call)
		wg.Go(func() {
			t0 := time.Now().UTC()
			w.event(callEvent(sids[i], "ringing", t0))
			w.event(callEvent(sids[i], "in-progress", t0.Add(time.Second)))
			w.event(callEvent(sids[i], "completed", t0.Add(4*time.Second)))
		})
	}
	wg.Wait()
	for _, s := range sids {
		if !w.live(s) {
			t.Fatalf("call %s: not pending while its records wait", s)
		}
	}
	close(gate)
	for _, s := range sids {
		c := waitCall(t, fs.Store, s, store.CallCompleted)
		if c.Duration != 3 || c.StartTime.IsZero() {
			t.Errorf("call %s stored as %+v", s, c)
		}
	}
	batches, records := fs.counts()
	// The first transaction took what was queued when it began (at least
	// one record); every record queued behind it waited for the gate and
	// was coalesced with its call's later ones: at most one more record
	// per call, in far fewer transactions than calls.
	if records > 2*n || batches >= n {
		t.Errorf("%d records in %d transactions for %d calls of 3 events each: want at most %d records and fewer than %d transactions",
			records, batches, n, 2*n, n)
	}
	t.Logf("%d calls, 3 events each: %d records written in %d transactions", n, records, batches)
}

// While the store refuses batches, the records go to the retry writer; a
// call's later records follow them there, in order; all land with the
// final status once the store is back.
func TestCDRWriteBehindStoreFailsThenRecovers(t *testing.T) {
	w, fs := newBatchCDR(t, nil)
	defer w.Close()
	const n = 100
	sids := make([]string, n)
	fs.set(0, true)
	var wg sync.WaitGroup
	for i := range sids {
		sids[i] = sid.New(sid.Call)
		wg.Go(func() {
			t0 := time.Now().UTC()
			w.event(callEvent(sids[i], "ringing", t0))
			w.event(callEvent(sids[i], "in-progress", t0))
			w.event(callEvent(sids[i], "completed", t0.Add(time.Second)))
		})
	}
	wg.Wait()
	if !w.live(sids[0]) {
		t.Fatal("a call's records are not pending while the store fails")
	}
	fs.set(0, false)
	for _, s := range sids {
		waitCall(t, fs.Store, s, store.CallCompleted)
	}
	w.Close() // nothing older may overwrite a final record later
	for _, s := range sids {
		if c, _ := fs.Store.GetCall(context.Background(), s); c.Status != store.CallCompleted {
			t.Errorf("after Close call %s is %s", s, c.Status)
		}
	}
}

// Close writes what is still queued.
func TestCDRWriteBehindCloseWritesQueued(t *testing.T) {
	gate := make(chan struct{})
	w, fs := newBatchCDR(t, gate)
	w.behind.syncWait = time.Millisecond
	sids := make([]string, 10)
	for i := range sids {
		sids[i] = sid.New(sid.Call)
		w.event(callEvent(sids[i], "completed", time.Now().UTC()))
	}
	close(gate)
	w.Close()
	for _, s := range sids {
		if c, err := fs.Store.GetCall(context.Background(), s); err != nil || c.Status != store.CallCompleted {
			t.Errorf("call %s after Close: %+v, %v", s, c, err)
		}
	}
}

// BenchmarkCDRCallLifecycle is the CPU time of the records of one call
// (ringing, in-progress, completed) written to a real SQLite store by 64
// calls at a time, one transaction per record (per-record) against the
// write-behind queue's group commit.
func BenchmarkCDRCallLifecycle(b *testing.B) {
	for _, mode := range []string{"per-record", "write-behind"} {
		b.Run(mode, func(b *testing.B) {
			db, err := store.Open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var s store.Store = db
			if mode == "per-record" {
				s = struct{ store.Store }{db} // hides PutCalls
			}
			w := newCDRWriter(s, testAccount, slog.New(slog.NewTextHandler(io.Discard, nil)))
			defer w.Close()
			b.SetParallelism(32) // 64 calls at a time on 2 CPUs
			cpu0 := processCPU(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					callSID := sid.New(sid.Call)
					t0 := time.Now().UTC()
					w.event(callEvent(callSID, "ringing", t0))
					w.event(callEvent(callSID, "in-progress", t0))
					w.event(callEvent(callSID, "completed", t0.Add(time.Second)))
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(fmt.Errorf("getrusage: %w", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
