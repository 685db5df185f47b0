package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// appliedMigrations reads schema_migrations: version -> applied_at.
func appliedMigrations(t *testing.T, s *DB) map[int]int64 {
	t.Helper()
	rows, err := s.r.Query(`SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	got := map[int]int64{}
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s, err := openTestWith(ctx, dir, migrations, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	call, err := s.PutCall(ctx, sampleCall())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.PutRecording(ctx, sampleRecording(call.SID))
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "support", MaxSize: 9})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.PutQueueMember(ctx, QueueMember{QueueSID: q.SID, CallSID: call.SID, DateEnqueued: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2, err := openReal(ctx, dir) // the public entry point, real clock
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if got, err := s2.GetCall(ctx, call.SID); err != nil || !reflect.DeepEqual(got, call) {
		t.Errorf("call after reopen = %+v, %v; want %+v", got, err, call)
	}
	if got, err := s2.GetRecording(ctx, rec.SID); err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("recording after reopen = %+v, %v; want %+v", got, err, rec)
	}
	if got, err := s2.GetQueueByName(ctx, testAccount, "support"); err != nil || !reflect.DeepEqual(got, q) {
		t.Errorf("queue after reopen = %+v, %v; want %+v", got, err, q)
	}
	if got, _, err := s2.ListQueueMembers(ctx, QueueMemberFilter{QueueSID: q.SID}, Page{}); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], m) {
		t.Errorf("members after reopen = %+v, %v; want [%+v]", got, err, m)
	}
}

func TestOpenCreatesDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
	// Readers cannot write.
	if _, err := s.r.Exec(`DELETE FROM calls`); err == nil {
		t.Error("read-only pool accepted a write")
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	s := openTest(t, dir, clock)
	first := appliedMigrations(t, s)
	if len(first) != len(migrations) {
		t.Fatalf("applied %d migrations, want %d", len(first), len(migrations))
	}
	s.Close()
	s2 := openTest(t, dir, clock)
	if again := appliedMigrations(t, s2); !reflect.DeepEqual(again, first) {
		t.Errorf("second open changed schema_migrations: %v -> %v", first, again)
	}
}

func TestUpgradeFromOlderSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()

	// A database made by a program that knew only the first migration
	// (today's statements do not fit it, so it is written with its own).
	call := sampleCall()
	call.DateCreated = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	call.DateUpdated = call.DateCreated
	err := withOldSchema(ctx, dir, migrations[:1], clock.Now, func(db *sql.DB) error {
		_, err := db.ExecContext(ctx, `INSERT INTO calls (sid, account_sid, parent_call_sid, from_number, to_number,
			from_formatted, to_formatted, direction, status, start_time, end_time, duration, answered_by, forwarded_from,
			caller_name, queue_time, trunk_sid, sip_call_id, date_created, date_updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			call.SID, call.AccountSID, call.ParentCallSID, call.From, call.To, call.FromFormatted, call.ToFormatted,
			call.Direction, string(call.Status), call.StartTime.UnixNano(), call.EndTime.UnixNano(), call.Duration,
			call.AnsweredBy, call.ForwardedFrom, call.CallerName, call.QueueTime, call.TrunkSID, call.SIPCallID,
			call.DateCreated.UnixNano(), call.DateUpdated.UnixNano())
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `SELECT 1 FROM queues`); err == nil {
			t.Error("queues exist at level 1")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("database at level 1: %v", err)
	}

	// Today's program, plus one migration from the future that changes a
	// table holding data.
	future := append(append([]migration(nil), migrations...), migration{
		version: len(migrations) + 1, name: "test: calls.price",
		stmts: []string{`ALTER TABLE calls ADD COLUMN price TEXT NOT NULL DEFAULT ''`},
	})
	s, err := openTestWith(ctx, dir, future, clock.Now)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	if got := appliedMigrations(t, s); len(got) != len(future) {
		t.Errorf("after upgrade %d migrations recorded, want %d", len(got), len(future))
	}
	if got, err := s.GetCall(ctx, call.SID); err != nil || !reflect.DeepEqual(got, call) {
		t.Errorf("call after upgrade = %+v, %v; want %+v", got, err, call)
	}
	var price string
	if err := s.r.QueryRow(`SELECT price FROM calls WHERE sid = ?`, call.SID).Scan(&price); err != nil {
		t.Errorf("new column missing: %v", err)
	}
	if _, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "x"}); err != nil {
		t.Errorf("queues after upgrade: %v", err)
	}
	s.Close()

	// The current program refuses the newer database instead of guessing.
	if s, err := openTestWith(ctx, dir, migrations, clock.Now); err == nil {
		s.Close()
		t.Error("opened a database with a newer schema")
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	broken := append(append([]migration(nil), migrations...), migration{
		version: len(migrations) + 1, name: "test: half done",
		stmts: []string{`CREATE TABLE half (x INTEGER)`, `THIS IS NOT SQL`},
	})
	if s, err := openTestWith(ctx, dir, broken, clock.Now); err == nil {
		s.Close()
		t.Fatal("broken migration applied")
	}
	s := openTest(t, dir, clock)
	if got := appliedMigrations(t, s); len(got) != len(migrations) {
		t.Errorf("%d migrations recorded, want %d", len(got), len(migrations))
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM half`).Scan(&n); err == nil {
		t.Errorf("half-applied migration left its table behind")
	}
}

func TestMigrationListMustBeNumbered(t *testing.T) {
	bad := []migration{{version: 1, name: "a"}, {version: 3, name: "c"}}
	if s, err := openTestWith(context.Background(), t.TempDir(), bad, time.Now); err == nil {
		s.Close()
		t.Error("accepted migrations numbered 1, 3")
	}
}

func TestConcurrentOpenAppliesOnce(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 2)
	stores := make(chan *DB, 2)
	for range 2 {
		go func() {
			s, err := openReal(context.Background(), dir)
			errs <- err
			stores <- s
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
			if got := appliedMigrations(t, s); len(got) != len(migrations) {
				t.Errorf("%d migrations recorded", len(got))
			}
		}
	}
}
