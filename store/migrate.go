package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one numbered step of the schema.
type migration struct {
	version int      // 1, 2, 3, … in order
	name    string   // what it does, recorded in schema_migrations
	stmts   []string // run in order, in one transaction
}

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// checkMigrations verifies that ms is numbered 1, 2, 3, … .
func checkMigrations(ms []migration) error {
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.name, m.version, i+1)
		}
	}
	return nil
}

// migrate applies the migrations of ms that db has not had, each in its own
// transaction, and refuses a database from a newer schema. Statements go
// through d.ddl, so the one list serves every database.
func migrate(ctx context.Context, db *sql.DB, d *dialect, ms []migration, now func() time.Time) error {
	if err := checkMigrations(ms); err != nil {
		return err
	}
	err := inMigrationTx(ctx, db, d, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, d.ddl(createSchemaMigrations))
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if newest.Valid && newest.Int64 > int64(len(ms)) {
		return fmt.Errorf("database schema version %d is newer than this program's %d", newest.Int64, len(ms))
	}
	for _, m := range ms {
		if err := inMigrationTx(ctx, db, d, func(tx *sql.Tx) error { return applyMigration(ctx, tx, d, m, now) }); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// inMigrationTx runs fn in a transaction that holds the database's
// migration lock: SQLite's write lock, taken at BEGIN, or PostgreSQL's
// advisory lock. Two processes opening one database thus migrate it one
// after the other.
func inMigrationTx(ctx context.Context, db *sql.DB, d *dialect, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// applyMigration runs m in tx unless schema_migrations says it ran.
func applyMigration(ctx context.Context, tx *sql.Tx, d *dialect, m migration, now func() time.Time) error {
	var applied int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&applied); err != nil {
		return err
	}
	if applied > 0 {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, d.ddl(stmt)); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, now().UnixNano())
	return err
}
