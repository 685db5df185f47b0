package store

import (
	"context"
	"fmt"
	"time"
)

// Leader is the record of a cluster role's current holder (the node that
// runs the TaskRouter engine): who it is, where the other nodes reach it
// and its term, which grows by one with every new holder.
type Leader struct {
	Name        string // the role, e.g. "taskrouter"
	NodeID      string
	HTTPURL     string // the node's internal HTTP base URL
	Term        int64
	DateUpdated time.Time
}

// Presence says on which node an agent's desktop is connected, and the SIP
// URI at which that node rings the agent.
type Presence struct {
	AgentID string
	NodeID  string
	// Session names one desktop connection, so that the end of an older
	// connection does not erase a newer one on the same node.
	Session     string
	SIPURI      string
	DateUpdated time.Time
}

// ClusterStateStore keeps what the nodes of a cluster share about each
// other's live state (migration 13).
type ClusterStateStore interface {
	// ClaimLeader records nodeID as the holder of role name (the caller
	// holds the role's lock) and returns the record with its new term.
	ClaimLeader(ctx context.Context, l Leader) (Leader, error)
	// GetLeader returns the holder of role name, or an error matching
	// ErrNotFound when none was ever recorded.
	GetLeader(ctx context.Context, name string) (Leader, error)
	// PutPresence records that p.AgentID's desktop is connected to
	// p.NodeID (the newest connection wins).
	PutPresence(ctx context.Context, p Presence) error
	// DeletePresence forgets the agent's presence if it still names
	// session (a newer connection is kept); it reports whether it did.
	DeletePresence(ctx context.Context, agentID, session string) (bool, error)
	// GetPresence returns where the agent's desktop is connected, or an
	// error matching ErrNotFound.
	GetPresence(ctx context.Context, agentID string) (Presence, error)
	// DeleteNodePresence forgets every presence on nodeID (the node
	// starts, or died) and returns the agents it had.
	DeleteNodePresence(ctx context.Context, nodeID string) ([]string, error)
}

var _ ClusterStateStore = (*DB)(nil)

// ClaimLeader implements ClusterStateStore.
func (s *DB) ClaimLeader(ctx context.Context, l Leader) (Leader, error) {
	if l.Name == "" || l.NodeID == "" {
		return Leader{}, fmt.Errorf("store: claim leader: %w: Name and NodeID are required", ErrInvalid)
	}
	now := s.now().UnixNano()
	row := s.w.QueryRowContext(ctx, `INSERT INTO cluster_leaders (name, node_id, http_url, term, date_updated) VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id, http_url = excluded.http_url,
			term = cluster_leaders.term + 1, date_updated = excluded.date_updated
		RETURNING name, node_id, http_url, term, date_updated`, l.Name, l.NodeID, l.HTTPURL, now)
	out, err := scanLeader(row)
	if err != nil {
		return Leader{}, fmt.Errorf("store: claim leader %q: %w", l.Name, classify(err))
	}
	return out, nil
}

// GetLeader implements ClusterStateStore.
func (s *DB) GetLeader(ctx context.Context, name string) (Leader, error) {
	row := s.r.QueryRowContext(ctx, `SELECT name, node_id, http_url, term, date_updated FROM cluster_leaders WHERE name = ?`, name)
	l, err := scanLeader(row)
	if err != nil {
		return Leader{}, fmt.Errorf("store: get leader %q: %w", name, notFoundIfNoRows(err))
	}
	return l, nil
}

func scanLeader(r rowScanner) (Leader, error) {
	var l Leader
	var at int64
	if err := r.Scan(&l.Name, &l.NodeID, &l.HTTPURL, &l.Term, &at); err != nil {
		return Leader{}, err
	}
	l.DateUpdated = time.Unix(0, at).UTC()
	return l, nil
}

// PutPresence implements ClusterStateStore.
func (s *DB) PutPresence(ctx context.Context, p Presence) error {
	if p.AgentID == "" || p.NodeID == "" || p.Session == "" {
		return fmt.Errorf("store: put presence: %w: AgentID, NodeID and Session are required", ErrInvalid)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO agent_presence (agent_id, node_id, session, sip_uri, date_updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (agent_id) DO UPDATE SET node_id = excluded.node_id, session = excluded.session,
			sip_uri = excluded.sip_uri, date_updated = excluded.date_updated`,
		p.AgentID, p.NodeID, p.Session, p.SIPURI, s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: put presence of %q: %w", p.AgentID, classify(err))
	}
	return nil
}

// DeletePresence implements ClusterStateStore.
func (s *DB) DeletePresence(ctx context.Context, agentID, session string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM agent_presence WHERE agent_id = ? AND session = ?`, agentID, session)
	if err != nil {
		return false, fmt.Errorf("store: delete presence of %q: %w", agentID, classify(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// GetPresence implements ClusterStateStore.
func (s *DB) GetPresence(ctx context.Context, agentID string) (Presence, error) {
	var p Presence
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT agent_id, node_id, session, sip_uri, date_updated FROM agent_presence WHERE agent_id = ?`, agentID).
		Scan(&p.AgentID, &p.NodeID, &p.Session, &p.SIPURI, &at)
	if err != nil {
		return Presence{}, fmt.Errorf("store: get presence of %q: %w", agentID, notFoundIfNoRows(err))
	}
	p.DateUpdated = time.Unix(0, at).UTC()
	return p, nil
}

// DeleteNodePresence implements ClusterStateStore.
func (s *DB) DeleteNodePresence(ctx context.Context, nodeID string) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, `DELETE FROM agent_presence WHERE node_id = ? RETURNING agent_id`, nodeID)
	if err != nil {
		return nil, fmt.Errorf("store: delete presence on node %q: %w", nodeID, classify(err))
	}
	defer rows.Close()
	var agents []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: delete presence on node %q: %w", nodeID, err)
		}
		agents = append(agents, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delete presence on node %q: %w", nodeID, err)
	}
	return agents, nil
}
