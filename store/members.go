package store

import (
	"context"
	"database/sql"
	"fmt"
)

const memberColumns = `queue_sid, call_sid, date_enqueued, date_left, result, wait_time`

// PutQueueMember implements QueueStore.
func (s *DB) PutQueueMember(ctx context.Context, m QueueMember) (QueueMember, error) {
	switch {
	case m.QueueSID == "" || m.CallSID == "":
		return QueueMember{}, fmt.Errorf("store: put queue member %q of %q: %w: empty SID", m.CallSID, m.QueueSID, ErrInvalid)
	case m.DateEnqueued.IsZero():
		return QueueMember{}, fmt.Errorf("store: put queue member %s of %s: %w: no DateEnqueued", m.CallSID, m.QueueSID, ErrInvalid)
	case m.WaitTime < 0:
		return QueueMember{}, fmt.Errorf("store: put queue member %s of %s: %w: negative WaitTime", m.CallSID, m.QueueSID, ErrInvalid)
	}
	if err := checkTime("DateEnqueued", m.DateEnqueued); err != nil {
		return QueueMember{}, fmt.Errorf("store: put queue member %s of %s: %w", m.CallSID, m.QueueSID, err)
	}
	if err := checkTime("DateLeft", m.DateLeft); err != nil {
		return QueueMember{}, fmt.Errorf("store: put queue member %s of %s: %w", m.CallSID, m.QueueSID, err)
	}
	row := queryFinished(s.w.QueryContext(ctx, `INSERT INTO queue_members (`+memberColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (queue_sid, call_sid, date_enqueued) DO UPDATE SET
			date_left = excluded.date_left,
			result = excluded.result,
			wait_time = excluded.wait_time
		RETURNING `+memberColumns,
		m.QueueSID, m.CallSID, m.DateEnqueued.UnixNano(), nanos(m.DateLeft), m.Result, m.WaitTime))
	stored, err := scanMember(row)
	if err != nil {
		return QueueMember{}, fmt.Errorf("store: put queue member %s of %s: %w", m.CallSID, m.QueueSID, classify(err))
	}
	return stored, nil
}

// ListQueueMembers implements QueueStore.
func (s *DB) ListQueueMembers(ctx context.Context, f QueueMemberFilter, p Page) ([]QueueMember, PageToken, error) {
	q := listQuery{table: "queue_members", columns: memberColumns,
		timeCol: "date_enqueued", keyCols: []string{"queue_sid", "call_sid"}, page: p}
	q.filter.eq("queue_sid", f.QueueSID)
	q.filter.eq("call_sid", f.CallSID)
	if f.Waiting {
		q.filter.add("date_left IS NULL")
	}
	members, next, err := list(ctx, s.r, q, scanMember, memberCursor)
	if err != nil {
		return nil, "", fmt.Errorf("store: list queue members: %w", err)
	}
	return members, next, nil
}

// memberCursor is m's place in the most-recent-first order.
func memberCursor(m QueueMember) cursor {
	return cursor{at: m.DateEnqueued.UnixNano(), keys: []string{m.QueueSID, m.CallSID}}
}

// scanMember reads the memberColumns of one row.
func scanMember(row rowScanner) (QueueMember, error) {
	var (
		m        QueueMember
		enqueued int64
		left     sql.NullInt64
	)
	if err := row.Scan(&m.QueueSID, &m.CallSID, &enqueued, &left, &m.Result, &m.WaitTime); err != nil {
		return QueueMember{}, err
	}
	m.DateEnqueued = fromNanos(enqueued)
	m.DateLeft = fromNullNanos(left)
	return m, nil
}
