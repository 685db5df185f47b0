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

// SQLite is the Store on an embedded SQLite database. Create it with Open.
type SQLite struct {
	w   *sql.DB // the one writing connection
	r   *sql.DB // read-only connections
	now func() time.Time

	// Statements run for every call event, prepared once: parsing the
	// SQL each time was a tenth of the gateway's CPU at high call rates.
	putCall *sql.Stmt // on w
	getCall *sql.Stmt // on r
	msg     messageStmts

	stopCheckpoints context.CancelFunc // ends checkpointLoop
	checkpointsDone chan struct{}      // closed when it has
}

var _ Store = (*SQLite)(nil)

// Open opens (creating if needed) dir/voxgate.db, making dir if it does not
// exist, and brings its schema up to date.
func Open(ctx context.Context, dir string) (*SQLite, error) {
	return openWith(ctx, dir, migrations, time.Now)
}

// openWith is Open with the migration list and clock given (tests use older
// migration levels and fake clocks).
func openWith(ctx context.Context, dir string, ms []migration, now func() time.Time) (*SQLite, error) {
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
	if err := migrate(ctx, w, ms, now); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r, err := openPool(ctx, path, true)
	if err != nil {
		w.Close()
		return nil, err
	}
	s := &SQLite{w: w, r: r, now: now}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	loopCtx, stop := context.WithCancel(context.Background())
	s.stopCheckpoints, s.checkpointsDone = stop, make(chan struct{})
	go s.checkpointLoop(loopCtx, path+"-wal", s.checkpointsDone)
	return s, nil
}

// prepare prepares the statements kept for the store's life.
func (s *SQLite) prepare(ctx context.Context) error {
	var err error
	if s.putCall, err = s.w.PrepareContext(ctx, putCallSQL); err != nil {
		return fmt.Errorf("prepare put call: %w", err)
	}
	if s.getCall, err = s.r.PrepareContext(ctx, getCallSQL); err != nil {
		return fmt.Errorf("prepare get call: %w", err)
	}
	s.msg.w, s.msg.r = s.w, s.r // prepared on first use: older schemas (tests) lack the tables
	return nil
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

// Close closes the database after the operations already running finish;
// later calls fail.
func (s *SQLite) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		<-s.checkpointsDone
	}
	var errs []error
	for _, st := range append([]*sql.Stmt{s.putCall, s.getCall}, s.msg.all()...) { // all() waits for a preparation under way
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// classify maps SQLite constraint failures to the package's errors.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w (%w)", ErrDuplicate, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	return err
}

// notFoundIfNoRows turns sql.ErrNoRows into ErrNotFound.
func notFoundIfNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// expectOneRow returns ErrNotFound when res touched no row.
func expectOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
