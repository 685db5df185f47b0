package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/voxgate/voxgate/store"
)

// SQLStore is an ExecutionStore on the gateway's database
// (store.FlowExecutionStore, i.e. *store.SQLite): executions and steps
// survive restarts and the /v2 API reads what the executor wrote.
type SQLStore struct {
	db store.FlowExecutionStore
}

var _ ExecutionStore = (*SQLStore)(nil)

// NewSQLStore returns an ExecutionStore on db.
func NewSQLStore(db store.FlowExecutionStore) *SQLStore { return &SQLStore{db: db} }

// mapStoreErr turns store.ErrNotFound into ErrNotFound (keeping the text).
func mapStoreErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// row is e as a store row.
func executionRow(e *Execution) (store.FlowExecution, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return store.FlowExecution{}, fmt.Errorf("execution %s: %w", e.Sid, err)
	}
	return store.FlowExecution{SID: e.Sid, FlowSID: e.FlowSid, Status: e.Status, CallSID: e.CallSid,
		ContactAddress: e.ContactAddress, Body: b, DateCreated: e.DateCreated, DateUpdated: e.DateUpdated}, nil
}

// executionFromRow decodes a stored execution.
func executionFromRow(r store.FlowExecution) (*Execution, error) {
	var e Execution
	if err := decodeJSON(r.Body, &e); err != nil {
		return nil, fmt.Errorf("execution %s: %w", r.SID, err)
	}
	return &e, nil
}

// CreateExecution stores a new execution.
func (s *SQLStore) CreateExecution(ctx context.Context, e *Execution) error {
	r, err := executionRow(e)
	if err != nil {
		return err
	}
	return mapStoreErr(s.db.CreateFlowExecution(ctx, r))
}

// UpdateExecution replaces a stored execution.
func (s *SQLStore) UpdateExecution(ctx context.Context, e *Execution) error {
	r, err := executionRow(e)
	if err != nil {
		return err
	}
	return mapStoreErr(s.db.UpdateFlowExecution(ctx, r))
}

// Execution returns one execution.
func (s *SQLStore) Execution(ctx context.Context, sid string) (*Execution, error) {
	r, err := s.db.GetFlowExecution(ctx, sid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return executionFromRow(r)
}

// ActiveExecutionForCall returns the active execution of a call.
func (s *SQLStore) ActiveExecutionForCall(ctx context.Context, callSid string) (*Execution, error) {
	if callSid == "" {
		return nil, fmt.Errorf("active execution for a call without sid: %w", ErrNotFound)
	}
	r, err := s.db.ActiveFlowExecutionForCall(ctx, callSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return executionFromRow(r)
}

// Executions lists executions, newest first.
func (s *SQLStore) Executions(ctx context.Context, f ExecutionFilter) ([]*Execution, error) {
	rows, err := s.db.ListFlowExecutions(ctx, store.FlowExecutionFilter{FlowSID: f.FlowSid, Status: f.Status,
		ContactAddress: f.ContactAddress, Created: store.TimeRange{From: f.CreatedFrom, Before: f.CreatedTo}})
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]*Execution, 0, len(rows))
	for _, r := range rows {
		e, err := executionFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// DeleteExecution removes an execution and its steps.
func (s *SQLStore) DeleteExecution(ctx context.Context, sid string) error {
	return mapStoreErr(s.db.DeleteFlowExecution(ctx, sid))
}

// AddStep stores a step of an existing execution.
func (s *SQLStore) AddStep(ctx context.Context, st *Step) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("step %s: %w", st.Sid, err)
	}
	return mapStoreErr(s.db.AddFlowStep(ctx, store.FlowStep{SID: st.Sid, ExecutionSID: st.ExecutionSid, Body: b}))
}

// Steps lists an execution's steps, oldest first.
func (s *SQLStore) Steps(ctx context.Context, executionSid string) ([]*Step, error) {
	rows, err := s.db.ListFlowSteps(ctx, executionSid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]*Step, 0, len(rows))
	for _, r := range rows {
		var st Step
		if err := decodeJSON(r.Body, &st); err != nil {
			return nil, fmt.Errorf("step %s: %w", r.SID, err)
		}
		out = append(out, &st)
	}
	return out, nil
}

// SQLFlows is a RevisionSource on the flows the /v2 API saves
// (store.FlowStore): new calls run a flow's latest published revision,
// except for its test users (when db is also a store.FlowTestUserStore),
// who run its latest revision, draft or not.
type SQLFlows struct {
	db store.FlowStore
}

var (
	_ RevisionSource    = (*SQLFlows)(nil)
	_ ContactFlowSource = (*SQLFlows)(nil)
)

// NewSQLFlows returns a RevisionSource on db.
func NewSQLFlows(db store.FlowStore) *SQLFlows { return &SQLFlows{db: db} }

// Flow returns the latest published revision of a flow.
func (s *SQLFlows) Flow(ctx context.Context, sid string) (*Flow, error) {
	r, err := s.db.LatestFlowRevision(ctx, sid, store.FlowPublished)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return flowFromRevision(r)
}

// FlowForContact returns the latest revision of a flow (a draft
// included) when contact is one of its test users, else the latest
// published one.
func (s *SQLFlows) FlowForContact(ctx context.Context, sid, contact string) (*Flow, error) {
	tu, ok := s.db.(store.FlowTestUserStore)
	if !ok || contact == "" {
		return s.Flow(ctx, sid)
	}
	users, err := tu.FlowTestUsers(ctx, sid)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if !slices.Contains(users, contact) {
		return s.Flow(ctx, sid)
	}
	r, err := s.db.LatestFlowRevision(ctx, sid, "")
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return flowFromRevision(r)
}

// FlowRevision returns one revision of a flow.
func (s *SQLFlows) FlowRevision(ctx context.Context, sid string, revision int) (*Flow, error) {
	r, err := s.db.GetFlowRevision(ctx, sid, revision)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return flowFromRevision(r)
}

// flowFromRevision parses a stored revision.
func flowFromRevision(r store.FlowRevision) (*Flow, error) {
	f, err := Parse(r.Definition)
	if err != nil {
		return nil, fmt.Errorf("flow %s revision %d: %w", r.FlowSID, r.Revision, err)
	}
	f.Sid, f.Revision = r.FlowSID, r.Revision
	return f, nil
}

// timerClaimer is the store's ClaimTimer (store.DB has it).
type timerClaimer interface {
	ClaimTimer(ctx context.Context, key string) (bool, error)
}

// ClaimTimer reports whether this gateway is the first to fire the timer
// named key, when gateways share the database (a store without claims:
// always true).
func (s *SQLStore) ClaimTimer(ctx context.Context, key string) (bool, error) {
	c, ok := s.db.(timerClaimer)
	if !ok {
		return true, nil
	}
	return c.ClaimTimer(ctx, key)
}
