package store

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Write-ahead log bounds. SQLite checkpoints the WAL into the database by
// itself every autoCheckpointPages pages (4000 pages = 16 MB, four times
// its default: the pages every call touches are then copied and synced
// four times less often; BenchmarkDBGrowthPerCall was fastest there). But
// a checkpoint can only start the log over when no reader is still using
// it, and a gateway read without pause (REST polling, dashboards) can
// starve it. So the store also checks the log's size every
// checkpointEvery and, past truncateWALAbove, runs a TRUNCATE checkpoint,
// which waits (up to busyTimeout) for the readers of the moment to finish
// and empties the file. journalSizeLimit caps what a restarted log keeps
// on disk.
const (
	autoCheckpointPages = 4000
	checkpointEvery     = 10 * time.Second
	truncateWALAbove    = 32 << 20
	journalSizeLimit    = 16 << 20
)

// WALFileName is the write-ahead log SQLite keeps beside the database.
const WALFileName = FileName + "-wal"

// Checkpoint copies the write-ahead log into the database and empties it
// (SQLite's wal_checkpoint(TRUNCATE)). It waits up to busyTimeout for
// readers; when they keep it from finishing it returns an error and the
// log is left for the next attempt. On PostgreSQL, which manages its own
// log, it does nothing.
func (s *DB) Checkpoint(ctx context.Context) error {
	if s.dialect != sqliteDialect {
		return nil
	}
	// A reader still on an older snapshot makes the checkpoint stop short
	// (busy); readers that never pause can do that again and again, so
	// it is tried a few times, a moment apart, before giving up.
	var busy, logPages, copied int
	for attempt := 0; ; attempt++ {
		err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &copied)
		if err != nil {
			return fmt.Errorf("store: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == checkpointAttempts-1 {
			return fmt.Errorf("store: checkpoint: readers kept %d of %d log pages from the database", logPages-copied, logPages)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: checkpoint: %w", ctx.Err())
		case <-time.After(checkpointRetry):
		}
	}
}

// A TRUNCATE checkpoint kept short by readers is tried checkpointAttempts
// times, checkpointRetry apart.
const (
	checkpointAttempts = 5
	checkpointRetry    = 20 * time.Millisecond
)

// checkpointLoop truncates the log whenever it has grown past
// truncateWALAbove, until ctx ends. It closes done when it returns.
func (s *DB) checkpointLoop(ctx context.Context, walPath string, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if fi, err := os.Stat(walPath); err != nil || fi.Size() <= truncateWALAbove {
			continue
		}
		_ = s.Checkpoint(ctx) // a reader in the way: the next tick tries again
	}
}
