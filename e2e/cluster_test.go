package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/voxgate/voxgate/store/pgtest"
)

// clusterFlow records each call and hands it to the app's TwiML (a long
// <Pause>: the caller hangs up), so that every call has a Studio
// execution and a recording in progress while it runs.
const clusterFlow = `{
  "description": "cluster e2e", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingCall", "next": "startRec"}]},
    {"name": "startRec", "type": "record-call",
     "properties": {"record_call": true, "recording_channels": "mono", "trim": "do-not-trim"},
     "transitions": [{"event": "success", "next": "ext"}, {"event": "failed", "next": "ext"}]},
    {"name": "ext", "type": "add-twiml-redirect", "properties": {"url": "APP/voice", "method": "POST"},
     "transitions": [{"event": "return"}, {"event": "timeout"}, {"event": "fail"}]}
  ]}`

// clusterYAML is the cluster part of every node's config: drains on
// SIGTERM, heartbeats fast and takes a silent node for dead after 3 s, so
// that the test runs in well under two minutes.
const clusterYAML = "cluster:\n  drain_timeout: 30s\n  heartbeat: 500ms\n  dead_after: 3s\n"

// TestClusterBehindKamailio runs two gateways on 127.0.0.2 and 127.0.0.3
// sharing one PostgreSQL, behind Kamailio on 127.0.0.1 (the shipped
// configs/kamailio/kamailio.cfg, its dispatcher probing the nodes with
// OPTIONS every second), with SIPp load through Kamailio:
//
//  1. the calls are spread over both nodes;
//  2. a rolling restart under load (SIGTERM node A: it drains, Kamailio
//     sends new calls to B; A restarts; then the same for B) fails no call;
//  3. kill -9 of node B mid-load: A finds it dead, ends the calls B
//     carried (completed, with their status callbacks received by the
//     test's server), their recordings (absent: the audio was on B's
//     disk) and their Studio executions, and sends the completed callback
//     of a REST call B placed (from the shared callback journal); calls
//     placed after the kill are
//     answered by A; in the end no call, recording or execution is left
//     unfinished and every call has its record.
func TestClusterBehindKamailio(t *testing.T) {
	srv := pgtest.Start(t)
	dbURL := srv.NewDatabase(t)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	a := newApp(t)
	a.twiml("/voice", `<Response><Pause length="60"/></Response>`)
	a.twiml("/status", "")
	flow := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(flow, []byte(strings.ReplaceAll(clusterFlow, "APP", a.url(""))), 0o644); err != nil {
		t.Fatal(err)
	}
	node := func(id, ip string) *gateway {
		return startGateway(t, gatewayOpts{flow: flow, statusCallback: a.url("/status"), statusEvents: []string{"completed"},
			sipIP: ip, extraYAML: clusterYAML,
			env: []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + dbURL, "VOXGATE_CLUSTER_NODE_ID=" + id}})
	}
	gwA, gwB := node("gw-a", "127.0.0.2"), node("gw-b", "127.0.0.3")
	k := startKamailio(t, fmt.Sprintf("127.0.0.2:%d", gwA.sipPort), fmt.Sprintf("127.0.0.3:%d", gwB.sipPort))

	// 1 and 2: load through Kamailio during a rolling restart.
	load := k.load(t, 80, 4, 2*time.Second)
	time.Sleep(4 * time.Second)
	gwA = rollingRestart(t, k, gwA, "gw-a", "127.0.0.2")
	gwB = rollingRestart(t, k, gwB, "gw-b", "127.0.0.3")
	res := load.wait(t)
	if res.exit != 0 || res.failed != 0 || res.successful != 80 {
		t.Fatalf("rolling restart under load: sipp exit %d, %d successful, %d failed calls; want 80 and none failed\n%s\nkamailio:\n%s",
			res.exit, res.successful, res.failed, res.output, k.logs.String())
	}
	perNode := countByNode(ctx, t, db, `status = 'completed'`)
	t.Logf("rolling restart: 80 calls through Kamailio, none failed; completed per node: %v; INVITEs a draining node refused that Kamailio sent to the other: %d",
		perNode, strings.Count(k.logs.String(), "(503); trying the next"))
	if perNode["gw-a"] == 0 || perNode["gw-b"] == 0 || perNode["gw-a"]+perNode["gw-b"] != 80 {
		t.Errorf("calls per node %v: want both nodes to take calls, 80 in all", perNode)
	}

	// 3: kill -9 of node B mid-load, with a REST call of B's running too
	// (its StatusCallback is only in the shared callback journal).
	a.twiml("/outbound", `<Response><Pause length="60"/></Response>`)
	a.twiml("/ostatus", "")
	uas := streamingParty(t, toneStream(t, 1, 30))
	op := &openapi.CreateCallParams{}
	op.SetTo(fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)).SetFrom("+15550001111").SetUrl(a.url("/outbound")).SetStatusCallback(a.url("/ostatus"))
	placed, err := twilioGo(t, gwB.httpURL).Api.CreateCall(op)
	if err != nil {
		t.Fatalf("CreateCall on gw-b: %v", err)
	}
	a.waitRequests(t, "/outbound", 1, 15*time.Second)
	before := len(a.requests("/status"))
	load = k.load(t, 40, 4, 5*time.Second)
	time.Sleep(6 * time.Second)
	gwB.kill9(t)
	killedAt := time.Now()
	liveOnB := callsWhere(ctx, t, db, `node_id = 'gw-b' AND status IN ('queued', 'ringing', 'in-progress')`)
	if len(liveOnB) == 0 {
		t.Fatal("no call was live on gw-b when it was killed")
	}
	waitUntil(t, 20*time.Second, "gw-a to take gw-b over", func() bool {
		var state string
		_ = db.QueryRowContext(ctx, `SELECT state FROM cluster_nodes WHERE node_id = 'gw-b'`).Scan(&state)
		return state == "dead"
	})
	t.Logf("gw-b taken over %v after the kill (cluster.dead_after 3s)", time.Since(killedAt).Round(100*time.Millisecond))
	res = load.wait(t)
	t.Logf("kill -9 of gw-b with %d calls live on it: sipp %d successful, %d failed", len(liveOnB), res.successful, res.failed)
	if res.successful+res.failed != 40 {
		t.Errorf("sipp: %d successful, %d failed of 40\n%s", res.successful, res.failed, res.output)
	}
	if n := countRows(ctx, t, db, `SELECT count(*) FROM calls WHERE node_id = 'gw-a' AND date_created > $1`, killedAt.Add(time.Second).UnixNano()); n == 0 {
		t.Error("no call reached gw-a after gw-b was killed")
	}
	for _, sid := range liveOnB {
		var status string
		var duration int
		if err := db.QueryRowContext(ctx, `SELECT status, duration FROM calls WHERE sid = $1`, sid).Scan(&status, &duration); err != nil {
			t.Fatal(err)
		}
		if status != "completed" && status != "canceled" {
			t.Errorf("call %s of the dead node is %s, want completed (or canceled if it was not answered)", sid, status)
		}
	}
	// Every call of the dead node has its completed callback, once: the
	// inbound ones their number's, the REST call the one it asked for.
	if !slices.Contains(liveOnB, *placed.Sid) {
		t.Fatalf("the REST call %s was not live on gw-b: %v", *placed.Sid, liveOnB)
	}
	inbound := slices.DeleteFunc(slices.Clone(liveOnB), func(s string) bool { return s == *placed.Sid })
	waitUntil(t, 10*time.Second, "the dead node's calls' status callbacks", func() bool {
		got := callbacksFor(a.requests("/status")[before:], inbound)
		for _, sid := range inbound {
			if got[sid] == 0 {
				return false
			}
		}
		return true
	})
	for sid, n := range callbacksFor(a.requests("/status")[before:], inbound) {
		if n != 1 {
			t.Errorf("call %s: %d completed status callbacks, want 1", sid, n)
		}
	}
	if got := callbacksFor(a.waitRequests(t, "/ostatus", 1, 10*time.Second), []string{*placed.Sid}); got[*placed.Sid] != 1 {
		t.Errorf("the REST call's completed callbacks: %v, want 1", got)
	}
	// Nothing is left unfinished, and nothing is missing.
	waitUntil(t, 15*time.Second, "every call, recording and execution to end", func() bool {
		return len(callsWhere(ctx, t, db, `status IN ('queued', 'ringing', 'in-progress')`)) == 0 &&
			countRows(ctx, t, db, `SELECT count(*) FROM recordings WHERE status IN ('in-progress', 'paused', 'processing')`) == 0 &&
			countRows(ctx, t, db, `SELECT count(*) FROM flow_executions WHERE status = 'active'`) == 0
	})
	// Every call SIPp placed has its record, but one whose INVITE gw-b took
	// in its last milliseconds may have died with it before its first
	// record: at most one, and then it is among SIPp's failures beyond the
	// calls gw-b carried.
	unrecorded := max(0, res.failed-len(inbound))
	if unrecorded > 1 {
		t.Errorf("%d calls failed beyond the %d gw-b carried", unrecorded, len(inbound))
	}
	calls := countRows(ctx, t, db, `SELECT count(*) FROM calls`)
	if calls != 121-unrecorded {
		t.Errorf("%d call records, want %d (80 + 40 + the REST call, less %d taken by gw-b as it died)", calls, 121-unrecorded, unrecorded)
	}
	// Every inbound call has one Studio execution with its steps (Trigger →
	// startRec → ext) and one recording, but a call gw-b was still setting
	// up may have died before them; those gw-b carried are absent.
	if n := countRows(ctx, t, db, `SELECT count(*) FROM calls c WHERE c.direction = 'inbound' AND NOT c.sid = ANY($1) AND (
		(SELECT count(*) FROM flow_executions e WHERE e.call_sid = c.sid) <> 1 OR
		(SELECT count(*) FROM recordings r WHERE r.call_sid = c.sid) <> 1)`, inbound); n != 0 {
		t.Errorf("%d calls lack their execution or recording", n)
	}
	if n := countRows(ctx, t, db, `SELECT count(*) FROM flow_executions e
		WHERE (SELECT count(*) FROM flow_steps s WHERE s.execution_sid = e.sid) < 2`); n != 0 {
		t.Errorf("%d executions lack steps", n)
	}
	recs := countRows(ctx, t, db, `SELECT count(*) FROM recordings r WHERE r.call_sid = ANY($1)`, inbound)
	if n := countRows(ctx, t, db, `SELECT count(*) FROM recordings r WHERE r.call_sid = ANY($1) AND r.status = 'absent'`, inbound); n != recs || recs < len(inbound)-1 {
		t.Errorf("%d of the %d recordings of the dead node's %d live calls are absent, want all (one call may have died before its recording began)", n, recs, len(inbound))
	}
	t.Logf("records: %d calls, %d executions, %d recordings", calls,
		countRows(ctx, t, db, `SELECT count(*) FROM flow_executions`), countRows(ctx, t, db, `SELECT count(*) FROM recordings`))
	if n := countRows(ctx, t, db, `SELECT count(*) FROM call_callbacks`); n != 0 {
		t.Errorf("%d callbacks left in the journal", n)
	}
	// A call the gateway hangs up: its BYE follows the Record-Route set
	// back through Kamailio to the caller.
	a.twiml("/voice", `<Response><Say>Goodbye.</Say><Hangup/></Response>`)
	peer := newRTPPeer(t)
	if code, out := (&gateway{sipPort: k.port}).sipp(t, "udp", "uac_wait_bye.xml", map[string]string{
		"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 20*time.Second); code != 0 {
		t.Errorf("a call the gateway hangs up, through Kamailio: sipp exit %d\n%s", code, out)
	} else if !strings.Contains(out, "Record-Route") || !strings.Contains(out, fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;", k.port)) {
		// Kamailio takes its Via off responses: only the BYE it relayed has it.
		t.Errorf("the call was not record-routed, or its BYE did not come through Kamailio:\n%s", out)
	}
	calls++
	// The survivor's REST API lists the whole cluster's calls; its metrics
	// count the takeover.
	var page struct {
		Calls []restCall `json:"calls"`
	}
	restGet(t, gwA.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Calls.json?PageSize=200", &page)
	if len(page.Calls) != calls {
		t.Errorf("the survivor's REST API lists %d calls, want %d", len(page.Calls), calls)
	}
	if m := metricsText(t, gwA.httpURL); !strings.Contains(m, "voxgate_cluster_takeovers_total 1") || !strings.Contains(m, "voxgate_cluster_nodes_alive 1") {
		t.Errorf("survivor's cluster metrics:\n%s", grepLines(m, "voxgate_cluster_"))
	}
	if !strings.Contains(gwA.Logs(), "cluster: node found dead") || !strings.Contains(gwA.Logs(), "dead_node=gw-b") {
		t.Errorf("the survivor's log does not tell the takeover")
	}
}

// rollingRestart drains a node with SIGTERM while load runs: Kamailio
// must take it out (its OPTIONS answer 503) and the node exits once its
// calls end; then it starts again on the same address and storage, and
// Kamailio takes it back.
func rollingRestart(t *testing.T, k *kamailio, g *gateway, id, ip string) *gateway {
	t.Helper()
	addr := fmt.Sprintf("%s:%d", ip, g.sipPort)
	ups := k.ups(addr)
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not drain and exit within 30 s", id)
	}
	if g.exitErr != nil {
		t.Errorf("%s exit: %v", id, g.exitErr)
	}
	if !strings.Contains(g.Logs(), "voxgate drained") {
		t.Errorf("%s did not drain:\n%s", id, g.Logs())
	}
	ng := g.respawn(t)
	k.waitUp(t, addr, ups)
	return ng
}

