package e2e

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	_ "modernc.org/sqlite" // the test takes the gateway's database lock, as a backup or sqlite3 shell would
)

// TestCDRFloodWhileDatabaseLocked: another process holds the gateway's
// SQLite write lock for longer than its busy timeout while a flood of
// SIPp calls comes and goes, so every call record written meanwhile fails.
// The calls still go through, and once the lock is released every call
// is in the REST API with its final status: none is left in progress or
// missing.
func TestCDRFloodWhileDatabaseLocked(t *testing.T) {
	const (
		calls = 60
		rate  = 30
		hold  = time.Second
	)
	stream := filepath.Join(t.TempDir(), "caller.ulaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", stream,
		"synth", "1", "sine", "440", "vol", "0.3").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	a := newApp(t)
	a.twiml("/hold", `<Response><Say>Please hold.</Say><Pause length="30"/></Response>`)
	storage := filepath.Join(t.TempDir(), "var")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/hold"), voiceMethod: "POST", storageDir: storage})

	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(storage, "voxgate.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("taking the write lock: %v", err)
	}
	locked := true
	unlock := func() {
		if locked {
			locked = false
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Errorf("releasing the write lock: %v", err)
			}
		}
	}
	defer unlock()
	res := g.sippLoad(t, "load_hold.xml", map[string]string{"stream": stream}, calls, rate, hold)
	// The lock outlasts the calls' last writes (made as SIPp hangs up) by
	// more than the gateway's 5 s busy timeout: they fail.
	time.Sleep(6 * time.Second)
	unlock()
	if res.exit != 0 || res.successful != calls {
		t.Fatalf("with the database locked: sipp exit %d, %d of %d calls successful\n%s", res.exit, res.successful, calls, res.output)
	}

	rc := twilioGo(t, g.httpURL)
	var list []openapi.ApiV2010Call
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err = rc.Api.ListCall(&openapi.ListCallParams{PageSize: ptr(1000)})
		if err != nil {
			t.Fatal(err)
		}
		unfinished := 0
		for _, c := range list {
			if *c.Status != "completed" {
				unfinished++
			}
		}
		if len(list) == calls && unfinished == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the lock was released: %d calls in the API, %d not completed; want %d completed", len(list), unfinished, calls)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, c := range list {
		if c.EndTime == nil || c.StartTime == nil || c.Duration == nil {
			t.Errorf("call %s: start %v, end %v, duration %v", *c.Sid, c.StartTime, c.EndTime, c.Duration)
		}
	}
	if g.health(t).ActiveCalls != 0 {
		t.Error("calls still active")
	}
	retried := strings.Count(g.Logs(), "store: write succeeded after retrying")
	if retried == 0 {
		t.Error("no write was retried: the lock did not make any fail, so this test proved nothing")
	}
	t.Logf("%d calls completed; %d records written after retrying", len(list), retried)
}

func ptr[T any](v T) *T { return &v }
