package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/voxgate/voxgate/store/pgtest"
)

// TestPostgresStorage runs the gateway on PostgreSQL (storage.driver:
// postgres) end to end: SIPp calls are answered, their records land in
// PostgreSQL, not in a SQLite file, the REST API reads them back, and a
// second gateway with an empty storage.dir sees them too. It logs the
// database round trips each call cost, counted by pg_stat_statements.
func TestPostgresStorage(t *testing.T) {
	const calls = 4
	srv := pgtest.Start(t)
	dbURL := srv.NewDatabase(t)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION pg_stat_statements`); err != nil {
		t.Fatal(err)
	}

	a := newApp(t)
	a.twiml("/voice", `<?xml version="1.0" encoding="UTF-8"?>
<Response><Pause length="1"/><Hangup/></Response>`)
	env := []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + dbURL, "VOXGATE_CLUSTER_NODE_ID=gw-a"}
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", env: env})
	// One call first, so that what the gateway does once (its start-up
	// writes, preparing statements) is not counted; then the measured ones.
	placeCalls(t, g, 1)
	waitCompletedInDB(ctx, t, db, 1)
	if _, err := db.ExecContext(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		t.Fatal(err)
	}
	placeCalls(t, g, calls)
	// The records are in PostgreSQL (polled there, so that the REST reads
	// below do not count as the calls' round trips).
	waitCompletedInDB(ctx, t, db, 1+calls)
	roundTrips, breakdown := statementsRun(ctx, t, db)
	t.Logf("PostgreSQL round trips per call: %.1f (%d statements for %d calls, pg_stat_statements):\n%s",
		float64(roundTrips)/calls, roundTrips, calls, breakdown)
	sids := waitCompletedCalls(t, g.httpURL, 1+calls)
	if !strings.Contains(g.Logs(), "node=gw-a") {
		t.Errorf("the gateway's log does not name its node (cluster.node_id)")
	}
	if _, err := os.Stat(filepath.Join(g.dir, "var", "voxgate.db")); err == nil {
		t.Errorf("the gateway made a SQLite database although storage.driver is postgres")
	}

	// Another gateway on the same database, with nothing on its disk,
	// serves the same records.
	g2 := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST",
		env: []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + dbURL, "VOXGATE_CLUSTER_NODE_ID=gw-b"}})
	for sid := range sids {
		if c := fetchCall(t, g2.httpURL, sid); c.Status != "completed" || c.From != "+15550001111" || c.To != "+15550001000" {
			t.Errorf("call %s through the second gateway: %+v", sid, c)
		}
	}
}

// placeCalls places n SIPp calls to the gateway, one after the other.
func placeCalls(t *testing.T, g *gateway, n int) {
	t.Helper()
	for i := range n {
		peer := newRTPPeer(t)
		code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{
			"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0", "expect_pt": "0", "wait_ms": "15000",
		}, 25*time.Second)
		if code != 0 {
			t.Fatalf("call %d: sipp exit %d\n%s", i, code, out)
		}
	}
}

// waitCompletedInDB waits until the database holds n completed calls.
func waitCompletedInDB(ctx context.Context, t *testing.T, db *sql.DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var got int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE status = 'completed'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d completed calls in PostgreSQL, want %d", got, n)
		}
	}
}

// restCall is the part of a call's REST representation the test reads.
type restCall struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// waitCompletedCalls lists calls through the REST API until n are
// completed, and returns their SIDs.
func waitCompletedCalls(t *testing.T, base string, n int) map[string]bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page struct {
			Calls []restCall `json:"calls"`
		}
		restGet(t, base+"/2010-04-01/Accounts/"+testAccountSID+"/Calls.json?PageSize=100", &page)
		done := map[string]bool{}
		for _, c := range page.Calls {
			if c.Status == "completed" {
				done[c.SID] = true
			}
		}
		if len(done) == n && len(page.Calls) == n {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls listed: %+v; want %d completed", page.Calls, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fetchCall reads one call through the REST API.
func fetchCall(t *testing.T, base, sid string) restCall {
	t.Helper()
	var c restCall
	restGet(t, base+"/2010-04-01/Accounts/"+testAccountSID+"/Calls/"+sid+".json", &c)
	return c
}

// restGet GETs url with the account's credentials and decodes the JSON.
func restGet(t *testing.T, url string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// statementsRun is how many statements the database ran since
// pg_stat_statements was last reset, the test's own queries and the
// cluster heartbeat (a clock's, not the calls') aside, and which. With pgx's statement cache each is one round trip.
func statementsRun(ctx context.Context, t *testing.T, db *sql.DB) (int, string) {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT calls, left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%FROM calls WHERE status =%'
		AND query NOT LIKE '%cluster_nodes%'
		ORDER BY calls DESC`)
	if err != nil {
		t.Fatalf("pg_stat_statements: %v", err)
	}
	defer rows.Close()
	total := 0
	var b strings.Builder
	for rows.Next() {
		var (
			n     int
			query string
		)
		if err := rows.Scan(&n, &query); err != nil {
			t.Fatal(err)
		}
		total += n
		fmt.Fprintf(&b, "%6d  %s\n", n, query)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return total, b.String()
}
