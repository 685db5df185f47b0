package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/voxgate/voxgate/config"
)

// Call record retention (storage.retention): how often old records are
// pruned, and how many are deleted per statement (short statements let
// the calls' own writes through in between).
const (
	retentionEvery = time.Hour
	retentionBatch = 1000
)

// oldCallDeleter is what pruning needs of the store.
type oldCallDeleter interface {
	DeleteCallsCreatedBefore(ctx context.Context, t time.Time, limit int) (int, error)
}

// startRetention deletes ended call records older than storage.retention
// now and every retentionEvery, until the returned function is called
// (which waits for it). With retention 0 it does nothing.
func startRetention(cfg config.Config, db oldCallDeleter, log *slog.Logger) (stop func()) {
	keep := cfg.Storage.Retention.D()
	if keep <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(retentionEvery)
		defer t.Stop()
		for {
			n, err := pruneCalls(ctx, db, time.Now().Add(-keep))
			if err != nil && ctx.Err() == nil {
				log.Error("storage.retention: deleting old call records", "error", err)
			} else if n > 0 {
				log.Info("storage.retention: old call records deleted", "calls", n, "retention", keep.String())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// pruneCalls deletes the ended calls created before t, a batch at a time,
// and returns how many.
func pruneCalls(ctx context.Context, db oldCallDeleter, t time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := db.DeleteCallsCreatedBefore(ctx, t, retentionBatch)
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}
