package clusterstate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"time"
)

// KeyLocks are locks on names shared by every process of one PostgreSQL
// database: session advisory locks in the two-key space (namespace,
// 32-bit hash of the name). Two names with one hash share a lock, which
// only serialises what did not need it. Each held lock keeps one
// connection of the pool; the pool's size bounds how many are held at
// once (more wait for a connection).
type KeyLocks struct {
	db *sql.DB
	ns int32
}

// StudioLockNamespace is the advisory lock namespace of Studio's contact
// locks.
const StudioLockNamespace int32 = 0x53746431 // "Std1"

// NewKeyLocks locks names of namespace ns on db (a pool of its own).
func NewKeyLocks(db *sql.DB, ns int32) *KeyLocks { return &KeyLocks{db: db, ns: ns} }

// Lock blocks until key is locked across the cluster, or ctx ends.
func (k *KeyLocks) Lock(ctx context.Context, key string) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	obj := int32(h.Sum32())
	conn, err := k.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("clusterstate: lock %q: %w", key, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, k.ns, obj); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // the lock may have been taken as the wait was cancelled
		conn.Close()
		return nil, fmt.Errorf("clusterstate: lock %q: %w", key, err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, k.ns, obj).Scan(&ok); err != nil || !ok {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // closing the session frees its locks
		}
		conn.Close()
	}, nil
}
