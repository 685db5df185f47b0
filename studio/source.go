package studio

import (
	"context"
	"fmt"
	"sync"
)

// FlowSource gives the executor the flows to run.
type FlowSource interface {
	// Flow returns the revision of a flow that new calls run (the latest
	// published one), with Sid and Revision set; ErrNotFound if none.
	Flow(ctx context.Context, sid string) (*Flow, error)
}

// RevisionSource is a FlowSource that can also return a given revision.
// When the source implements it, an execution keeps running the revision
// it started with even if the flow is republished meanwhile, and
// run-subflow honours numeric flow_revision values.
type RevisionSource interface {
	FlowSource
	FlowRevision(ctx context.Context, sid string, revision int) (*Flow, error)
}

// ContactFlowSource is a FlowSource that picks the revision by contact:
// a flow's test users (the /v2 TestUsers) run its latest revision, even a
// draft, while everyone else runs the latest published one.
type ContactFlowSource interface {
	FlowSource
	// FlowForContact returns the revision new executions for contact
	// (the caller's number, or a REST start's To) run.
	FlowForContact(ctx context.Context, sid, contact string) (*Flow, error)
}

// flowFor returns the revision a new execution for contact runs.
func (x *Executor) flowFor(ctx context.Context, sid, contact string) (*Flow, error) {
	if cs, ok := x.opts.Flows.(ContactFlowSource); ok {
		return cs.FlowForContact(ctx, sid, contact)
	}
	return x.opts.Flows.Flow(ctx, sid)
}

// MemoryFlows is an in-memory RevisionSource. Flows handed to Put must not
// be modified afterwards.
type MemoryFlows struct {
	mu    sync.RWMutex
	flows map[string][]*Flow // sid → revisions, oldest first
}

// NewMemoryFlows returns an empty source.
func NewMemoryFlows() *MemoryFlows {
	return &MemoryFlows{flows: map[string][]*Flow{}}
}

// Put stores f as the newest revision of flow sid and returns its
// revision number (1, 2, …).
func (m *MemoryFlows) Put(sid string, f *Flow) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *f
	c.Sid = sid
	c.Revision = len(m.flows[sid]) + 1
	m.flows[sid] = append(m.flows[sid], &c)
	return c.Revision
}

// Delete removes a flow and its revisions.
func (m *MemoryFlows) Delete(sid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.flows, sid)
}

// Flow returns the newest revision of a flow.
func (m *MemoryFlows) Flow(_ context.Context, sid string) (*Flow, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	revs := m.flows[sid]
	if len(revs) == 0 {
		return nil, fmt.Errorf("flow %s: %w", sid, ErrNotFound)
	}
	return revs[len(revs)-1], nil
}

// FlowRevision returns one revision of a flow.
func (m *MemoryFlows) FlowRevision(_ context.Context, sid string, revision int) (*Flow, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	revs := m.flows[sid]
	if revision < 1 || revision > len(revs) {
		return nil, fmt.Errorf("flow %s revision %d: %w", sid, revision, ErrNotFound)
	}
	return revs[revision-1], nil
}