// respawn starts the gateway's binary again with its config, on its
// addresses and storage (after it exited).
func (g *gateway) respawn(t *testing.T) *gateway {
	t.Helper()
	ng := &gateway{sipPort: g.sipPort, httpURL: g.httpURL, dir: g.dir, rtpRange: g.rtpRange, exited: make(chan struct{})}
	ng.cmd = exec.Command(g.cmd.Path, g.cmd.Args[1:]...)
	ng.cmd.Dir, ng.cmd.Env = g.cmd.Dir, g.cmd.Env
	ng.run(t, "restart")
	return ng
}

// kamailio is a Kamailio process running configs/kamailio/kamailio.cfg
// on 127.0.0.1 in front of the test's nodes.
type kamailio struct {
	port int
	cmd  *exec.Cmd
	logs *syncBuilder
	done chan struct{}
}

// startKamailio runs Kamailio with the shipped configuration, listening on
// a free port of 127.0.0.1, dispatching to nodes (host:port), probing them
// every second.
func startKamailio(t *testing.T, nodes ...string) *kamailio {
	t.Helper()
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		bin = "/usr/sbin/kamailio" // Debian installs it outside a user's PATH
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("kamailio not found: scripts/install-deps.sh test installs it")
		}
	}
	dir := t.TempDir()
	k := &kamailio{port: freePort(t), logs: &syncBuilder{}, done: make(chan struct{})}
	cfg, err := os.ReadFile("../configs/kamailio/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), "listen=udp:0.0.0.0:5060", fmt.Sprintf("listen=udp:127.0.0.1:%d", k.port), 1)
	if text == string(cfg) {
		t.Fatal("kamailio.cfg: no listen line to replace")
	}
	var list strings.Builder
	for i, n := range nodes {
		fmt.Fprintf(&list, "1 sip:%s 0 0 node=%d\n", n, i)
	}
	listPath, cfgPath := filepath.Join(dir, "dispatcher.list"), filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(listPath, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	k.cmd = exec.Command(bin, "-f", cfgPath, "-DD", "-E", "-n", "2", "-m", "64", "-M", "8", "-Y", dir,
		"-A", fmt.Sprintf("DISPATCHER_LIST=%q", listPath), "-A", "PING_INTERVAL=1", "-A", "FR_TIMER=1000")
	k.cmd.Stdout, k.cmd.Stderr = k.logs, k.logs
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children are killed with it
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = k.cmd.Wait(); close(k.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
			<-k.done
		}
		if t.Failed() {
			t.Logf("kamailio log:\n%s", k.logs.String())
		}
	})
	return k
}

