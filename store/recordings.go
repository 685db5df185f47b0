package store

import (
	"context"
	"database/sql"
	"fmt"
)

const recordingColumns = `sid, account_sid, call_sid, conference_sid, status, source, channels,
	duration, start_time, error_code, path, deleted, node_id, date_created, date_updated`

// putRecordingSQL inserts a recording or updates everything but sid,
// account_sid, node_id, date_created and the deleted mark; a deleted recording keeps
// status "deleted".
const putRecordingSQL = `INSERT INTO recordings (` + recordingColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
	ON CONFLICT (sid) DO UPDATE SET
		call_sid = excluded.call_sid,
		conference_sid = excluded.conference_sid,
		status = CASE WHEN recordings.deleted <> 0 THEN recordings.status ELSE excluded.status END,
		source = excluded.source,
		channels = excluded.channels,
		duration = excluded.duration,
		start_time = excluded.start_time,
		error_code = excluded.error_code,
		path = excluded.path,
		date_updated = excluded.date_updated
	RETURNING ` + recordingColumns

// validateRecording checks what the store needs of a recording, after
// defaults are applied.
func validateRecording(r Recording) error {
	switch {
	case r.SID == "":
		return fmt.Errorf("%w: empty SID", ErrInvalid)
	case r.AccountSID == "":
		return fmt.Errorf("%w: empty AccountSID", ErrInvalid)
	case !r.Status.Valid() || r.Status == RecordingDeleted: // only DeleteRecording deletes
		return fmt.Errorf("%w: status %q", ErrInvalid, r.Status)
	case r.Channels != 1 && r.Channels != 2:
		return fmt.Errorf("%w: %d channels", ErrInvalid, r.Channels)
	case r.Duration < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalid)
	}
	if err := checkTime("StartTime", r.StartTime); err != nil {
		return err
	}
	return checkTime("DateCreated", r.DateCreated)
}

// PutRecording implements RecordingStore.
func (s *DB) PutRecording(ctx context.Context, r Recording) (Recording, error) {
	if r.Channels == 0 {
		r.Channels = 1
	}
	if err := validateRecording(r); err != nil {
		return Recording{}, fmt.Errorf("store: put recording %q: %w", r.SID, err)
	}
	now := s.now().UnixNano()
	created := now
	if !r.DateCreated.IsZero() {
		created = r.DateCreated.UnixNano()
	}
	row := queryFinished(s.w.QueryContext(ctx, putRecordingSQL,
		r.SID, r.AccountSID, r.CallSID, r.ConferenceSID, string(r.Status), r.Source, r.Channels,
		r.Duration, nanos(r.StartTime), r.ErrorCode, r.Path, s.nodeID, created, now))
	stored, err := scanRecording(row)
	if err != nil {
		return Recording{}, fmt.Errorf("store: put recording %s: %w", r.SID, classify(err))
	}
	return stored, nil
}

// GetRecording implements RecordingStore.
func (s *DB) GetRecording(ctx context.Context, sid string) (Recording, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE sid = ?`, sid)
	r, err := scanRecording(row)
	if err != nil {
		return Recording{}, fmt.Errorf("store: get recording %s: %w", sid, notFoundIfNoRows(err))
	}
	return r, nil
}

// ListRecordings implements RecordingStore.
func (s *DB) ListRecordings(ctx context.Context, f RecordingFilter, p Page) ([]Recording, PageToken, error) {
	if err := checkRange("DateCreated", f.DateCreated); err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	q := listQuery{table: "recordings", columns: recordingColumns, timeCol: "date_created", keyCols: []string{"sid"}, page: p}
	q.filter.eq("account_sid", f.AccountSID)
	q.filter.eq("call_sid", f.CallSID)
	q.filter.eq("conference_sid", f.ConferenceSID)
	q.filter.within("date_created", f.DateCreated)
	if !f.IncludeDeleted {
		q.filter.add("deleted = 0")
	}
	recs, next, err := list(ctx, s.r, q, scanRecording, recordingCursor)
	if err != nil {
		return nil, "", fmt.Errorf("store: list recordings: %w", err)
	}
	return recs, next, nil
}

// DeleteRecording implements RecordingStore.
func (s *DB) DeleteRecording(ctx context.Context, sid string) (string, error) {
	var path string
	err := queryFinished(s.w.QueryContext(ctx, `UPDATE recordings SET deleted = 1, status = ?, date_updated = ?
		WHERE sid = ? AND deleted = 0 RETURNING path`,
		string(RecordingDeleted), s.now().UnixNano(), sid)).Scan(&path)
	if err != nil {
		return "", fmt.Errorf("store: delete recording %s: %w", sid, notFoundIfNoRows(err))
	}
	return path, nil
}

// recordingCursor is r's place in the newest-first order.
func recordingCursor(r Recording) cursor {
	return cursor{at: r.DateCreated.UnixNano(), keys: []string{r.SID}}
}

// scanRecording reads the recordingColumns of one row.
func scanRecording(row rowScanner) (Recording, error) {
	var (
		r                Recording
		status           string
		start            sql.NullInt64
		created, updated int64
	)
	err := row.Scan(&r.SID, &r.AccountSID, &r.CallSID, &r.ConferenceSID, &status, &r.Source, &r.Channels,
		&r.Duration, &start, &r.ErrorCode, &r.Path, &r.Deleted, &r.NodeID, &created, &updated)
	if err != nil {
		return Recording{}, err
	}
	r.Status = RecordingStatus(status)
	r.StartTime = fromNullNanos(start)
	r.DateCreated = fromNanos(created)
	r.DateUpdated = fromNanos(updated)
	return r, nil
}
