package store

import (
	"context"
	"fmt"
)

// UnfinishedCalls returns the calls whose records say they are still
// queued, ringing or in progress, oldest first. At start-up, before any
// call is taken, these are the calls a previous process left behind when
// it stopped without ending them (see package recovery).
func (s *DB) UnfinishedCalls(ctx context.Context) ([]Call, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls
		WHERE status IN (?, ?, ?) ORDER BY date_created, sid`,
		string(CallQueued), string(CallRinging), string(CallInProgress))
	if err != nil {
		return nil, fmt.Errorf("store: unfinished calls: %w", err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished calls: %w", err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished calls: %w", err)
	}
	return calls, nil
}

// UnfinishedRecordings returns the recordings, not deleted, whose records
// say they are still in progress, paused or processing, oldest first.
func (s *DB) UnfinishedRecordings(ctx context.Context) ([]Recording, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE status IN (?, ?, ?) AND deleted = 0 ORDER BY date_created, sid`,
		string(RecordingInProgress), string(RecordingPaused), string(RecordingProcessing))
	if err != nil {
		return nil, fmt.Errorf("store: unfinished recordings: %w", err)
	}
	defer rows.Close()
	var recs []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished recordings: %w", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished recordings: %w", err)
	}
	return recs, nil
}