// ups counts the times Kamailio's probes found the node at addr
// (host:port) up again after it was down (event route dispatcher:dst-up
// in kamailio.cfg).
func (k *kamailio) ups(addr string) int {
	return strings.Count(k.logs.String(), "Voxgate node up: sip:"+addr+"\n")
}

// waitUp waits until Kamailio has found the node at addr up more than
// before times.
func (k *kamailio) waitUp(t *testing.T, addr string, before int) {
	t.Helper()
	waitUntil(t, 20*time.Second, "Kamailio to take "+addr+" back", func() bool { return k.ups(addr) > before })
}

// clusterLoad is a SIPp run through Kamailio in the background.
type clusterLoad struct {
	done  chan struct{}
	res   loadResult
	stats string
	calls int
}

// load starts calls calls at rate per second through Kamailio, each hung
// up by the caller after hold.
func (k *kamailio) load(t *testing.T, calls, rate int, hold time.Duration) *clusterLoad {
	t.Helper()
	dir := t.TempDir()
	scenario, err := filepath.Abs(filepath.Join("testdata", "cluster_call.xml"))
	if err != nil {
		t.Fatal(err)
	}
	l := &clusterLoad{done: make(chan struct{}), stats: filepath.Join(dir, "stats.csv"), calls: calls}
	limit := time.Duration(calls/rate)*time.Second + hold + 60*time.Second
	args := []string{fmt.Sprintf("127.0.0.1:%d", k.port), "-sf", scenario, "-s", "+15550001000",
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(freePort(t)), "-mp", fmt.Sprint(freePort(t)), "-cp", fmt.Sprint(freePort(t)),
		"-m", fmt.Sprint(calls), "-r", fmt.Sprint(rate), "-l", fmt.Sprint(calls), "-d", fmt.Sprint(hold.Milliseconds()),
		"-nostdin", "-timeout", fmt.Sprintf("%ds", int(limit.Seconds())), "-timeout_error", "-trace_err",
		"-trace_stat", "-stf", l.stats, "-fd", "1"}
	cmd := exec.Command("sipp", args...)
	cmd.Dir = dir
	var out syncBuilder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	go func() {
		defer close(l.done)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			l.res.exit = ee.ExitCode()
		} else if err != nil {
			l.res.exit = -1
		}
		l.res.output = out.String()
		if logs, _ := filepath.Glob(filepath.Join(dir, "*errors.log")); len(logs) > 0 {
			data, _ := os.ReadFile(logs[0])
			l.res.output += "\n==== errors ====\n" + string(data)
		}
	}()
	t.Cleanup(func() {
		select {
		case <-l.done:
		default:
			_ = cmd.Process.Kill()
			<-l.done
		}
	})
	return l
}

