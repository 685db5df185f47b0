package queue

import "testing"

// TestAgents: the snapshot shows each signed-in agent's activity and the
// caller of its current task.
func TestAgents(t *testing.T) {
	h := newHarness(t, Config{})
	h.signIn("bob", true, "support")
	h.signIn("alice", false, "support", "sales")
	got := h.m.Agents()
	if len(got) != 2 || got[0].ID != "alice" || got[0].Activity != "offline" || got[1].Activity != "available" {
		t.Fatalf("before any caller: %+v", got)
	}
	h.enqueue("support", Caller{CallSID: "CA1", From: "+15550001111"})
	got = h.m.Agents()
	if b := got[1]; b.Activity != "offered" || b.CallSID != "CA1" || b.From != "+15550001111" || b.Queue != "support" {
		t.Errorf("bob with an offer: %+v", b)
	}
	if a := got[0]; a.CallSID != "" || len(a.Queues) != 2 {
		t.Errorf("alice: %+v", a)
	}
}
