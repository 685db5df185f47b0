package store

import (
	"context"
	"database/sql"
	"errors"
)

// Message writes are group-committed: the operations waiting when the
// writer is free run in one transaction, each inside its own savepoint (a
// failing operation is rolled back alone and gets its error). One commit
// for many messages is what lets the messaging engine keep up with an
// SMSC: a commit costs more than the statements in it.

// maxBatch bounds the operations in one transaction.
const maxBatch = 256

// errStoreClosed is returned by writes after Close.
var errStoreClosed = errors.New("store: closed")

// writeOp is one operation for the batcher.
type writeOp struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error // answered once, after the commit
}

// write runs fn in the next batch and returns its error (or the commit's).
func (m *messageStmts) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if _, err := m.ready(ctx); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case m.ops <- op: // unbuffered: taken by the batcher, which always answers
	case <-ctx.Done():
		return ctx.Err()
	case <-m.stop:
		return errStoreClosed
	}
	return <-op.done
}

// batch takes operations and commits them in groups until stop closes.
func (m *messageStmts) batch() {
	defer close(m.stopped)
	for {
		var first *writeOp
		select {
		case first = <-m.ops:
		case <-m.stop:
			return
		}
		ops := []*writeOp{first}
	drain:
		for len(ops) < maxBatch {
			select {
			case op := <-m.ops:
				ops = append(ops, op)
			default:
				break drain
			}
		}
		m.commit(ops)
	}
}

// commit runs ops in one transaction, each in a savepoint.
func (m *messageStmts) commit(ops []*writeOp) {
	bg := context.Background()
	errs := make([]error, len(ops))
	tx, err := m.w.BeginTx(bg, nil)
	if err != nil {
		for _, op := range ops {
			op.done <- err
		}
		return
	}
	for i, op := range ops {
		if _, err := tx.ExecContext(bg, "SAVEPOINT op"); err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = op.fn(op.ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(bg, "ROLLBACK TO op"); err != nil {
				errs[i] = errors.Join(errs[i], err)
			}
		}
		if _, err := tx.ExecContext(bg, "RELEASE op"); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	for i, op := range ops {
		op.done <- errs[i]
	}
}
