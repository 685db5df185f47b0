package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/clock/clocktest"
	"github.com/voxgate/voxgate/store"
)

func openStore(t *testing.T, dir, node string) *store.DB {
	t.Helper()
	db, err := store.OpenDB(context.Background(), store.Options{Dir: dir, NodeID: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDeadNodeTakenOverOnce: two survivors watch a node whose heartbeat
// stopped; once it is older than DeadAfter exactly one of them takes it
// over and tells its NodeDied subscribers; a node that left cleanly is
// not taken over; both survivors count each other alive.
func TestDeadNodeTakenOverOnce(t *testing.T) {
	dir := t.TempDir()
	clk := clocktest.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	const interval, deadAfter = time.Second, 5 * time.Second
	ghost := openStore(t, dir, "gw-dead")
	if err := ghost.Heartbeat(context.Background(), store.Node{ID: "gw-dead", State: store.NodeUp, Started: clk.Now(), LastSeen: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ghost.Heartbeat(context.Background(), store.Node{ID: "gw-gone", State: store.NodeStopped, Started: clk.Now(), LastSeen: clk.Now()}); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		takeover []string // "survivor:dead"
		died     []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var members []*Membership
	for _, id := range []string{"gw-b", "gw-c"} {
		m := New(Options{NodeID: id, Store: openStore(t, dir, id), Interval: interval, DeadAfter: deadAfter, Clock: clk,
			Takeover: func(ctx context.Context, dead store.Node) error {
				mu.Lock()
				defer mu.Unlock()
				takeover = append(takeover, id+":"+dead.ID)
				return nil
			}})
		m.NodeDied(func(ctx context.Context, node string) {
			mu.Lock()
			defer mu.Unlock()
			died = append(died, node)
		})
		members = append(members, m)
		wg.Add(1)
		go func() { defer wg.Done(); m.Run(ctx) }()
	}
	// Time passes in steps of the interval; the survivors keep beating.
	for range 8 {
		waitTimers(t, clk, interval, len(members))
		clk.Advance(interval)
	}
	waitTimers(t, clk, interval, len(members))
	cancel()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(takeover) != 1 || takeover[0][len(takeover[0])-len("gw-dead"):] != "gw-dead" {
		t.Errorf("takeovers: %v, want one of gw-dead", takeover)
	}
	if len(died) != 1 || died[0] != "gw-dead" {
		t.Errorf("NodeDied: %v, want gw-dead once", died)
	}
	total := 0
	for _, m := range members {
		total += m.Takeovers()
		if m.Alive() != 2 {
			t.Errorf("alive nodes seen: %d, want 2", m.Alive())
		}
	}
	if total != 1 {
		t.Errorf("Takeovers summed %d, want 1", total)
	}
	nodes, err := members[0].Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, n := range nodes {
		states[n.ID] = n.State
	}
	want := map[string]string{"gw-b": store.NodeStopped, "gw-c": store.NodeStopped, "gw-dead": store.NodeDead, "gw-gone": store.NodeStopped}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("node %s is %q, want %q (all: %v)", id, states[id], s, states)
		}
	}
}

// waitTimers waits until n timers of d are pending: every member is
// waiting for its next beat.
func waitTimers(t *testing.T, clk *clocktest.Fake, d time.Duration, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := 0
		for _, p := range clk.Pending() {
			if p == d {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %v, want %d of %v", clk.Pending(), n, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
