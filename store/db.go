package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Storage drivers, as storage.driver names them.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Options says which database OpenDB opens.
type Options struct {
	Driver string // DriverSQLite (the default when empty) or DriverPostgres
	Dir    string // SQLite: the directory holding voxgate.db
	URL    string // PostgreSQL: the connection URL
	// NodeID names this gateway on the calls and recordings it writes
	// (cluster.node_id); UnfinishedCalls and UnfinishedRecordings return
	// only its own.
	NodeID string
}

// OpenDB opens the database o names and brings its schema up to date.
func OpenDB(ctx context.Context, o Options) (*DB, error) {
	switch o.Driver {
	case "", DriverSQLite:
		s, err := Open(ctx, o.Dir)
		if err == nil {
			s.nodeID = o.NodeID
		}
		return s, err
	case DriverPostgres:
		s, err := OpenPostgres(ctx, o.URL)
		if err == nil {
			s.nodeID = o.NodeID
		}
		return s, err
	}
	return nil, fmt.Errorf("store: %w: driver %q (want %q or %q)", ErrInvalid, o.Driver, DriverSQLite, DriverPostgres)
}

// DB is the Store on an SQL database: embedded SQLite (Open) or
// PostgreSQL (OpenPostgres). The two share every query and migration;
// what differs is in dialect.
type DB struct {
	w       *sql.DB // writes (SQLite: its one writing connection)
	r       *sql.DB // reads (SQLite: read-only connections; PostgreSQL: w)
	dialect *dialect
	now     func() time.Time
	nodeID  string // written on new calls and recordings

	// Statements run for every call event, prepared once: parsing the
	// SQL each time was a tenth of the gateway's CPU at high call rates.
	putCall *sql.Stmt // on w
	getCall *sql.Stmt // on r
	msg     messageStmts

	stopCheckpoints context.CancelFunc // ends checkpointLoop (SQLite only)
	checkpointsDone chan struct{}      // closed when it has
}

// SQLite is the name DB had before it learned PostgreSQL.
//
// Deprecated: use DB.
type SQLite = DB

var _ Store = (*DB)(nil)

// newDB migrates the database behind w and r and prepares the store's
// statements.
func newDB(ctx context.Context, w, r *sql.DB, d *dialect, ms []migration, now func() time.Time) (*DB, error) {
	if err := migrate(ctx, w, d, ms, now); err != nil {
		return nil, err
	}
	s := &DB{w: w, r: r, dialect: d, now: now}
	if err := s.prepare(ctx); err != nil {
		s.closeStatements()
		return nil, err
	}
	return s, nil
}

// Driver returns DriverSQLite or DriverPostgres.
func (s *DB) Driver() string { return s.dialect.name }

// prepare prepares the statements kept for the store's life.
func (s *DB) prepare(ctx context.Context) error {
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

// closeStatements closes the prepared statements.
func (s *DB) closeStatements() error {
	var errs []error
	for _, st := range append([]*sql.Stmt{s.putCall, s.getCall}, s.msg.all()...) { // all() waits for a preparation under way
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Close closes the database after the operations already running finish;
// later calls fail.
func (s *DB) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
		<-s.checkpointsDone
	}
	errs := []error{s.closeStatements(), s.w.Close()}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	return errors.Join(errs...)
}

// classify maps constraint failures of either database to the package's
// errors.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if perr, ok := classifyPostgres(err); ok {
		return perr
	}
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

// boolInt is b as the 0 or 1 the schema's flag columns hold (an INTEGER
// column in both databases: PostgreSQL will not take a Go bool there).
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
