// Package cluster keeps a gateway's membership among the gateways that
// share one PostgreSQL database, notices when one of them dies and has
// exactly one survivor take its work over.
//
// Every node writes a heartbeat (its row in cluster_nodes: state, start
// time, last seen) every Options.Interval. A node whose heartbeat is older
// than Options.DeadAfter while it was up or draining is dead: each
// survivor that notices tries to claim it (one UPDATE that PostgreSQL
// row-locks, so one claim wins) and the winner runs Options.Takeover (end
// the dead node's calls, recordings and executions, send the callbacks it
// owed, adopt its messages and timers), then tells the NodeDied
// subscribers, then marks the node dead. A claim is a lease: a survivor
// that dies while taking over leaves a claim that lapses, and another
// survivor takes the node over again (the takeover's steps end only what
// is still unfinished, so nothing is done twice). A node that exits
// cleanly says so (state stopped) and is never taken over.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/clock"
	"github.com/voxgate/voxgate/store"
)

// Defaults of Options.
const (
	DefaultInterval  = 2 * time.Second
	DefaultDeadAfter = 10 * time.Second
)

// Store is what membership needs of the shared database.
type Store interface {
	Heartbeat(ctx context.Context, n store.Node) error
	ClusterNodes(ctx context.Context) ([]store.Node, error)
	ClaimDeadNode(ctx context.Context, node, by string, seenBefore, now, leaseUntil time.Time) (bool, error)
	FinishTakeover(ctx context.Context, node, by string) error
}

// Options configures a Membership.
type Options struct {
	NodeID string
	Store  Store
	// Interval is how often the node heartbeats and looks for dead nodes
	// (default DefaultInterval).
	Interval time.Duration
	// DeadAfter is how old a node's last heartbeat must be for it to be
	// dead (default DefaultDeadAfter; at least 2 × Interval).
	DeadAfter time.Duration
	// Draining, when set, reports that this node drains (its heartbeat
	// then says "draining").
	Draining func() bool
	// Takeover does a survivor's share of a dead node's work: it is run
	// by exactly one survivor per death (again by another if that one
	// dies before it is done). It must be safe to run twice for a node.
	Takeover func(ctx context.Context, dead store.Node) error
	Clock    clock.Clock // default the system clock
	Logger   *slog.Logger
}

// Membership is this node's heartbeat and its watch over the others.
type Membership struct {
	o         Options
	log       *slog.Logger
	started   time.Time
	mu        sync.Mutex
	died      []func(ctx context.Context, nodeID string)
	alive     atomic.Int64 // nodes seen alive at the last look, this one included
	takeovers atomic.Int64 // dead nodes this one took over
	wg        sync.WaitGroup
}

// New makes a Membership; Run starts it.
func New(o Options) *Membership {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.DeadAfter <= 0 {
		o.DeadAfter = DefaultDeadAfter
	}
	o.DeadAfter = max(o.DeadAfter, 2*o.Interval)
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Membership{o: o, log: log, started: o.Clock.Now()}
}

