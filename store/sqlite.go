package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file Open makes in its directory.
const FileName = "voxgate.db"

// busyTimeout is how long a connection waits for another process's lock.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) dir/voxgate.db, making dir if it does not
// exist, and brings its schema up to date.
func Open(ctx context.Context, dir string) (*DB, error) {
	return openWith(ctx, dir, migrations, time.Now)
}

// openWith is Open with the migration list and clock given (tests use older
// migration levels and fake clocks).
func openWith(ctx context.Context, dir string, ms []migration, now func() time.Time) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	w, err := openPool(ctx, path, false)
	if err != nil {
		return nil, err
	}
	r, err := openPool(ctx, path, true)
	if err != nil {
		w.Close()
		return nil, err
	}
	s, err := newDB(ctx, w, r, sqliteDialect, ms, now)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	loopCtx, stop := context.WithCancel(context.Background())
	s.stopCheckpoints, s.checkpointsDone = stop, make(chan struct{})
	go s.checkpointLoop(loopCtx, path+"-wal", s.checkpointsDone)
	return s, nil
}

// openPool opens the writing pool (one connection, transactions that take
// the write lock at BEGIN) or the read-only pool.
func openPool(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "on")
	if readOnly {
		q.Set("_query_only", "on")
	} else {
		q.Set("_txlock", "immediate")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
	}
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if readOnly {
		n := max(4, runtime.GOMAXPROCS(0))
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	} else {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	}
	db.SetConnMaxLifetime(0)
	if err := pingWhileBusy(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// pingWhileBusy opens db's first connection, retrying for up to
// busyTimeout while another process holds a lock SQLite will not wait for
// (switching a new database to WAL while another opener migrates it
// answers SQLITE_BUSY at once, busy timeout or not).
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
