package clusterstate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/store/pgtest"
	"github.com/voxgate/voxgate/taskrouter"
)

func TestSignerVerify(t *testing.T) {
	s := NewSigner("one secret")
	now := time.Unix(1_800_000_000, 0)
	proof := s.Sign(now, "POST", "/x", "a=1", "{}")
	if err := s.Verify(now.Add(time.Second), proof, "POST", "/x", "a=1", "{}"); err != nil {
		t.Fatalf("a good proof: %v", err)
	}
	cases := map[string]error{
		"another path":   s.Verify(now, proof, "POST", "/y", "a=1", "{}"),
		"another body":   s.Verify(now, proof, "POST", "/x", "a=1", `{"x":1}`),
		"parts moved":    s.Verify(now, proof, "POST", "/xa=1", "", "{}"),
		"too old":        s.Verify(now.Add(2*time.Minute), proof, "POST", "/x", "a=1", "{}"),
		"another secret": NewSigner("another").Verify(now, proof, "POST", "/x", "a=1", "{}"),
		"no proof":       s.Verify(now, "", "POST", "/x", "a=1", "{}"),
		"malformed":      s.Verify(now, "abc.def", "POST", "/x", "a=1", "{}"),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrBadProof) {
			t.Errorf("%s: %v, want ErrBadProof", name, err)
		}
	}
}

// pgCluster is a PostgreSQL database for the tests that need one.
func pgCluster(t testing.TB) (string, *store.DB) {
	t.Helper()
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return url, st
}

func openPool(t testing.TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestElectionOneHolderAtATime(t *testing.T) {
	url, _ := pgCluster(t)
	ctx := context.Background()
	a, b := NewElection(openPool(t, url), LeaderLockKey), NewElection(openPool(t, url), LeaderLockKey)
	if got, err := a.TryLock(ctx); err != nil || !got {
		t.Fatalf("a: %v %v", got, err)
	}
	if got, err := b.TryLock(ctx); err != nil || got {
		t.Fatalf("b while a holds the lock: %v %v", got, err)
	}
	if err := a.Check(ctx); err != nil {
		t.Fatalf("a's check: %v", err)
	}
	if err := b.Check(ctx); err == nil {
		t.Fatal("b's check passed without the lock")
	}
	a.Release() // as when a's process dies: its connection ends
	if got, err := b.TryLock(ctx); err != nil || !got {
		t.Fatalf("b after a let go: %v %v", got, err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatalf("b's check: %v", err)
	}
	b.Release()
}

// testNode is a Node with its internal HTTP server.
type testNode struct {
	*Node
	srv *httptest.Server
}

func startNode(t testing.TB, id, url string, st *store.DB, promote func(context.Context) (Leading, error)) *testNode {
	t.Helper()
	var mu sync.Mutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hh := h
		mu.Unlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n := New(Options{NodeID: id, InternalURL: srv.URL, Signer: NewSigner("s3cret"),
		SIPURI:   func(agent string) string { return "sip:" + agent + "@" + id },
		Election: NewElection(openPool(t, url), LeaderLockKey), Store: st, Promote: promote, Interval: 100 * time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle(InternalPrefix, n.InternalHandler())
	mux.Handle("/v1/", n.RESTHandler())
	mu.Lock()
	h = mux
	mu.Unlock()
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tn := &testNode{Node: n, srv: srv}
	t.Cleanup(func() { _ = n.Close() })
	return tn
}

// promoteInMemory makes a leader's TaskRouter in memory with agent alice.
func promoteInMemory(context.Context) (Leading, error) {
	r, err := taskrouter.New(context.Background(), taskrouter.Options{AccountSID: "AC1", AuthToken: "tok"})
	if err != nil {
		return Leading{}, err
	}
	ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"support"}}}})
	if err != nil {
		return Leading{}, err
	}
	return Leading{Router: r, Defaults: ids, Desk: desk.New(r, nil, ids.WorkspaceSID, ids.Workers, nil)}, nil
}

