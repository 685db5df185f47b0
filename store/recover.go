package store

import (
	"context"
	"fmt"
)

// UnfinishedCalls returns this node's calls (and those no node owns)
// whose records say they are still queued, ringing or in progress, oldest
// first. At start-up, before any call is taken, these are the calls a
// previous process of this node left behind when it stopped without
// ending them (see package recovery); other nodes' live calls sharing the
// database are left alone.
func (s *DB) UnfinishedCalls(ctx context.Context) ([]Call, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls
		WHERE status IN (?, ?, ?) AND node_id IN (?, '') ORDER BY date_created, sid`,
		string(CallQueued), string(CallRinging), string(CallInProgress), s.nodeID)
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

// UnfinishedRecordings returns this node's recordings (and those no node
// owns), not deleted, whose records say they are still in progress, paused
// or processing, oldest first.
func (s *DB) UnfinishedRecordings(ctx context.Context) ([]Recording, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE status IN (?, ?, ?) AND deleted = 0 AND node_id IN (?, '') ORDER BY date_created, sid`,
		string(RecordingInProgress), string(RecordingPaused), string(RecordingProcessing), s.nodeID)
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
