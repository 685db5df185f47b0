package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// FlowTestUserStore keeps each Studio flow's test users: the contacts
// (phone numbers, client identities, SIP addresses) that run the flow's
// latest revision, even a draft, instead of its latest published one.
// *SQLite implements it.
type FlowTestUserStore interface {
	// FlowTestUsers returns a flow's test users in the order they were
	// set (ErrNotFound for an unknown flow).
	FlowTestUsers(ctx context.Context, flowSID string) ([]string, error)
	// SetFlowTestUsers replaces a flow's test users; blanks and repeats are
	// dropped. It returns the list as stored.
	SetFlowTestUsers(ctx context.Context, flowSID string, users []string) ([]string, error)
}

var _ FlowTestUserStore = (*DB)(nil)

// FlowTestUsers implements FlowTestUserStore.
func (s *DB) FlowTestUsers(ctx context.Context, flowSID string) ([]string, error) {
	var users []string
	err := func() error {
		var one int
		if err := s.r.QueryRowContext(ctx, `SELECT 1 FROM flows WHERE sid = ?`, flowSID).Scan(&one); err != nil {
			return notFoundIfNoRows(err)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT identity FROM flow_test_users WHERE flow_sid = ? ORDER BY position`, flowSID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return err
			}
			users = append(users, u)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("store: test users of flow %s: %w", flowSID, err)
	}
	return users, nil
}

// SetFlowTestUsers implements FlowTestUserStore.
func (s *DB) SetFlowTestUsers(ctx context.Context, flowSID string, users []string) ([]string, error) {
	var kept []string
	seen := map[string]bool{}
	for _, u := range users {
		if u = strings.TrimSpace(u); u != "" && !seen[u] {
			seen[u] = true
			kept = append(kept, u)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM flows WHERE sid = ?`, flowSID).Scan(&one); err != nil {
			return notFoundIfNoRows(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM flow_test_users WHERE flow_sid = ?`, flowSID); err != nil {
			return err
		}
		for i, u := range kept {
			if _, err := tx.ExecContext(ctx, `INSERT INTO flow_test_users (flow_sid, position, identity) VALUES (?, ?, ?)`,
				flowSID, i, u); err != nil {
				return classify(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: set test users of flow %s: %w", flowSID, err)
	}
	return kept, nil
}
