package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// CallEvent is one entry of a call's timeline, for the console: a status
// change, a webhook request and its response, a warning or an error.
type CallEvent struct {
	ID      int64 // assigned by the store, increasing
	CallSID string
	At      time.Time
	// Kind is "status", "webhook", "warning" or "error".
	Kind string
	// Code is Twilio's error or warning code, 0 when there is none.
	Code int
	// Detail holds the kind's fields as a JSON object (status, url,
	// method, status_code, duration_ms, response body…).
	Detail json.RawMessage
}

// CallEventStore keeps call timelines.
type CallEventStore interface {
	// AddCallEvent appends e to its call's timeline (ID is ignored).
	AddCallEvent(ctx context.Context, e CallEvent) error
	// ListCallEvents returns the call's events, oldest first, at most
	// limit of them (limit ≤ 0: 1000).
	ListCallEvents(ctx context.Context, callSID string, limit int) ([]CallEvent, error)
	// DeleteCallEventsBefore removes events older than t and returns how
	// many went.
	DeleteCallEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

var _ CallEventStore = (*DB)(nil)

// AddCallEvent implements CallEventStore.
func (s *DB) AddCallEvent(ctx context.Context, e CallEvent) error {
	at, detail, err := s.callEventRow(e)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, addCallEventSQL, e.CallSID, at, e.Kind, e.Code, detail)
	if err != nil {
		return fmt.Errorf("store: add call event for %s: %w", e.CallSID, classify(err))
	}
	return nil
}

const addCallEventSQL = `INSERT INTO call_events (call_sid, at, kind, code, detail) VALUES (?, ?, ?, ?, ?)`

// callEventRow checks e and returns the at and detail columns of its row.
func (s *DB) callEventRow(e CallEvent) (at int64, detail string, err error) {
	if e.CallSID == "" || e.Kind == "" {
		return 0, "", fmt.Errorf("store: add call event: %w: an event needs a call sid and a kind", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if err := checkTime("at", e.At); err != nil {
		return 0, "", err
	}
	detail = string(e.Detail)
	if detail == "" {
		detail = "{}"
	}
	if !json.Valid([]byte(detail)) {
		return 0, "", fmt.Errorf("store: add call event: %w: detail is not JSON", ErrInvalid)
	}
	return e.At.UnixNano(), detail, nil
}

// ListCallEvents implements CallEventStore.
func (s *DB) ListCallEvents(ctx context.Context, callSID string, limit int) ([]CallEvent, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, call_sid, at, kind, code, detail FROM call_events
		WHERE call_sid = ? ORDER BY id LIMIT ?`, callSID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", callSID, err)
	}
	defer rows.Close()
	var out []CallEvent
	for rows.Next() {
		var e CallEvent
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &e.CallSID, &at, &e.Kind, &e.Code, &detail); err != nil {
			return nil, fmt.Errorf("store: events of %s: %w", callSID, err)
		}
		e.At, e.Detail = fromNanos(at), json.RawMessage(detail)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", callSID, err)
	}
	return out, nil
}

// DeleteCallEventsBefore implements CallEventStore.
func (s *DB) DeleteCallEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM call_events WHERE at < ?`, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("store: delete call events: %w", err)
	}
	return res.RowsAffected()
}
