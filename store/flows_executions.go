package store

import (
	"context"
	"fmt"
	"time"
)

// FlowExecution is a stored Studio execution: the columns filters use and
// the whole execution as an opaque JSON Body (the ivr/studio package
// decides its shape).
type FlowExecution struct {
	SID            string
	FlowSID        string
	Status         string
	CallSID        string
	ContactAddress string
	Body           []byte
	DateCreated    time.Time
	DateUpdated    time.Time
}

// FlowExecutionFilter selects executions; zero fields match everything.
type FlowExecutionFilter struct {
	FlowSID        string
	Status         string
	ContactAddress string
	Created        TimeRange
}

// FlowStep is a stored step of an execution, as opaque JSON.
type FlowStep struct {
	SID          string
	ExecutionSID string
	Body         []byte
}

// FlowExecutionStore keeps Studio executions and their steps. *SQLite
// implements it.
type FlowExecutionStore interface {
	// CreateFlowExecution stores a new execution (ErrDuplicate if its sid exists).
	CreateFlowExecution(ctx context.Context, e FlowExecution) error
	// UpdateFlowExecution replaces an execution (ErrNotFound if absent).
	UpdateFlowExecution(ctx context.Context, e FlowExecution) error
	// GetFlowExecution returns one execution.
	GetFlowExecution(ctx context.Context, sid string) (FlowExecution, error)
	// ActiveFlowExecutionForCall returns the newest active execution of a call.
	ActiveFlowExecutionForCall(ctx context.Context, callSID string) (FlowExecution, error)
	// ListFlowExecutions returns every execution matching f, newest first.
	ListFlowExecutions(ctx context.Context, f FlowExecutionFilter) ([]FlowExecution, error)
	// DeleteFlowExecution removes an execution and its steps.
	DeleteFlowExecution(ctx context.Context, sid string) error
	// AddFlowStep appends a step to an existing execution (ErrNotFound if
	// the execution is absent).
	AddFlowStep(ctx context.Context, s FlowStep) error
	// ListFlowSteps returns an execution's steps, oldest first
	// (ErrNotFound if the execution is absent).
	ListFlowSteps(ctx context.Context, executionSID string) ([]FlowStep, error)
}

var _ FlowExecutionStore = (*DB)(nil)

const executionColumns = `sid, flow_sid, status, call_sid, contact_address, body, date_created, date_updated`

// validateExecution checks what an execution must have.
func validateExecution(e FlowExecution) error {
	if e.SID == "" || e.FlowSID == "" || e.Status == "" {
		return fmt.Errorf("%w: execution needs a sid, flow sid and status", ErrInvalid)
	}
	if err := checkTime("date_created", e.DateCreated); err != nil {
		return err
	}
	return checkTime("date_updated", e.DateUpdated)
}

// CreateFlowExecution implements FlowExecutionStore.
func (s *DB) CreateFlowExecution(ctx context.Context, e FlowExecution) error {
	if err := validateExecution(e); err != nil {
		return fmt.Errorf("store: create execution: %w", err)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO flow_executions (`+executionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.SID, e.FlowSID, e.Status, e.CallSID, e.ContactAddress, string(e.Body), e.DateCreated.UnixNano(), e.DateUpdated.UnixNano())
	if err != nil {
		return fmt.Errorf("store: create execution %s: %w", e.SID, classify(err))
	}
	return nil
}

// UpdateFlowExecution implements FlowExecutionStore.
func (s *DB) UpdateFlowExecution(ctx context.Context, e FlowExecution) error {
	if err := validateExecution(e); err != nil {
		return fmt.Errorf("store: update execution: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE flow_executions SET flow_sid = ?, status = ?, call_sid = ?, contact_address = ?,
		body = ?, date_created = ?, date_updated = ? WHERE sid = ?`,
		e.FlowSID, e.Status, e.CallSID, e.ContactAddress, string(e.Body), e.DateCreated.UnixNano(), e.DateUpdated.UnixNano(), e.SID)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: update execution %s: %w", e.SID, err)
	}
	return nil
}

