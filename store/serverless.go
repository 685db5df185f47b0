package store

import (
	"context"
	"fmt"
	"time"
)

// ServerlessRecord is one Serverless (Functions and Assets) resource: a
// Service, Environment, Function, Asset, Version, Build, Deployment or
// Variable, kept as the JSON document package functions defines.
type ServerlessRecord struct {
	SID         string
	Kind        string // "service", "environment", "function", …
	ParentSID   string // the owning resource ("" for services)
	Body        []byte // JSON
	DateCreated time.Time
}

// ServerlessStore keeps Serverless resources. *SQLite implements it.
type ServerlessStore interface {
	// PutServerless inserts r or replaces the record with r.SID (a zero
	// DateCreated on insert means now).
	PutServerless(ctx context.Context, r ServerlessRecord) error
	// ListServerless returns every record of kind, oldest first.
	ListServerless(ctx context.Context, kind string) ([]ServerlessRecord, error)
	// DeleteServerless removes the records with the given SIDs.
	DeleteServerless(ctx context.Context, sids ...string) error
}

var _ ServerlessStore = (*DB)(nil)

// PutServerless implements ServerlessStore.
func (s *DB) PutServerless(ctx context.Context, r ServerlessRecord) error {
	if r.DateCreated.IsZero() {
		r.DateCreated = s.now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO serverless_resources (sid, kind, parent_sid, body, date_created)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET body = excluded.body, parent_sid = excluded.parent_sid`,
		r.SID, r.Kind, r.ParentSID, r.Body, r.DateCreated.UnixNano())
	if err != nil {
		return fmt.Errorf("store: put %s %s: %w", r.Kind, r.SID, classify(err))
	}
	return nil
}

// ListServerless implements ServerlessStore.
func (s *DB) ListServerless(ctx context.Context, kind string) ([]ServerlessRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sid, kind, parent_sid, body, date_created FROM serverless_resources
		WHERE kind = ? ORDER BY date_created, sid`, kind)
	if err != nil {
		return nil, fmt.Errorf("store: list %s: %w", kind, err)
	}
	defer rows.Close()
	var out []ServerlessRecord
	for rows.Next() {
		var (
			r  ServerlessRecord
			ns int64
		)
		if err := rows.Scan(&r.SID, &r.Kind, &r.ParentSID, &r.Body, &ns); err != nil {
			return nil, fmt.Errorf("store: list %s: %w", kind, err)
		}
		r.DateCreated = time.Unix(0, ns).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", kind, err)
	}
	return out, nil
}

// DeleteServerless implements ServerlessStore.
func (s *DB) DeleteServerless(ctx context.Context, sids ...string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: delete serverless: %w", err)
	}
	defer tx.Rollback()
	for _, sid := range sids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM serverless_resources WHERE sid = ?`, sid); err != nil {
			return fmt.Errorf("store: delete %s: %w", sid, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: delete serverless: %w", err)
	}
	return nil
}
