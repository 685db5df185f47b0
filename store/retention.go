package store

import (
	"context"
	"fmt"
	"time"
)

// DeleteCallsCreatedBefore deletes up to limit ended calls created before
// t (oldest first) and returns how many it deleted; call it again until
// that is less than limit. Calls still queued, ringing or in progress are
// kept, and so are recordings (their files are the caller's to remove).
func (s *DB) DeleteCallsCreatedBefore(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("store: delete old calls: %w: limit %d", ErrInvalid, limit)
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM calls WHERE sid IN (
		SELECT sid FROM calls WHERE date_created < ? AND status IN (?, ?, ?, ?, ?)
		ORDER BY date_created LIMIT ?)`,
		t.UnixNano(), string(CallCompleted), string(CallBusy), string(CallFailed), string(CallNoAnswer), string(CallCanceled), limit)
	if err != nil {
		return 0, fmt.Errorf("store: delete calls created before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