// NodeDied subscribes f to the death of other nodes: after this node has
// taken a dead node over, f is called with its ID on the survivor that
// took it over: once per death across the cluster, unless that takeover
// failed part-way and is run again (by this node or another), so f must
// be idempotent. A subscriber added while Run runs sees the deaths found
// after it subscribed. f runs on the takeover's goroutine
// with a context that outlives Run's; TaskRouter requeues or cancels the
// dead node's tasks this way.
func (m *Membership) NodeDied(f func(ctx context.Context, nodeID string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.died = append(m.died, f)
}

// Alive is how many nodes were alive at the last look (this one
// included; 0 before the first).
func (m *Membership) Alive() int { return int(m.alive.Load()) }

// Takeovers is how many dead nodes this node has taken over.
func (m *Membership) Takeovers() int { return int(m.takeovers.Load()) }

// Run heartbeats and watches the other nodes until ctx ends, then waits
// for a takeover under way and records that this node stopped cleanly.
func (m *Membership) Run(ctx context.Context) {
	m.beat(ctx, m.state())
	m.look(ctx)
	for {
		select {
		case <-ctx.Done():
			m.wg.Wait()
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			m.beat(stopCtx, store.NodeStopped)
			m.log.Info("cluster: left the cluster")
			return
		case <-m.o.Clock.After(m.o.Interval):
		}
		m.beat(ctx, m.state())
		m.look(ctx)
	}
}

func (m *Membership) state() string {
	if m.o.Draining != nil && m.o.Draining() {
		return store.NodeDraining
	}
	return store.NodeUp
}

// beat writes this node's heartbeat.
func (m *Membership) beat(ctx context.Context, state string) {
	err := m.o.Store.Heartbeat(ctx, store.Node{ID: m.o.NodeID, State: state, Started: m.started, LastSeen: m.o.Clock.Now()})
	if err != nil && ctx.Err() == nil {
		m.log.Warn("cluster: heartbeat not written; other nodes take this one for dead after cluster.dead_after", "error", err)
	}
}

// look counts the live nodes and claims the dead ones.
func (m *Membership) look(ctx context.Context) {
	nodes, err := m.o.Store.ClusterNodes(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("cluster: listing nodes", "error", err)
		}
		return
	}
	now := m.o.Clock.Now()
	cutoff := now.Add(-m.o.DeadAfter)
	alive := 0
	for _, n := range nodes {
		live := n.State == store.NodeUp || n.State == store.NodeDraining
		if n.ID == m.o.NodeID || (live && !n.LastSeen.Before(cutoff)) {
			alive++
			continue
		}
		if !live && n.State != store.NodeTakingOver {
			continue // stopped, or already taken over
		}
		ok, err := m.o.Store.ClaimDeadNode(ctx, n.ID, m.o.NodeID, cutoff, now, now.Add(m.o.DeadAfter))
		if err != nil {
			m.log.Warn("cluster: claiming a dead node", "dead_node", n.ID, "error", err)
			continue
		}
		if ok {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				m.takeOver(context.WithoutCancel(ctx), n)
			}()
		}
	}
	m.alive.Store(int64(alive))
}

// takeOver runs the takeover of a node this one claimed, tells the
// subscribers and marks the node dead.
func (m *Membership) takeOver(ctx context.Context, dead store.Node) {
	log := m.log.With("dead_node", dead.ID)
	log.Warn("cluster: node found dead, taking its work over", "last_seen", dead.LastSeen, "silent_for", m.o.Clock.Now().Sub(dead.LastSeen).Round(time.Millisecond).String())
	var err error
	if m.o.Takeover != nil {
		err = m.o.Takeover(ctx, dead)
	}
	m.mu.Lock()
	subs := slices.Clone(m.died)
	m.mu.Unlock()
	for _, f := range subs {
		f(ctx, dead.ID)
	}
	if err != nil {
		// The claim is left to lapse: another survivor (or this one) tries
		// again, and ends what is still unfinished.
		log.Error("cluster: takeover incomplete; it is retried once the claim lapses", "error", err)
		return
	}
	if err := m.o.Store.FinishTakeover(ctx, dead.ID, m.o.NodeID); err != nil {
		log.Error("cluster: marking the node taken over", "error", err)
	}
	m.takeovers.Add(1)
	log.Warn("cluster: node taken over")
}

// ErrNotClustered is returned by Nodes when the gateway runs alone.
var ErrNotClustered = errors.New("cluster: not clustered (storage.driver is not postgres)")

// Nodes returns the nodes of the cluster as the database knows them, each
// with whether it is alive now.
func (m *Membership) Nodes(ctx context.Context) ([]NodeStatus, error) {
	if m == nil {
		return nil, ErrNotClustered
	}
	nodes, err := m.o.Store.ClusterNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: nodes: %w", err)
	}
	cutoff := m.o.Clock.Now().Add(-m.o.DeadAfter)
	out := make([]NodeStatus, 0, len(nodes))
	for _, n := range nodes {
		live := (n.State == store.NodeUp || n.State == store.NodeDraining) && !n.LastSeen.Before(cutoff)
		out = append(out, NodeStatus{Node: n, Alive: live || n.ID == m.o.NodeID})
	}
	return out, nil
}

// NodeStatus is a node and whether it is alive.
type NodeStatus struct {
	store.Node
	Alive bool
}