// wait waits for the run to end and returns its totals.
func (l *clusterLoad) wait(t *testing.T) loadResult {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(3 * time.Minute):
		t.Fatal("sipp did not end")
	}
	l.res.successful, l.res.failed = sippTotals(t, l.stats)
	return l.res
}

// waitUntil polls cond every 100 ms until it holds, or fails the test.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}

// countByNode counts the calls matching where per node.
func countByNode(ctx context.Context, t *testing.T, db *sql.DB, where string) map[string]int {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT node_id, count(*) FROM calls WHERE `+where+` GROUP BY node_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			node string
			n    int
		)
		if err := rows.Scan(&node, &n); err != nil {
			t.Fatal(err)
		}
		out[node] = n
	}
	return out
}

// callsWhere returns the SIDs of the calls matching where.
func callsWhere(ctx context.Context, t *testing.T, db *sql.DB, where string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, `SELECT sid FROM calls WHERE `+where+` ORDER BY sid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		sids = append(sids, s)
	}
	return sids
}

// countRows runs a SELECT count(*) query.
func countRows(ctx context.Context, t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// callbacksFor counts the completed status callbacks each call of sids got.
func callbacksFor(reqs []webhookRequest, sids []string) map[string]int {
	want := map[string]bool{}
	for _, s := range sids {
		want[s] = true
	}
	got := map[string]int{}
	for _, r := range reqs {
		if sid := r.Form.Get("CallSid"); want[sid] && r.Form.Get("CallStatus") == "completed" {
			got[sid]++
		}
	}
	return got
}

// metricsText GETs /metrics.
func metricsText(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
