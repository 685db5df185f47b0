// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// into a temporary directory, pg_ctl start on a free loopback port, stop
// and remove at the end. It uses the Debian package's binaries (package
// postgresql, installed by scripts/install-deps.sh test); a missing binary
// fails the test. PostgreSQL refuses to run as root, so as root the server
// runs as the postgres system user the package creates.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Server is a running PostgreSQL server.
type Server struct {
	dir  string // data directory, log and socket live under it
	port int
	bin  string // directory of initdb and pg_ctl
	as   string // system user the server runs as ("" for this process's)
}

// Start starts a server and stops it when t ends. Settings trade
// durability for speed (fsync off): a test's data does not outlive it.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// start is Start without the testing.TB: an initdb'd, running server.
func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "voxgate-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if err := s.handTo("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := s.run("initdb", "-D", s.data(), "-U", "voxgate", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// A free port can be taken between finding it and binding it: try a few.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements", s.port, s.dir)
		out, serr := s.run("pg_ctl", "start", "-w", "-t", "60", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-o", opts)
		if serr == nil {
			return s, nil
		}
		logText, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		err = fmt.Errorf("pg_ctl start: %w\n%s\n%s", serr, out, logText)
		if attempt == 2 || !strings.Contains(string(logText), "already in use") {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// handTo makes the server run as the system user name, owning its
// directory.
func (s *Server) handTo(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("running as root needs the %s user (Debian package postgresql creates it): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(s.dir, uid, gid); err != nil {
		return err
	}
	s.as = name
	return nil
}

// data is the server's data directory.
func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs one of the PostgreSQL programs as the server's user.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.as, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// Stop stops the server at once and removes its files.
func (s *Server) Stop() {
	s.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", s.data()) //nolint:errcheck // best effort at the end
	os.RemoveAll(s.dir)
}

// Port is the TCP port the server listens on at 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL is the connection URL of database db (the server starts with one,
// "postgres"), as the superuser voxgate.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("voxgate"), Host: fmt.Sprintf("127.0.0.1:%d", s.port), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database with a fresh name and returns its
// URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := "t_" + randomHex(6)
	if err := s.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s.URL(name)
}

// SchemaURL returns the URL of database "postgres" with search_path set
// to schema, creating the schema if it does not exist: a cheap, separate
// namespace for one test's tables.
func (s *Server) SchemaURL(schema string) (string, error) {
	if err := s.Exec(`CREATE SCHEMA IF NOT EXISTS ` + schema); err != nil {
		return "", err
	}
	return s.URL("postgres") + "&search_path=" + url.QueryEscape(schema), nil
}

// Exec runs statement in database "postgres".
func (s *Server) Exec(statement string) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// binDir finds initdb: on PATH, else in Debian's
// /usr/lib/postgresql/<version>/bin (the newest version).
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", fmt.Errorf("initdb not found on PATH or in /usr/lib/postgresql/*/bin: install the Debian package postgresql (scripts/install-deps.sh test)")
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	return filepath.Dir(dirs[0]), nil
}

// version is the major version in a /usr/lib/postgresql/<v>/bin path.
func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}