// GetFlowExecution implements FlowExecutionStore.
func (s *DB) GetFlowExecution(ctx context.Context, sid string) (FlowExecution, error) {
	e, err := scanExecution(s.r.QueryRowContext(ctx, `SELECT `+executionColumns+` FROM flow_executions WHERE sid = ?`, sid))
	if err != nil {
		return FlowExecution{}, fmt.Errorf("store: get execution %s: %w", sid, notFoundIfNoRows(err))
	}
	return e, nil
}

// ActiveFlowExecutionForCall implements FlowExecutionStore.
func (s *DB) ActiveFlowExecutionForCall(ctx context.Context, callSID string) (FlowExecution, error) {
	e, err := scanExecution(s.r.QueryRowContext(ctx, `SELECT `+executionColumns+` FROM flow_executions
		WHERE call_sid = ? AND status = 'active' ORDER BY date_created DESC, sid DESC LIMIT 1`, callSID))
	if err != nil {
		return FlowExecution{}, fmt.Errorf("store: active execution of call %s: %w", callSID, notFoundIfNoRows(err))
	}
	return e, nil
}

// ListFlowExecutions implements FlowExecutionStore.
func (s *DB) ListFlowExecutions(ctx context.Context, f FlowExecutionFilter) ([]FlowExecution, error) {
	if err := checkRange("date_created", f.Created); err != nil {
		return nil, fmt.Errorf("store: list executions: %w", err)
	}
	var c conds
	c.eq("flow_sid", f.FlowSID)
	c.eq("status", f.Status)
	c.eq("contact_address", f.ContactAddress)
	c.within("date_created", f.Created)
	rows, err := s.r.QueryContext(ctx, `SELECT `+executionColumns+` FROM flow_executions`+c.where()+
		` ORDER BY date_created DESC, sid DESC`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list executions: %w", err)
	}
	defer rows.Close()
	var out []FlowExecution
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list executions: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list executions: %w", err)
	}
	return out, nil
}

// DeleteFlowExecution implements FlowExecutionStore.
func (s *DB) DeleteFlowExecution(ctx context.Context, sid string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM flow_executions WHERE sid = ?`, sid)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: delete execution %s: %w", sid, err)
	}
	return nil
}

// AddFlowStep implements FlowExecutionStore.
func (s *DB) AddFlowStep(ctx context.Context, st FlowStep) error {
	if st.SID == "" || st.ExecutionSID == "" {
		return fmt.Errorf("store: add step: %w: step needs a sid and an execution sid", ErrInvalid)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO flow_steps (sid, execution_sid, seq, body)
		VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM flow_steps WHERE execution_sid = ?), ?)`,
		st.SID, st.ExecutionSID, st.ExecutionSID, string(st.Body))
	if err != nil {
		return fmt.Errorf("store: add step %s: %w", st.SID, classify(err))
	}
	return nil
}

// ListFlowSteps implements FlowExecutionStore.
func (s *DB) ListFlowSteps(ctx context.Context, executionSID string) ([]FlowStep, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM flow_executions WHERE sid = ?`, executionSID).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: steps of %s: %w", executionSID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("store: steps of %s: %w", executionSID, ErrNotFound)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT sid, body FROM flow_steps WHERE execution_sid = ? ORDER BY seq`, executionSID)
	if err != nil {
		return nil, fmt.Errorf("store: steps of %s: %w", executionSID, err)
	}
	defer rows.Close()
	var out []FlowStep
	for rows.Next() {
		st := FlowStep{ExecutionSID: executionSID}
		var body string
		if err := rows.Scan(&st.SID, &body); err != nil {
			return nil, fmt.Errorf("store: steps of %s: %w", executionSID, err)
		}
		st.Body = []byte(body)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: steps of %s: %w", executionSID, err)
	}
	return out, nil
}

// scanExecution reads the executionColumns of one row.
func scanExecution(row rowScanner) (FlowExecution, error) {
	var (
		e                FlowExecution
		body             string
		created, updated int64
	)
	if err := row.Scan(&e.SID, &e.FlowSID, &e.Status, &e.CallSID, &e.ContactAddress, &body, &created, &updated); err != nil {
		return FlowExecution{}, err
	}
	e.Body = []byte(body)
	e.DateCreated = fromNanos(created)
	e.DateUpdated = fromNanos(updated)
	return e, nil
}