// TestFollowerTaskThroughLeader: a task made on a follower for its
// caller lives on the leader; its assignment reaches the follower; a
// requeue and a cancel go back to the leader; the follower's REST and
// desktop show the leader's state; internal requests need the proof.
func TestFollowerTaskThroughLeader(t *testing.T) {
	url, st := pgCluster(t)
	leader := startNode(t, "gw-l", url, st, promoteInMemory)
	follower := startNode(t, "gw-f", url, st, func(context.Context) (Leading, error) {
		return Leading{}, errors.New("the follower must not lead in this test")
	})
	l := leader.Leading()
	if l == nil || follower.Leading() != nil {
		t.Fatal("want the first node to lead and the second to follow")
	}
	ids, err := follower.Defaults(context.Background())
	if err != nil || ids.WorkspaceSID != l.Defaults.WorkspaceSID || ids.Workers["alice"] == "" {
		t.Fatalf("defaults through the follower: %+v %v", ids, err)
	}
	ws := ids.WorkspaceSID

	// alice goes Available through the follower's desktop.
	d := follower.OpenRemoteDesk("alice")
	defer d.Close()
	if err := d.Do(desk.Request{Action: "activity", Activity: "Available"}); err != nil {
		t.Fatalf("activity through the follower: %v", err)
	}

	ct, err := follower.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA0001", From: "+1555", To: "+1666",
		Attributes: `{"queue":"support"}`})
	if err != nil {
		t.Fatal(err)
	}
	if tv, err := l.Router.Task(ws, ct.SID); err != nil || !strings.Contains(tv.Attributes, `"call_sid":"CA0001"`) {
		t.Fatalf("the task on the leader: %+v %v", tv, err)
	}
	if tv, err := follower.Task(ws, ct.SID); err != nil || tv.SID != ct.SID {
		t.Fatalf("the task through the follower: %+v %v", tv, err)
	}
	got := make(chan taskrouter.Assignment, 1)
	errc := make(chan error, 1)
	wait := func() {
		a, err := ct.Wait(context.Background())
		if err != nil {
			errc <- err
			return
		}
		got <- a
	}
	go wait()
	// The follower's desktop shows the reservation; alice accepts it there.
	var res string
	deadline := time.Now().Add(10 * time.Second)
	for res == "" {
		if time.Now().After(deadline) {
			t.Fatal("no reservation on alice's desktop")
		}
		select {
		case <-d.Changed():
		case <-time.After(200 * time.Millisecond):
		}
		raw, err := d.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		var snap desk.Snapshot
		if err := json.Unmarshal(raw, &snap); err != nil {
			t.Fatal(err)
		}
		for _, tk := range snap.Tasks {
			if tk.TaskSID == ct.SID && tk.ReservationStatus == taskrouter.ResPending {
				res = tk.ReservationSID
			}
		}
	}
	if err := d.Do(desk.Request{Action: "accept", ReservationSID: res}); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.To != "client:alice" || a.ReservationSID != res {
			t.Errorf("assignment %+v", a)
		}
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not hear of the assignment")
	}
	// Delivery failed: back in line through the leader.
	if err := ct.Requeue("no answer"); err != nil {
		t.Fatal(err)
	}
	if tv, _ := l.Router.Task(ws, ct.SID); tv.AssignmentStatus != taskrouter.TaskPending && tv.AssignmentStatus != taskrouter.TaskReserved {
		t.Errorf("after requeue: %s", tv.AssignmentStatus)
	}
	// The caller hangs up: canceled on the leader, and Wait ends.
	go wait()
	ct.Cancel("caller hung up")
	select {
	case err := <-errc:
		if !errors.Is(err, taskrouter.ErrTaskEnded) {
			t.Errorf("wait after cancel: %v", err)
		}
	case a := <-got:
		t.Errorf("assigned after cancel: %+v", a)
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not end after the cancel")
	}
	if tv, _ := l.Router.Task(ws, ct.SID); tv.AssignmentStatus != taskrouter.TaskCanceled {
		t.Errorf("after cancel: %s", tv.AssignmentStatus)
	}

	if n := leader.held.size(); n != 0 {
		t.Errorf("the leader still holds %d tasks after the cancel", n)
	}
	// A task whose follower died without cancelling it is forgotten once
	// it is over (here canceled on the leader, as a takeover would).
	ct2, err := follower.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA0002", Attributes: `{"queue":"support"}`})
	if err != nil {
		t.Fatal(err)
	}
	leader.held.sweep(l.Router)
	if n := leader.held.size(); n != 1 {
		t.Errorf("a live task was swept: %d held", n)
	}
	status := taskrouter.TaskCanceled
	if _, err := l.Router.UpdateTask(ws, ct2.SID, taskrouter.TaskParams{AssignmentStatus: &status}); err != nil {
		t.Fatal(err)
	}
	leader.held.sweep(l.Router)
	if n := leader.held.size(); n != 0 {
		t.Errorf("a canceled task is still held: %d", n)
	}

	// The REST API through the follower is the leader's. (The gateway
	// checks the client's credentials in front of both.)
	resp, err := http.Get(follower.srv.URL + "/v1/Workspaces/" + ws + "/Tasks/" + ct.SID)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body["sid"] != ct.SID || !strings.HasPrefix(body["url"].(string), follower.srv.URL) {
		t.Errorf("REST through the follower: %d %v", resp.StatusCode, body)
	}

	// The follower dies: the leader forgets its agents and moves their
	// workers offline (alice was Available through the follower).
	if err := follower.SignIn(context.Background(), "alice", "page-1"); err != nil {
		t.Fatal(err)
	}
	if agents, err := leader.ForgetNode(context.Background(), "gw-f"); err != nil || len(agents) != 1 || agents[0] != "alice" {
		t.Fatalf("forget gw-f: %v %v", agents, err)
	}
	if wv, err := l.Router.Worker(ws, ids.Workers["alice"]); err != nil || wv.Available || wv.ActivityName != "Offline" {
		t.Errorf("alice's worker after her node died: %+v %v", wv, err)
	}

	// Internal requests without the proof, or with another cluster's,
	// are refused; the follower refuses to act as the leader.
	resp, err = http.Post(leader.srv.URL+InternalPrefix+"tasks", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned internal request: %d", resp.StatusCode)
	}
	other := &Node{opts: Options{Signer: NewSigner("other"), HTTPClient: http.DefaultClient}}
	if err := other.send(context.Background(), leader.srv.URL, http.MethodGet, "defaults", nil, nil); err == nil {
		t.Error("another cluster's proof was accepted")
	}
	if err := leader.send(context.Background(), follower.srv.URL, http.MethodGet, "defaults", nil, nil); !errors.Is(err, errNotLeader) {
		t.Errorf("asking the follower: %v", err)
	}
}

