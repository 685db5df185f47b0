package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres opens the PostgreSQL database at url (a connection URL or
// DSN pgx understands, e.g. postgres://user:pass@host:5432/voxgate) and
// brings its schema up to date. Every node of a cluster opens the same
// database.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	return openPostgresWith(ctx, url, migrations, time.Now)
}

// openPostgresWith is OpenPostgres with the migration list and clock given.
func openPostgresWith(ctx context.Context, url string, ms []migration, now func() time.Time) (*DB, error) {
	pool, where, err := openPostgresPool(ctx, url)
	if err != nil {
		return nil, err
	}
	s, err := newDB(ctx, pool, pool, postgresDialect, ms, now)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open %s: %w", where, err)
	}
	return s, nil
}

// openPostgresPool connects to url and returns the pool and a name for
// the database, without its password, for messages.
func openPostgresPool(ctx context.Context, url string) (*sql.DB, string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, "", fmt.Errorf("store: open postgres: storage.url is not a PostgreSQL connection URL")
	}
	pool := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	n := max(8, 2*runtime.GOMAXPROCS(0))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("store: open %s: %w", where, err)
	}
	return pool, where, nil
}

// rebindConnector hands out pgx connections that accept the store's "?"
// placeholders, so that every query is written once for both databases.
type rebindConnector struct{ driver.Connector }

// Connect implements driver.Connector.
func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return rebindConn{conn.(*stdlib.Conn)}, nil
}

// rebindConn is a pgx connection whose queries are rebound on the way in;
// everything else (transactions, pings, session resets, argument checks)
// is pgx's own.
type rebindConn struct{ *stdlib.Conn }

// Prepare implements driver.Conn.
func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

// PrepareContext implements driver.ConnPrepareContext.
func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

// ExecContext implements driver.ExecerContext.
func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

// QueryContext implements driver.QueryerContext.
func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

// PostgreSQL error codes the store maps to its own errors.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// classifyPostgres maps PostgreSQL constraint failures to the package's
// errors, as classify does SQLite's.
func classifyPostgres(err error) (error, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err, false
	}
	switch pe.Code {
	case pgUniqueViolation:
		return fmt.Errorf("%w (%w)", ErrDuplicate, err), true
	case pgForeignKeyViolation:
		return fmt.Errorf("%w (%w)", ErrNotFound, err), true
	}
	return err, true
}
