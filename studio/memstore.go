package studio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

// MemoryStore is an in-memory ExecutionStore. Values are copied through
// JSON on the way in and out, as a database would.
type MemoryStore struct {
	mu     sync.Mutex
	execs  map[string]storedExecution
	steps  map[string][][]byte // execution sid → steps' JSON
	active map[string]string   // call sid → sid of its active execution
}

// storedExecution is an execution's JSON and the fields filters use.
type storedExecution struct {
	json []byte
	meta Execution // only the scalar fields are set
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{execs: map[string]storedExecution{}, steps: map[string][][]byte{}, active: map[string]string{}}
}

// put stores e (m.mu held).
func (m *MemoryStore) put(e *Execution, b []byte) {
	if old, ok := m.execs[e.Sid]; ok && m.active[old.meta.CallSid] == e.Sid {
		delete(m.active, old.meta.CallSid)
	}
	meta := *e
	meta.Context, meta.Runtime = nil, Runtime{}
	m.execs[e.Sid] = storedExecution{json: b, meta: meta}
	if e.Status == StatusActive && e.CallSid != "" {
		m.active[e.CallSid] = e.Sid
	}
}

// decodeJSON decodes with numbers kept as json.Number (exact).
func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// CreateExecution stores a new execution.
func (m *MemoryStore) CreateExecution(_ context.Context, e *Execution) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store execution %s: %w", e.Sid, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.execs[e.Sid]; dup {
		return fmt.Errorf("store execution %s: already exists", e.Sid)
	}
	m.put(e, b)
	return nil
}

// UpdateExecution replaces a stored execution.
func (m *MemoryStore) UpdateExecution(_ context.Context, e *Execution) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store execution %s: %w", e.Sid, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.execs[e.Sid]; !ok {
		return fmt.Errorf("execution %s: %w", e.Sid, ErrNotFound)
	}
	m.put(e, b)
	return nil
}

// Execution returns a copy of one execution.
func (m *MemoryStore) Execution(_ context.Context, sid string) (*Execution, error) {
	m.mu.Lock()
	stored, ok := m.execs[sid]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("execution %s: %w", sid, ErrNotFound)
	}
	var e Execution
	if err := decodeJSON(stored.json, &e); err != nil {
		return nil, fmt.Errorf("execution %s: %w", sid, err)
	}
	return &e, nil
}

// ActiveExecutionForCall returns the active execution of a call.
func (m *MemoryStore) ActiveExecutionForCall(ctx context.Context, callSid string) (*Execution, error) {
	m.mu.Lock()
	sid, ok := m.active[callSid]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("active execution for call %s: %w", callSid, ErrNotFound)
	}
	return m.Execution(ctx, sid)
}

// Executions lists the executions passing f, newest first.
func (m *MemoryStore) Executions(_ context.Context, f ExecutionFilter) ([]*Execution, error) {
	m.mu.Lock()
	var raw [][]byte
	for _, stored := range m.execs {
		if f.Matches(&stored.meta) {
			raw = append(raw, stored.json)
		}
	}
	m.mu.Unlock()
	var out []*Execution
	for _, b := range raw {
		var e Execution
		if err := decodeJSON(b, &e); err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		out = append(out, &e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].DateCreated.Equal(out[j].DateCreated) {
			return out[i].DateCreated.After(out[j].DateCreated)
		}
		return out[i].Sid > out[j].Sid
	})
	return out, nil
}

// DeleteExecution removes an execution and its steps.
func (m *MemoryStore) DeleteExecution(_ context.Context, sid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, ok := m.execs[sid]
	if !ok {
		return fmt.Errorf("execution %s: %w", sid, ErrNotFound)
	}
	if m.active[stored.meta.CallSid] == sid {
		delete(m.active, stored.meta.CallSid)
	}
	delete(m.execs, sid)
	delete(m.steps, sid)
	return nil
}

// AddStep stores a step of an existing execution.
func (m *MemoryStore) AddStep(_ context.Context, s *Step) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("store step %s: %w", s.Sid, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.execs[s.ExecutionSid]; !ok {
		return fmt.Errorf("step %s: execution %s: %w", s.Sid, s.ExecutionSid, ErrNotFound)
	}
	m.steps[s.ExecutionSid] = append(m.steps[s.ExecutionSid], b)
	return nil
}

// Steps lists an execution's steps, oldest first.
func (m *MemoryStore) Steps(_ context.Context, executionSid string) ([]*Step, error) {
	m.mu.Lock()
	raw, ok := m.steps[executionSid]
	_, exists := m.execs[executionSid]
	raw = append([][]byte(nil), raw...)
	m.mu.Unlock()
	if !exists && !ok {
		return nil, fmt.Errorf("execution %s: %w", executionSid, ErrNotFound)
	}
	out := make([]*Step, 0, len(raw))
	for _, b := range raw {
		var s Step
		if err := decodeJSON(b, &s); err != nil {
			return nil, fmt.Errorf("steps of %s: %w", executionSid, err)
		}
		out = append(out, &s)
	}
	return out, nil
}
