package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store/pgtest"
)

// The store's tests run against both backends: as written, on SQLite,
// and again on PostgreSQL by TestSuiteOnPostgres, which starts a server
// and runs this test binary once more with pgURLEnv set. Every test opens
// its store through openTestWith, the backend factory.

// pgURLEnv, when set, is the URL of database "postgres" of a running
// server: the tests then open their stores there.
const pgURLEnv = "VOXGATE_STORE_TEST_POSTGRES"

// sqliteOnly are the tests of what PostgreSQL does not have (a database
// file, its write-ahead log, SQLite's pragmas) and the runner itself.
var sqliteOnly = []string{
	"TestOpenCreatesDirAndFile",
	"TestWALCheckpointsAutomatically",
	"TestCheckpointTruncatesUnderReads",
	"TestSuiteOnPostgres",
}

// openTestWith opens the store of dir with the migrations ms and clock
// now: on SQLite, dir/voxgate.db; on PostgreSQL, a schema named after dir,
// so that opening the same dir twice opens the same data.
func openTestWith(ctx context.Context, dir string, ms []migration, now func() time.Time) (*DB, error) {
	if os.Getenv(pgURLEnv) == "" {
		return openWith(ctx, dir, ms, now)
	}
	url, err := pgTestURL(ctx, dir)
	if err != nil {
		return nil, err
	}
	return openPostgresWith(ctx, url, ms, now)
}

// schemaMu serializes making schemas: PostgreSQL's CREATE SCHEMA IF NOT
// EXISTS can still fail on a unique index when two run at once (tests
// opening one dir twice concurrently).
var schemaMu sync.Mutex

// pgTestURL is the URL of the PostgreSQL schema of dir, made if needed.
func pgTestURL(ctx context.Context, dir string) (string, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	base := os.Getenv(pgURLEnv)
	sum := sha256.Sum256([]byte(dir))
	schema := "t_" + hex.EncodeToString(sum[:8])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return "", err
	}
	return base + "&search_path=" + schema, nil
}

// withOldSchema migrates the database of dir to ms, as an older program
// would have, and hands fn a connection to it. The store itself cannot
// open such a database: its statements name today's columns.
func withOldSchema(ctx context.Context, dir string, ms []migration, now func() time.Time, fn func(*sql.DB) error) error {
	var (
		db  *sql.DB
		d   = sqliteDialect
		err error
	)
	if os.Getenv(pgURLEnv) == "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		db, err = openPool(ctx, filepath.Join(dir, FileName), false)
	} else {
		var url string
		if url, err = pgTestURL(ctx, dir); err == nil {
			db, _, err = openPostgresPool(ctx, url)
			d = postgresDialect
		}
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrate(ctx, db, d, ms, now); err != nil {
		return err
	}
	return fn(db)
}

// openReal is Open (or OpenPostgres) on dir with the real migrations and
// clock.
func openReal(ctx context.Context, dir string) (*DB, error) {
	return openTestWith(ctx, dir, migrations, time.Now)
}

// TestSuiteOnPostgres runs every test of the package but sqliteOnly
// against a PostgreSQL server it starts.
func TestSuiteOnPostgres(t *testing.T) {
	if os.Getenv(pgURLEnv) != "" {
		t.Fatal("nested run") // excluded by -test.skip in the child
	}
	srv := pgtest.Start(t)
	args := []string{"-test.count=1", "-test.skip=^(" + strings.Join(sqliteOnly, "|") + ")$"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), pgURLEnv+"="+srv.URL("postgres"))
	out, err := cmd.CombinedOutput()
	if testing.Verbose() || err != nil {
		t.Logf("store tests on PostgreSQL:\n%s", out)
	}
	if err != nil {
		t.Fatalf("store tests on PostgreSQL failed: %v", err)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("store tests on PostgreSQL ran nothing:\n%s", out)
	}
}