// TestFailover: when the leader goes, a follower takes the lead and
// records itself; the agents' presence says on which node each is.
func TestFailover(t *testing.T) {
	url, st := pgCluster(t)
	a := startNode(t, "gw-a", url, st, promoteInMemory)
	b := startNode(t, "gw-b", url, st, promoteInMemory)
	if a.Leading() == nil || b.Leading() != nil {
		t.Fatal("want a to lead")
	}
	ctx := context.Background()
	if err := b.SignIn(ctx, "alice", "s1"); err != nil {
		t.Fatal(err)
	}
	if uri, ok, err := a.AgentElsewhere(ctx, "alice"); err != nil || !ok || uri != "sip:alice@gw-b" {
		t.Errorf("alice seen from a: %q %v %v", uri, ok, err)
	}
	if _, ok, _ := b.AgentElsewhere(ctx, "alice"); ok {
		t.Error("alice is on b itself")
	}
	if err := a.Close(); err != nil { // the leader stops: its lock is freed
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Leading() == nil {
		if time.Now().After(deadline) {
			t.Fatal("b did not take the lead")
		}
		time.Sleep(50 * time.Millisecond)
	}
	l, err := st.GetLeader(ctx, RoleTaskRouter)
	if err != nil || l.NodeID != "gw-b" || l.Term != 2 || l.HTTPURL != b.srv.URL {
		t.Errorf("leader record: %+v %v", l, err)
	}
	if err := b.ClearPresence(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.AgentElsewhere(ctx, "alice"); ok {
		t.Error("alice still present after b cleared its presence")
	}
}

func TestKeyLocksAcrossPools(t *testing.T) {
	url, _ := pgCluster(t)
	a, b := NewKeyLocks(openPool(t, url), StudioLockNamespace), NewKeyLocks(openPool(t, url), StudioLockNamespace)
	ctx := context.Background()
	unlockA, err := a.Lock(ctx, "contact FW1 +1555")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	unlockOther, err := b.Lock(ctx, "contact FW1 +1666")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()
	// The same key waits for the holder (here: until ctx ends).
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := b.Lock(short, "contact FW1 +1555"); err == nil {
		t.Fatal("b took a's lock")
	}
	cancel()
	got := make(chan func(), 1)
	go func() {
		u, err := b.Lock(ctx, "contact FW1 +1555")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("b took the lock while a held it")
	case <-time.After(200 * time.Millisecond):
	}
	unlockA()
	select {
	case u := <-got:
		if u != nil {
			u()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b did not get the lock a gave up")
	}
}

// BenchmarkContactTask is a caller's task made and cancelled on the
// leader itself, and from a follower (two internal HTTP round trips).
func BenchmarkContactTask(b *testing.B) {
	url, st := pgCluster(b)
	leader := startNode(b, "gw-l", url, st, promoteInMemory)
	follower := startNode(b, "gw-f", url, st, promoteInMemory)
	ids := leader.Leading().Defaults
	for _, c := range []struct {
		name string
		n    *testNode
	}{{"leader", leader}, {"follower", follower}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ct, err := c.n.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA1", Attributes: `{"queue":"support"}`})
				if err != nil {
					b.Fatal(err)
				}
				ct.Cancel("bench")
			}
		})
	}
}

