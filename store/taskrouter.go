package store

import (
	"context"
	"fmt"
)

// TaskRouterRecord is one TaskRouter resource (workspace, activity,
// worker, task, …) as its JSON document: package taskrouter owns the
// shape, the store only keeps it.
type TaskRouterRecord struct {
	SID          string
	WorkspaceSID string
	Kind         string // the SID prefix: WS, WA, TC, WK, WQ, WW, WT, WR
	Body         []byte
}

// TaskRouterStore keeps TaskRouter's resources.
type TaskRouterStore interface {
	// LoadTaskRouter returns every record.
	LoadTaskRouter(ctx context.Context) ([]TaskRouterRecord, error)
	// SaveTaskRouter writes puts (inserting or replacing by SID) and
	// removes deletes, in one transaction.
	SaveTaskRouter(ctx context.Context, puts []TaskRouterRecord, deletes []string) error
}

var _ TaskRouterStore = (*DB)(nil)

// LoadTaskRouter implements TaskRouterStore.
func (s *DB) LoadTaskRouter(ctx context.Context) ([]TaskRouterRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sid, workspace_sid, kind, body FROM taskrouter_records`)
	if err != nil {
		return nil, fmt.Errorf("store: load taskrouter: %w", err)
	}
	defer rows.Close()
	var out []TaskRouterRecord
	for rows.Next() {
		var rec TaskRouterRecord
		if err := rows.Scan(&rec.SID, &rec.WorkspaceSID, &rec.Kind, &rec.Body); err != nil {
			return nil, fmt.Errorf("store: load taskrouter: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load taskrouter: %w", err)
	}
	return out, nil
}

// SaveTaskRouter implements TaskRouterStore.
func (s *DB) SaveTaskRouter(ctx context.Context, puts []TaskRouterRecord, deletes []string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: save taskrouter: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	now := s.now().UnixNano()
	if len(puts) > 0 {
		put, err := tx.PrepareContext(ctx, `INSERT INTO taskrouter_records (sid, workspace_sid, kind, body, date_updated)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (sid) DO UPDATE SET body = excluded.body, date_updated = excluded.date_updated`)
		if err != nil {
			return fmt.Errorf("store: save taskrouter: %w", err)
		}
		defer put.Close()
		for _, rec := range puts {
			if rec.SID == "" || rec.Kind == "" {
				return fmt.Errorf("store: save taskrouter: record without SID or kind: %w", ErrInvalid)
			}
			if _, err := put.ExecContext(ctx, rec.SID, rec.WorkspaceSID, rec.Kind, rec.Body, now); err != nil {
				return fmt.Errorf("store: save taskrouter %s: %w", rec.SID, err)
			}
		}
	}
	for _, sid := range deletes {
		if _, err := tx.ExecContext(ctx, `DELETE FROM taskrouter_records WHERE sid = ?`, sid); err != nil {
			return fmt.Errorf("store: delete taskrouter %s: %w", sid, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: save taskrouter: %w", err)
	}
	return nil
}
