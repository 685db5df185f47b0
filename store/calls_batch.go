package store

import (
	"context"
	"fmt"
	"strings"
)

// putCallsSQL is putCallSQL for PutCalls, which needs no row back.
var putCallsSQL = putCallSQL[:strings.LastIndex(putCallSQL, "RETURNING")]

// PutCalls stores calls as PutCall does, all in one transaction: either
// every call is written or none is. One commit for many records is what
// makes a group-committing writer cheaper than a write per call event (a
// commit costs more than the upserts in it: each writes the same few
// pages of the calls table and its indexes to the log once).
//
// A batch of one is PutCall (its statement is prepared once for the
// store; a batch's is prepared per batch).
func (s *DB) PutCalls(ctx context.Context, calls []Call) (err error) {
	if len(calls) == 1 {
		_, err := s.PutCall(ctx, calls[0])
		return err
	}
	for _, c := range calls {
		if err := validateCall(c); err != nil {
			return fmt.Errorf("store: put calls: %q: %w", c.SID, err)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: put calls: begin: %w", classify(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// The batch's own statement: putCallSQL without RETURNING, so no row
	// is read back (the writer has the record); preparing it once per
	// batch costs less than a RETURNING scan per record.
	stmt, err := tx.PrepareContext(ctx, putCallsSQL)
	if err != nil {
		return fmt.Errorf("store: put calls: prepare: %w", classify(err))
	}
	defer stmt.Close()
	now := s.now().UnixNano()
	for _, c := range calls {
		created := now
		if !c.DateCreated.IsZero() {
			created = c.DateCreated.UnixNano()
		}
		if _, err := stmt.ExecContext(ctx,
			c.SID, c.AccountSID, c.ParentCallSID, c.From, c.To, c.FromFormatted,
			c.ToFormatted, c.Direction, string(c.Status), nanos(c.StartTime), nanos(c.EndTime), c.Duration, c.AnsweredBy, c.ForwardedFrom,
			c.CallerName, c.QueueTime, c.TrunkSID, c.SIPCallID, s.nodeID, created, now); err != nil {
			return fmt.Errorf("store: put calls: %s: %w", c.SID, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: put calls: commit: %w", classify(err))
	}
	return nil
}
