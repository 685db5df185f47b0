package store

import (
	"context"
	"database/sql"
	"fmt"
)

const callColumns = `sid, account_sid, parent_call_sid, from_number, to_number, from_formatted,
	to_formatted, direction, status, start_time, end_time, duration, answered_by, forwarded_from,
	caller_name, queue_time, trunk_sid, sip_call_id, node_id, date_created, date_updated`

// putCallSQL inserts a call or updates everything but sid, account_sid,
// node_id and date_created.
const putCallSQL = `INSERT INTO calls (` + callColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (sid) DO UPDATE SET
		parent_call_sid = excluded.parent_call_sid,
		from_number = excluded.from_number,
		to_number = excluded.to_number,
		from_formatted = excluded.from_formatted,
		to_formatted = excluded.to_formatted,
		direction = excluded.direction,
		status = excluded.status,
		start_time = excluded.start_time,
		end_time = excluded.end_time,
		duration = excluded.duration,
		answered_by = excluded.answered_by,
		forwarded_from = excluded.forwarded_from,
		caller_name = excluded.caller_name,
		queue_time = excluded.queue_time,
		trunk_sid = excluded.trunk_sid,
		sip_call_id = excluded.sip_call_id,
		date_updated = excluded.date_updated
	RETURNING ` + callColumns

// validateCall checks what the store needs of a call.
func validateCall(c Call) error {
	switch {
	case c.SID == "":
		return fmt.Errorf("%w: empty SID", ErrInvalid)
	case c.AccountSID == "":
		return fmt.Errorf("%w: empty AccountSID", ErrInvalid)
	case !c.Status.Valid():
		return fmt.Errorf("%w: status %q", ErrInvalid, c.Status)
	case c.Duration < 0 || c.QueueTime < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalid)
	}
	if err := checkTime("StartTime", c.StartTime); err != nil {
		return err
	}
	if err := checkTime("EndTime", c.EndTime); err != nil {
		return err
	}
	return checkTime("DateCreated", c.DateCreated)
}

// PutCall implements CallStore.
func (s *DB) PutCall(ctx context.Context, c Call) (Call, error) {
	if err := validateCall(c); err != nil {
		return Call{}, fmt.Errorf("store: put call %q: %w", c.SID, err)
	}
	now := s.now().UnixNano()
	created := now
	if !c.DateCreated.IsZero() {
		created = c.DateCreated.UnixNano()
	}
	row := queryFinished(s.putCall.QueryContext(ctx,
		c.SID, c.AccountSID, c.ParentCallSID, c.From, c.To, c.FromFormatted,
		c.ToFormatted, c.Direction, string(c.Status), nanos(c.StartTime), nanos(c.EndTime), c.Duration, c.AnsweredBy, c.ForwardedFrom,
		c.CallerName, c.QueueTime, c.TrunkSID, c.SIPCallID, s.nodeID, created, now))
	stored, err := scanCall(row)
	if err != nil {
		return Call{}, fmt.Errorf("store: put call %s: %w", c.SID, classify(err))
	}
	return stored, nil
}

// getCallSQL reads one call by SID.
const getCallSQL = `SELECT ` + callColumns + ` FROM calls WHERE sid = ?`

// GetCall implements CallStore.
func (s *DB) GetCall(ctx context.Context, sid string) (Call, error) {
	row := s.getCall.QueryRowContext(ctx, sid)
	c, err := scanCall(row)
	if err != nil {
		return Call{}, fmt.Errorf("store: get call %s: %w", sid, notFoundIfNoRows(err))
	}
	return c, nil
}

// ListCalls implements CallStore.
func (s *DB) ListCalls(ctx context.Context, f CallFilter, p Page) ([]Call, PageToken, error) {
	q := listQuery{table: "calls", columns: callColumns, timeCol: "date_created", keyCols: []string{"sid"}, page: p}
	if err := checkRange("StartTime", f.StartTime); err != nil {
		return nil, "", fmt.Errorf("store: list calls: %w", err)
	}
	if err := checkRange("EndTime", f.EndTime); err != nil {
		return nil, "", fmt.Errorf("store: list calls: %w", err)
	}
	q.filter.eq("account_sid", f.AccountSID)
	q.filter.eq("to_number", f.To)
	q.filter.eq("from_number", f.From)
	q.filter.eq("parent_call_sid", f.ParentCallSID)
	q.filter.eq("status", string(f.Status))
	q.filter.within("start_time", f.StartTime)
	q.filter.within("end_time", f.EndTime)
	calls, next, err := list(ctx, s.r, q, scanCall, callCursor)
	if err != nil {
		return nil, "", fmt.Errorf("store: list calls: %w", err)
	}
	return calls, next, nil
}

// DeleteCall implements CallStore.
func (s *DB) DeleteCall(ctx context.Context, sid string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM calls WHERE sid = ?`, sid)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: delete call %s: %w", sid, err)
	}
	return nil
}

// callCursor is c's place in the newest-first order.
func callCursor(c Call) cursor {
	return cursor{at: c.DateCreated.UnixNano(), keys: []string{c.SID}}
}

// scanCall reads the callColumns of one row.
func scanCall(r rowScanner) (Call, error) {
	var (
		c                Call
		status           string
		start, end       sql.NullInt64
		created, updated int64
	)
	err := r.Scan(&c.SID, &c.AccountSID, &c.ParentCallSID, &c.From, &c.To, &c.FromFormatted,
		&c.ToFormatted, &c.Direction, &status, &start, &end, &c.Duration, &c.AnsweredBy, &c.ForwardedFrom,
		&c.CallerName, &c.QueueTime, &c.TrunkSID, &c.SIPCallID, &c.NodeID, &created, &updated)
	if err != nil {
		return Call{}, err
	}
	c.Status = CallStatus(status)
	c.StartTime = fromNullNanos(start)
	c.EndTime = fromNullNanos(end)
	c.DateCreated = fromNanos(created)
	c.DateUpdated = fromNanos(updated)
	return c, nil
}
