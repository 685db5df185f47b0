package store

import (
	"context"
	"fmt"
)

// AddCallEvents appends events to their calls' timelines in one
// transaction: all of them or, on an error, none. The console's recorder
// writes what it has queued this way, so a busy gateway pays one commit
// for many events instead of one each.
func (s *DB) AddCallEvents(ctx context.Context, events []CallEvent) (err error) {
	if len(events) == 1 {
		return s.AddCallEvent(ctx, events[0])
	}
	type row struct {
		at     int64
		detail string
	}
	rows := make([]row, len(events))
	for i, e := range events {
		if rows[i].at, rows[i].detail, err = s.callEventRow(e); err != nil {
			return err
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: add call events: begin: %w", classify(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, addCallEventSQL)
	if err != nil {
		return fmt.Errorf("store: add call events: prepare: %w", classify(err))
	}
	defer stmt.Close()
	for i, e := range events {
		if _, err := stmt.ExecContext(ctx, e.CallSID, rows[i].at, e.Kind, e.Code, rows[i].detail); err != nil {
			return fmt.Errorf("store: add call events: %s: %w", e.CallSID, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: add call events: commit: %w", classify(err))
	}
	return nil
}
