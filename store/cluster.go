package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Cluster node states, as cluster_nodes.state holds them.
const (
	NodeUp         = "up"          // running and heartbeating
	NodeDraining   = "draining"    // refusing new calls, finishing live ones
	NodeStopped    = "stopped"     // exited cleanly: nothing to take over
	NodeTakingOver = "taking-over" // found dead; a survivor (TakenBy) is taking its work over
	NodeDead       = "dead"        // found dead and taken over
)

// Node is one gateway of a cluster sharing this database, as its
// heartbeat left it.
type Node struct {
	ID       string
	State    string
	Started  time.Time
	LastSeen time.Time
	TakenBy  string // the survivor that took it over (taking-over, dead)
}

// Heartbeat records that node n is alive now in state n.State (up,
// draining or, at a clean exit, stopped), with its start time. A node
// that had been taken over and comes back is up again.
func (s *DB) Heartbeat(ctx context.Context, n Node) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO cluster_nodes (node_id, state, started, last_seen, taken_by, claim_until)
		VALUES (?, ?, ?, ?, '', 0)
		ON CONFLICT (node_id) DO UPDATE SET state = excluded.state, started = excluded.started,
			last_seen = excluded.last_seen, taken_by = '', claim_until = 0`,
		n.ID, n.State, n.Started.UnixNano(), n.LastSeen.UnixNano())
	if err != nil {
		return fmt.Errorf("store: heartbeat of node %s: %w", n.ID, err)
	}
	return nil
}

// ClusterNodes returns every node that ever heartbeat in this database,
// by node ID.
func (s *DB) ClusterNodes(ctx context.Context) ([]Node, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT node_id, state, started, last_seen, taken_by FROM cluster_nodes ORDER BY node_id`)
	if err != nil {
		return nil, fmt.Errorf("store: cluster nodes: %w", err)
	}
	defer rows.Close()
	var nodes []Node
	for rows.Next() {
		var (
			n             Node
			started, seen int64
		)
		if err := rows.Scan(&n.ID, &n.State, &started, &seen, &n.TakenBy); err != nil {
			return nil, fmt.Errorf("store: cluster nodes: %w", err)
		}
		n.Started, n.LastSeen = fromNanos(started), fromNanos(seen)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: cluster nodes: %w", err)
	}
	return nodes, nil
}

// ClaimDeadNode makes by the one survivor that takes node over, if node
// was last seen before seenBefore while up or draining, or if another
// survivor's claim on it lapsed (claimUntil of that claim is before now).
// The claim holds until leaseUntil. It reports whether by got the claim:
// the single UPDATE row-locks the node on PostgreSQL, so among survivors
// claiming at once exactly one does.
func (s *DB) ClaimDeadNode(ctx context.Context, node, by string, seenBefore, now, leaseUntil time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE cluster_nodes SET state = ?, taken_by = ?, claim_until = ?
		WHERE node_id = ? AND last_seen < ? AND node_id <> ?
		AND (state IN (?, ?) OR (state = ? AND claim_until < ?))`,
		NodeTakingOver, by, leaseUntil.UnixNano(), node, seenBefore.UnixNano(), by,
		NodeUp, NodeDraining, NodeTakingOver, now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: claim node %s: %w", node, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim node %s: %w", node, err)
	}
	return n == 1, nil
}

// FinishTakeover marks node dead once by has taken it over (unless the
// node came back meanwhile, or another survivor's claim replaced by's).
func (s *DB) FinishTakeover(ctx context.Context, node, by string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE cluster_nodes SET state = ?, claim_until = 0
		WHERE node_id = ? AND taken_by = ? AND state = ?`, NodeDead, node, by, NodeTakingOver)
	if err != nil {
		return fmt.Errorf("store: finish takeover of node %s: %w", node, err)
	}
	return nil
}

// NodeUnfinishedCalls returns the calls node owns whose records say they
// are still queued, ringing or in progress, oldest first: what a node
// that died left live.
func (s *DB) NodeUnfinishedCalls(ctx context.Context, node string) ([]Call, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+callColumns+` FROM calls
		WHERE status IN (?, ?, ?) AND node_id = ? ORDER BY date_created, sid`,
		string(CallQueued), string(CallRinging), string(CallInProgress), node)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished calls of node %s: %w", node, err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished calls of node %s: %w", node, err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished calls of node %s: %w", node, err)
	}
	return calls, nil
}

