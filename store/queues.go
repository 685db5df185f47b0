package store

import (
	"context"
	"fmt"

	"github.com/voxgate/voxgate/sid"
)

const queueColumns = `sid, account_sid, friendly_name, max_size, date_created, date_updated`

// validateNewQueue checks what the store needs of a new queue, after
// defaults are applied.
func validateNewQueue(q Queue) error {
	switch {
	case q.SID == "":
		return fmt.Errorf("%w: empty SID", ErrInvalid)
	case q.AccountSID == "":
		return fmt.Errorf("%w: empty AccountSID", ErrInvalid)
	case q.FriendlyName == "":
		return fmt.Errorf("%w: empty FriendlyName", ErrInvalid)
	case q.MaxSize <= 0:
		return fmt.Errorf("%w: MaxSize %d", ErrInvalid, q.MaxSize)
	}
	return nil
}

// CreateQueue implements QueueStore.
func (s *DB) CreateQueue(ctx context.Context, q Queue) (Queue, error) {
	if q.SID == "" {
		q.SID = sid.New(sid.Queue)
	}
	if q.MaxSize == 0 {
		q.MaxSize = DefaultQueueMaxSize
	}
	if err := validateNewQueue(q); err != nil {
		return Queue{}, fmt.Errorf("store: create queue %q: %w", q.FriendlyName, err)
	}
	now := s.now().UnixNano()
	row := queryFinished(s.w.QueryContext(ctx, `INSERT INTO queues (`+queueColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		RETURNING `+queueColumns, q.SID, q.AccountSID, q.FriendlyName, q.MaxSize, now, now))
	stored, err := scanQueue(row)
	if err != nil {
		return Queue{}, fmt.Errorf("store: create queue %q: %w", q.FriendlyName, classify(err))
	}
	return stored, nil
}

// GetQueue implements QueueStore.
func (s *DB) GetQueue(ctx context.Context, sid string) (Queue, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+queueColumns+` FROM queues WHERE sid = ?`, sid)
	q, err := scanQueue(row)
	if err != nil {
		return Queue{}, fmt.Errorf("store: get queue %s: %w", sid, notFoundIfNoRows(err))
	}
	return q, nil
}

// GetQueueByName implements QueueStore.
func (s *DB) GetQueueByName(ctx context.Context, accountSID, name string) (Queue, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+queueColumns+` FROM queues
		WHERE account_sid = ? AND friendly_name = ?`, accountSID, name)
	q, err := scanQueue(row)
	if err != nil {
		return Queue{}, fmt.Errorf("store: get queue %q of %s: %w", name, accountSID, notFoundIfNoRows(err))
	}
	return q, nil
}

// UpdateQueue implements QueueStore.
func (s *DB) UpdateQueue(ctx context.Context, q Queue) (Queue, error) {
	if q.MaxSize < 0 {
		return Queue{}, fmt.Errorf("store: update queue %s: %w: MaxSize %d", q.SID, ErrInvalid, q.MaxSize)
	}
	row := queryFinished(s.w.QueryContext(ctx, `UPDATE queues SET
			friendly_name = coalesce(nullif(?, ''), friendly_name),
			max_size = coalesce(nullif(?, 0), max_size),
			date_updated = ?
		WHERE sid = ? RETURNING `+queueColumns, q.FriendlyName, q.MaxSize, s.now().UnixNano(), q.SID))
	stored, err := scanQueue(row)
	if err != nil {
		return Queue{}, fmt.Errorf("store: update queue %s: %w", q.SID, classify(notFoundIfNoRows(err)))
	}
	return stored, nil
}

// ListQueues implements QueueStore.
func (s *DB) ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, PageToken, error) {
	q := listQuery{table: "queues", columns: queueColumns, timeCol: "date_created", keyCols: []string{"sid"}, page: p}
	q.filter.eq("account_sid", f.AccountSID)
	queues, next, err := list(ctx, s.r, q, scanQueue, queueCursor)
	if err != nil {
		return nil, "", fmt.Errorf("store: list queues: %w", err)
	}
	return queues, next, nil
}

// DeleteQueue implements QueueStore.
func (s *DB) DeleteQueue(ctx context.Context, sid string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM queues WHERE sid = ?`, sid)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: delete queue %s: %w", sid, err)
	}
	return nil
}

// queueCursor is q's place in the newest-first order.
func queueCursor(q Queue) cursor {
	return cursor{at: q.DateCreated.UnixNano(), keys: []string{q.SID}}
}

// scanQueue reads the queueColumns of one row.
func scanQueue(row rowScanner) (Queue, error) {
	var (
		q                Queue
		created, updated int64
	)
	if err := row.Scan(&q.SID, &q.AccountSID, &q.FriendlyName, &q.MaxSize, &created, &updated); err != nil {
		return Queue{}, err
	}
	q.DateCreated = fromNanos(created)
	q.DateUpdated = fromNanos(updated)
	return q, nil
}
