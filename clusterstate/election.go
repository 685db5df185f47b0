package clusterstate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"
)

// LeaderLockKey is the PostgreSQL advisory lock whose holder runs the
// cluster's TaskRouter (a constant of its own, not the migrations' one).
const LeaderLockKey int64 = 0x766f78_74726c64 // "vox" "trld"

// Election holds (or tries to take) the leader's advisory lock on one
// connection of its own: PostgreSQL releases the lock when that
// connection ends, which is what makes a dead leader's lock free.
type Election struct {
	db  *sql.DB
	key int64

	mu   sync.Mutex
	conn *sql.Conn // holds the lock while we lead
}

// NewElection uses db (a PostgreSQL pool of its own) for the lock key.
func NewElection(db *sql.DB, key int64) *Election {
	return &Election{db: db, key: key}
}

// TryLock takes the lock if it is free; true means this process leads
// from now on.
func (e *Election) TryLock(ctx context.Context) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		return true, nil
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("clusterstate: election: connect: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		conn.Close()
		return false, fmt.Errorf("clusterstate: election: try lock: %w", err)
	}
	if !got {
		conn.Close()
		return false, nil
	}
	e.conn = conn
	return true, nil
}

// errNotHeld: Check without the lock.
var errNotHeld = errors.New("clusterstate: election: the lock is not held")

// Check proves the lock is still held: its connection still answers. An
// error means the lock may be lost (PostgreSQL frees it with the
// connection).
func (e *Election) Check(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return errNotHeld
	}
	var held bool
	err := e.conn.QueryRowContext(ctx,
		`SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
			AND ((classid::bigint << 32) | objid::bigint) = $1`, e.key).Scan(&held)
	if err == nil && !held {
		err = errNotHeld
	}
	if err != nil {
		return fmt.Errorf("clusterstate: election: lock lost: %w", err)
	}
	return nil
}

// Release gives the lock up. (Closing a *sql.Conn only hands the
// connection back to the pool, still holding the session's lock: it is
// unlocked first, and the connection is dropped if that fails.)
func (e *Election) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var unlocked bool
	if err := e.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, e.key).Scan(&unlocked); err != nil || !unlocked {
		_ = e.conn.Raw(func(any) error { return driver.ErrBadConn }) // not back to the pool
	}
	e.conn.Close()
	e.conn = nil
}