// NodeUnfinishedRecordings returns node's recordings, not deleted, still
// in progress, paused or processing, oldest first.
func (s *DB) NodeUnfinishedRecordings(ctx context.Context, node string) ([]Recording, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE status IN (?, ?, ?) AND deleted = 0 AND node_id = ? ORDER BY date_created, sid`,
		string(RecordingInProgress), string(RecordingPaused), string(RecordingProcessing), node)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished recordings of node %s: %w", node, err)
	}
	defer rows.Close()
	var recs []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished recordings of node %s: %w", node, err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished recordings of node %s: %w", node, err)
	}
	return recs, nil
}

// EndUnfinishedCall stores c's status, times and duration only if the
// stored call is still queued, ringing or in progress, and reports
// whether it did: of two gateways ending one call, exactly one gets true
// (and sends its callbacks).
func (s *DB) EndUnfinishedCall(ctx context.Context, c Call) (bool, error) {
	if err := validateCall(c); err != nil {
		return false, fmt.Errorf("store: end call %q: %w", c.SID, err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE calls SET status = ?, start_time = ?, end_time = ?, duration = ?, date_updated = ?
		WHERE sid = ? AND status IN (?, ?, ?)`,
		string(c.Status), nanos(c.StartTime), nanos(c.EndTime), c.Duration, s.now().UnixNano(),
		c.SID, string(CallQueued), string(CallRinging), string(CallInProgress))
	return rowChanged(res, err, "end call "+c.SID)
}

// EndUnfinishedRecording stores r's status, duration and path only if the
// stored recording is still in progress, paused or processing, and
// reports whether it did.
func (s *DB) EndUnfinishedRecording(ctx context.Context, r Recording) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE recordings SET status = ?, duration = ?, path = ?, date_updated = ?
		WHERE sid = ? AND status IN (?, ?, ?)`,
		string(r.Status), r.Duration, r.Path, s.now().UnixNano(),
		r.SID, string(RecordingInProgress), string(RecordingPaused), string(RecordingProcessing))
	return rowChanged(res, err, "end recording "+r.SID)
}

func rowChanged(res sql.Result, err error, op string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("store: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: %s: %w", op, err)
	}
	return n == 1, nil
}

// CallCallback is the status callback an outbound REST call asked for,
// kept while the call runs so that whichever gateway ends the call after
// its own died can send the "completed" callback it owed.
type CallCallback struct {
	CallSID string
	URL     string
	Method  string
	Events  []string
}

// PutCallCallback records a running call's status callback.
func (s *DB) PutCallCallback(ctx context.Context, cb CallCallback) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO call_callbacks (call_sid, url, method, events, node_id, date_created)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_sid) DO UPDATE SET url = excluded.url, method = excluded.method, events = excluded.events`,
		cb.CallSID, cb.URL, cb.Method, strings.Join(cb.Events, " "), s.nodeID, s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: put callback of call %s: %w", cb.CallSID, err)
	}
	return nil
}

// GetCallCallback returns the callback recorded for a call (ErrNotFound
// when there is none).
func (s *DB) GetCallCallback(ctx context.Context, callSID string) (CallCallback, error) {
	cb := CallCallback{CallSID: callSID}
	var events string
	err := s.r.QueryRowContext(ctx, `SELECT url, method, events FROM call_callbacks WHERE call_sid = ?`, callSID).
		Scan(&cb.URL, &cb.Method, &events)
	if err != nil {
		return cb, fmt.Errorf("store: callback of call %s: %w", callSID, notFoundIfNoRows(err))
	}
	cb.Events = strings.Fields(events)
	return cb, nil
}

// DeleteCallCallback forgets the callback of a call that has ended.
func (s *DB) DeleteCallCallback(ctx context.Context, callSID string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM call_callbacks WHERE call_sid = ?`, callSID); err != nil {
		return fmt.Errorf("store: delete callback of call %s: %w", callSID, err)
	}
	return nil
}

// ClaimMessages moves the unfinished messages of node (outbound ones
// queued or sending, inbound ones whose webhook has not run) to this
// store's node and returns them: a survivor sends what a dead node's
// outbox held. The one UPDATE hands each message to one claimant.
func (s *DB) ClaimMessages(ctx context.Context, node string) ([]Message, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE messages SET node_id = ?
		WHERE node_id = ? AND node_id <> ? AND (status IN ('queued', 'sending') OR pending = 1)
		RETURNING `+messageColumns, s.nodeID, node, s.nodeID)
	if err != nil {
		return nil, fmt.Errorf("store: claim messages of node %s: %w", node, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim messages of node %s: %w", node, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim messages of node %s: %w", node, err)
	}
	return out, nil
}

// NodeID is the node this store writes on the records it makes.
func (s *DB) NodeID() string { return s.nodeID }

// ClaimTimer reports whether this node is the first to claim the timer
// named key (e.g. an execution's reply timeout at its deadline): nodes
// that armed the same timer fire it once between them. A claim is kept
// until DeleteOldTimerClaims forgets it.
func (s *DB) ClaimTimer(ctx context.Context, key string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO timer_claims (timer, node_id, date_created) VALUES (?, ?, ?)
		ON CONFLICT (timer) DO NOTHING`, key, s.nodeID, s.now().UnixNano())
	return rowChanged(res, err, "claim timer "+key)
}

// DeleteOldTimerClaims forgets timer claims made before cutoff and
// returns how many.
func (s *DB) DeleteOldTimerClaims(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM timer_claims WHERE date_created < ?`, cutoff.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("store: delete old timer claims: %w", err)
	}
	return res.RowsAffected()
}