// TestWaitingCallerSurvivesFailover: a follower's caller waits for its
// task when the leader goes; the node that takes over loads TaskRouter
// from the database, keeps the live task (LiveGrace), adopts it when the
// caller's node asks again, and the same task is then assigned.
func TestWaitingCallerSurvivesFailover(t *testing.T) {
	url, st := pgCluster(t)
	promote := func(ctx context.Context) (Leading, error) {
		r, err := taskrouter.New(ctx, taskrouter.Options{AccountSID: "AC1", Store: st, LiveGrace: 30 * time.Second})
		if err != nil {
			return Leading{}, err
		}
		ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"support"}}}})
		if err != nil {
			return Leading{}, err
		}
		return Leading{Router: r, Defaults: ids, Desk: desk.New(r, nil, ids.WorkspaceSID, ids.Workers, nil)}, nil
	}
	leader := startNode(t, "gw-l", url, st, promote)
	caller := startNode(t, "gw-c", url, st, promote)
	if leader.Leading() == nil || caller.Leading() != nil {
		t.Fatal("want gw-l to lead")
	}
	ids := leader.Leading().Defaults
	ct, err := caller.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA0003", Attributes: `{"queue":"support"}`})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan taskrouter.Assignment, 1)
	errc := make(chan error, 1)
	go func() {
		a, err := ct.Wait(context.Background())
		if err != nil {
			errc <- err
			return
		}
		got <- a
	}()
	// The leader goes (its connections cut, as when its process dies).
	leader.srv.CloseClientConnections()
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for caller.Leading() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the caller's node did not take the lead")
		}
		time.Sleep(20 * time.Millisecond)
	}
	l := caller.Leading()
	avail := ""
	acts, _ := l.Router.Activities(ids.WorkspaceSID)
	for _, a := range acts {
		if a.FriendlyName == "Available" {
			avail = a.SID
		}
	}
	if _, err := l.Router.UpdateWorker(ids.WorkspaceSID, ids.Workers["alice"], taskrouter.WorkerParams{ActivitySID: &avail}); err != nil {
		t.Fatal(err)
	}
	var res []taskrouter.Reservation
	for len(res) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the task was not reserved on the new leader")
		}
		res, _ = l.Router.Reservations(ids.WorkspaceSID, ct.SID, "", taskrouter.ResPending)
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := l.Router.UpdateReservation(ids.WorkspaceSID, res[0].SID, taskrouter.ReservationParams{Status: taskrouter.ResAccepted}); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.TaskSID != ct.SID || a.To != "client:alice" {
			t.Errorf("assignment after the failover: %+v", a)
		}
	case err := <-errc:
		t.Fatalf("the waiting caller's task ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no assignment after the failover")
	}
	ct.Cancel("caller hung up") // assigned: wrapped on the new leader
	if tv, _ := l.Router.Task(ids.WorkspaceSID, ct.SID); tv.AssignmentStatus != taskrouter.TaskWrapping {
		t.Errorf("after the call: %s", tv.AssignmentStatus)
	}
}

// TestLeaderStopsWhenItsLockIsLost: when the leader's lock session is
// ended under it (here by pg_terminate_backend, as a network cut would
// end it), the leader hears Lost.
func TestLeaderStopsWhenItsLockIsLost(t *testing.T) {
	url, st := pgCluster(t)
	lost := make(chan error, 1)
	n := New(Options{NodeID: "gw-l", InternalURL: "http://127.0.0.1:1", Signer: NewSigner("s"),
		Election: NewElection(openPool(t, url), LeaderLockKey), Store: st, Promote: promoteInMemory,
		Lost: func(err error) { lost <- err }, Interval: 50 * time.Millisecond})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Leading() == nil {
		t.Fatal("not leading")
	}
	admin := openPool(t, url)
	var killed int
	err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1`, LeaderLockKey).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminating the lock's session: %d %v", killed, err)
	}
	select {
	case err := <-lost:
		t.Logf("lost: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the leader did not notice it lost its lock")
	}
}
