package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// Flow statuses, as Studio names them.
const (
	FlowDraft     = "draft"
	FlowPublished = "published"
)

// FlowRevision is one saved version of a Studio flow. A flow's current
// state is its newest revision; Revision numbers start at 1.
type FlowRevision struct {
	FlowSID       string
	AccountSID    string
	Revision      int
	FriendlyName  string
	Status        string          // FlowDraft or FlowPublished
	Definition    json.RawMessage // the flow JSON as saved
	CommitMessage string
	Valid         bool
	// Errors and Warnings are JSON arrays (the API's errors/warnings); nil
	// is stored as [].
	Errors   json.RawMessage
	Warnings json.RawMessage
	// DateCreated is when the flow was created; DateUpdated is when this
	// revision was saved.
	DateCreated time.Time
	DateUpdated time.Time
}

// FlowStore keeps Studio flows and their revisions. *SQLite implements it.
type FlowStore interface {
	// CreateFlow stores a new flow (revision 1) and returns it as stored;
	// an empty FlowSID gets a new FW… sid.
	CreateFlow(ctx context.Context, r FlowRevision) (FlowRevision, error)
	// UpdateFlow saves r as the next revision of flow r.FlowSID.
	UpdateFlow(ctx context.Context, r FlowRevision) (FlowRevision, error)
	// GetFlow returns a flow's newest revision.
	GetFlow(ctx context.Context, flowSID string) (FlowRevision, error)
	// ListFlows returns one page of an account's flows (newest revision
	// each), most recently created first.
	ListFlows(ctx context.Context, accountSID string, p Page) ([]FlowRevision, PageToken, error)
	// DeleteFlow removes a flow, its revisions and its executions.
	DeleteFlow(ctx context.Context, flowSID string) error
	// GetFlowRevision returns one revision of a flow.
	GetFlowRevision(ctx context.Context, flowSID string, revision int) (FlowRevision, error)
	// LatestFlowRevision returns the newest revision of a flow with the
	// given status ("" for any).
	LatestFlowRevision(ctx context.Context, flowSID, status string) (FlowRevision, error)
	// ListFlowRevisions returns one page of a flow's revisions, newest first.
	ListFlowRevisions(ctx context.Context, flowSID string, p Page) ([]FlowRevision, PageToken, error)
}

var _ FlowStore = (*DB)(nil)

// revisionColumns are the columns scanFlowRevision reads, from
// flow_revisions r joined with flows f.
const revisionColumns = `r.flow_sid, f.account_sid, r.revision, r.friendly_name, r.status, r.definition,
	r.commit_message, r.valid, r.errors, r.warnings, f.date_created, r.date_created`

// revisionFrom joins a revision with its flow.
const revisionFrom = `flow_revisions r JOIN flows f ON f.sid = r.flow_sid`

// validateRevision checks what a revision must have.
func validateRevision(r FlowRevision) error {
	switch {
	case r.FlowSID == "":
		return fmt.Errorf("%w: missing flow sid", ErrInvalid)
	case r.Status != FlowDraft && r.Status != FlowPublished:
		return fmt.Errorf("%w: flow status %q", ErrInvalid, r.Status)
	case !json.Valid(r.Definition):
		return fmt.Errorf("%w: flow definition is not JSON", ErrInvalid)
	}
	return nil
}

// jsonArray is raw, or [] when empty.
func jsonArray(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "[]"
	}
	return string(raw)
}

// CreateFlow implements FlowStore.
func (s *DB) CreateFlow(ctx context.Context, r FlowRevision) (FlowRevision, error) {
	if r.FlowSID == "" {
		r.FlowSID = sid.New(sid.Flow)
	}
	if err := validateRevision(r); err != nil {
		return FlowRevision{}, fmt.Errorf("store: create flow: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixNano()
		if _, err := tx.ExecContext(ctx, `INSERT INTO flows (sid, account_sid, revision, date_created, date_updated)
			VALUES (?, ?, 1, ?, ?)`, r.FlowSID, r.AccountSID, now, now); err != nil {
			return classify(err)
		}
		return insertRevision(ctx, tx, r, 1, now)
	})
	if err != nil {
		return FlowRevision{}, fmt.Errorf("store: create flow %s: %w", r.FlowSID, err)
	}
	return s.GetFlow(ctx, r.FlowSID)
}

// UpdateFlow implements FlowStore.
func (s *DB) UpdateFlow(ctx context.Context, r FlowRevision) (FlowRevision, error) {
	if err := validateRevision(r); err != nil {
		return FlowRevision{}, fmt.Errorf("store: update flow: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// One statement reads and bumps the revision, so two concurrent
		// updates cannot both take the same number (PostgreSQL locks the
		// row; SQLite's writer is alone anyway).
		var rev int
		now := s.now().UnixNano()
		if err := tx.QueryRowContext(ctx, `UPDATE flows SET revision = revision + 1, date_updated = ?
			WHERE sid = ? RETURNING revision`, now, r.FlowSID).Scan(&rev); err != nil {
			return notFoundIfNoRows(err)
		}
		return insertRevision(ctx, tx, r, rev, now)
	})
	if err != nil {
		return FlowRevision{}, fmt.Errorf("store: update flow %s: %w", r.FlowSID, err)
	}
	return s.GetFlow(ctx, r.FlowSID)
}

