package store

import (
	"context"
	"errors"
	"testing"
)

func TestClusterLeaderTerms(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.GetLeader(ctx, "taskrouter"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no leader yet: %v", err)
	}
	a, err := s.ClaimLeader(ctx, Leader{Name: "taskrouter", NodeID: "gw-a", HTTPURL: "http://127.0.0.1:1"})
	if err != nil || a.Term != 1 || a.NodeID != "gw-a" {
		t.Fatalf("first claim: %+v %v", a, err)
	}
	b, err := s.ClaimLeader(ctx, Leader{Name: "taskrouter", NodeID: "gw-b", HTTPURL: "http://127.0.0.1:2"})
	if err != nil || b.Term != 2 || b.HTTPURL != "http://127.0.0.1:2" {
		t.Fatalf("second claim: %+v %v", b, err)
	}
	got, err := s.GetLeader(ctx, "taskrouter")
	if err != nil || got.NodeID != "gw-b" || got.Term != 2 || got.DateUpdated.IsZero() {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.ClaimLeader(ctx, Leader{Name: "taskrouter"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("claim without a node: %v", err)
	}
}

func TestAgentPresenceNewestConnectionWins(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.GetPresence(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nobody yet: %v", err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutPresence(ctx, Presence{AgentID: "alice", NodeID: "gw-a", Session: "s1", SIPURI: "sip:alice@127.0.0.1:5060"}))
	must(s.PutPresence(ctx, Presence{AgentID: "alice", NodeID: "gw-b", Session: "s2", SIPURI: "sip:alice@127.0.0.2:5060"}))
	must(s.PutPresence(ctx, Presence{AgentID: "bob", NodeID: "gw-a", Session: "s3", SIPURI: "sip:bob@127.0.0.1:5060"}))
	// The older connection on gw-a ends: alice stays on gw-b.
	if gone, err := s.DeletePresence(ctx, "alice", "s1"); err != nil || gone {
		t.Fatalf("delete of the older session: %v %v", gone, err)
	}
	p, err := s.GetPresence(ctx, "alice")
	if err != nil || p.NodeID != "gw-b" || p.SIPURI != "sip:alice@127.0.0.2:5060" || p.Session != "s2" {
		t.Fatalf("alice: %+v %v", p, err)
	}
	if agents, err := s.DeleteNodePresence(ctx, "gw-a"); err != nil || len(agents) != 1 || agents[0] != "bob" {
		t.Fatalf("node gw-a: %v %v", agents, err)
	}
	if _, err := s.GetPresence(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob after gw-a's presence was cleared: %v", err)
	}
	if gone, err := s.DeletePresence(ctx, "alice", "s2"); err != nil || !gone {
		t.Fatalf("delete of the current session: %v %v", gone, err)
	}
	if err := s.PutPresence(ctx, Presence{AgentID: "alice"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("presence without a node: %v", err)
	}
}

// TestUnfinishedMessagesAreThisNodes: gateways sharing a database each
// re-queue at start only the messages of their own outbox (and those no
// node owns), never another live node's.
func TestUnfinishedMessagesAreThisNodes(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b, legacy := openTest(t, dir, clock), openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID = "gw-a", "gw-b"
	for _, c := range []struct {
		s   *DB
		sid string
	}{{a, "SMa"}, {b, "SMb"}, {legacy, "SMlegacy"}} {
		if _, err := c.s.CreateMessage(ctx, msg(c.sid)); err != nil {
			t.Fatal(err)
		}
	}
	// Another node's status update does not move the message over.
	if err := b.MarkMessageSending(ctx, "SMa"); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[*DB][]string{a: {"SMa", "SMlegacy"}, b: {"SMb", "SMlegacy"}} {
		un, err := s.UnfinishedMessages(ctx)
		var got []string
		for _, m := range un {
			got = append(got, m.SID)
		}
		if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("UnfinishedMessages of %q = %v, %v; want %v", s.nodeID, got, err, want)
		}
	}
}
