package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

// putCallLifecycles stores n calls the way a call reports them: queued, ringing,
// in-progress, completed.
func putCallLifecycles(t *testing.T, s *DB, n int) {
	t.Helper()
	ctx := context.Background()
	for range n {
		c := sampleCall()
		c.SID = sid.New(sid.Call)
		for _, st := range []CallStatus{CallQueued, CallRinging, CallInProgress, CallCompleted} {
			c.Status = st
			if _, err := s.PutCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// The store's writes let SQLite's automatic checkpoint run: the log stays
// near its 1000-page threshold instead of growing with every call (it grew
// by ~100 KB a call when writes were read with QueryRow and never
// finished).
func TestWALCheckpointsAutomatically(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, newFakeClock())
	putCallLifecycles(t, s, 1000) // ~100 MB of log without checkpoints
	wal := fileSize(t, filepath.Join(dir, WALFileName))
	if limit := int64(2 * autoCheckpointPages * 4096); wal > limit {
		t.Fatalf("WAL is %d bytes after 1000 calls, want at most %d: it is not being checkpointed", wal, limit)
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM calls`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("calls in the database: %d, %v", n, err)
	}
}

// Checkpoint empties the log even while readers are busy the whole time.
func TestCheckpointTruncatesUnderReads(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, newFakeClock())
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, _, err := s.ListCalls(ctx, CallFilter{}, Page{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	putCallLifecycles(t, s, 300)
	err := s.Checkpoint(ctx)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if wal := fileSize(t, filepath.Join(dir, WALFileName)); wal != 0 {
		t.Fatalf("WAL is %d bytes after a TRUNCATE checkpoint, want 0", wal)
	}
	calls, _, err := s.ListCalls(ctx, CallFilter{}, Page{Size: 1})
	if err != nil || len(calls) != 1 || calls[0].Status != CallCompleted {
		t.Fatalf("after the checkpoint: %+v, %v", calls, err)
	}
}