// insertRevision writes revision rev of r.
func insertRevision(ctx context.Context, tx *sql.Tx, r FlowRevision, rev int, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO flow_revisions (flow_sid, revision, friendly_name, status, definition,
		commit_message, valid, errors, warnings, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.FlowSID, rev, r.FriendlyName, r.Status, string(r.Definition), r.CommitMessage, boolInt(r.Valid),
		jsonArray(r.Errors), jsonArray(r.Warnings), now)
	return classify(err)
}

// inTx runs fn in a write transaction.
func (s *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// GetFlow implements FlowStore.
func (s *DB) GetFlow(ctx context.Context, flowSID string) (FlowRevision, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+revisionColumns+` FROM `+revisionFrom+
		` WHERE f.sid = ? AND r.revision = f.revision`, flowSID)
	r, err := scanFlowRevision(row)
	if err != nil {
		return FlowRevision{}, fmt.Errorf("store: get flow %s: %w", flowSID, notFoundIfNoRows(err))
	}
	return r, nil
}

// ListFlows implements FlowStore.
func (s *DB) ListFlows(ctx context.Context, accountSID string, p Page) ([]FlowRevision, PageToken, error) {
	q := listQuery{table: revisionFrom, columns: revisionColumns, timeCol: "f.date_created", keyCols: []string{"f.sid"}, page: p}
	q.filter.add("r.revision = f.revision")
	q.filter.eq("f.account_sid", accountSID)
	out, next, err := list(ctx, s.r, q, scanFlowRevision, func(r FlowRevision) cursor {
		return cursor{at: r.DateCreated.UnixNano(), keys: []string{r.FlowSID}}
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list flows: %w", err)
	}
	return out, next, nil
}

// DeleteFlow implements FlowStore.
func (s *DB) DeleteFlow(ctx context.Context, flowSID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM flows WHERE sid = ?`, flowSID)
		if err == nil {
			err = expectOneRow(res)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM flow_executions WHERE flow_sid = ?`, flowSID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete flow %s: %w", flowSID, err)
	}
	return nil
}

// GetFlowRevision implements FlowStore.
func (s *DB) GetFlowRevision(ctx context.Context, flowSID string, revision int) (FlowRevision, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+revisionColumns+` FROM `+revisionFrom+
		` WHERE r.flow_sid = ? AND r.revision = ?`, flowSID, revision)
	r, err := scanFlowRevision(row)
	if err != nil {
		return FlowRevision{}, fmt.Errorf("store: get flow %s revision %d: %w", flowSID, revision, notFoundIfNoRows(err))
	}
	return r, nil
}

// LatestFlowRevision implements FlowStore.
func (s *DB) LatestFlowRevision(ctx context.Context, flowSID, status string) (FlowRevision, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+revisionColumns+` FROM `+revisionFrom+
		` WHERE r.flow_sid = ? AND (? = '' OR r.status = ?) ORDER BY r.revision DESC LIMIT 1`, flowSID, status, status)
	r, err := scanFlowRevision(row)
	if err != nil {
		return FlowRevision{}, fmt.Errorf("store: latest %s revision of flow %s: %w", status, flowSID, notFoundIfNoRows(err))
	}
	return r, nil
}

// ListFlowRevisions implements FlowStore.
func (s *DB) ListFlowRevisions(ctx context.Context, flowSID string, p Page) ([]FlowRevision, PageToken, error) {
	if _, err := s.GetFlow(ctx, flowSID); err != nil {
		return nil, "", err
	}
	q := listQuery{table: revisionFrom, columns: revisionColumns, timeCol: "r.revision", page: p}
	q.filter.eq("r.flow_sid", flowSID)
	out, next, err := list(ctx, s.r, q, scanFlowRevision, func(r FlowRevision) cursor {
		return cursor{at: int64(r.Revision)}
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list revisions of flow %s: %w", flowSID, err)
	}
	return out, next, nil
}

// scanFlowRevision reads the revisionColumns of one row.
func scanFlowRevision(row rowScanner) (FlowRevision, error) {
	var (
		r                FlowRevision
		def, errs, warns string
		created, updated int64
	)
	if err := row.Scan(&r.FlowSID, &r.AccountSID, &r.Revision, &r.FriendlyName, &r.Status, &def,
		&r.CommitMessage, &r.Valid, &errs, &warns, &created, &updated); err != nil {
		return FlowRevision{}, err
	}
	r.Definition = json.RawMessage(def)
	r.Errors = json.RawMessage(errs)
	r.Warnings = json.RawMessage(warns)
	r.DateCreated = fromNanos(created)
	r.DateUpdated = fromNanos(updated)
	return r, nil
}
