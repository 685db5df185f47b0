package desk

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/taskrouter"
)

// fakeCalls is one live call whose controls record what they were asked.
type fakeCalls struct {
	mu      sync.Mutex
	call    LiveCall
	ops     []string
	changed chan struct{}
}

func (f *fakeCalls) Call(taskSID string) (Call, bool) {
	return f, taskSID == f.call.TaskSID
}
func (f *fakeCalls) List() []LiveCall { return []LiveCall{f.Info()} }
func (f *fakeCalls) Changed() <-chan struct{} {
	return f.changed
}
func (f *fakeCalls) Info() LiveCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.call
	c.Parties = slices.Clone(c.Parties)
	return c
}
func (f *fakeCalls) record(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op)
}
func (f *fakeCalls) Add(p AddParty) error {
	f.record(fmt.Sprintf("add %+v", p))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call.Parties = append(f.call.Parties, Party{Label: p.Label, Role: p.Role, Muted: p.Muted, Coaching: p.Coach != ""})
	return nil
}
func (f *fakeCalls) Update(_ context.Context, label string, u PartyUpdate) error {
	s := "update " + label
	if u.Muted != nil {
		s += fmt.Sprintf(" muted=%v", *u.Muted)
	}
	if u.Hold != nil {
		s += fmt.Sprintf(" hold=%v", *u.Hold)
	}
	if u.Coach != nil {
		s += fmt.Sprintf(" coach=%q", *u.Coach)
	}
	f.record(s)
	return nil
}
func (f *fakeCalls) Remove(label string) error { f.record("remove " + label); return nil }
func (f *fakeCalls) TransferToQueue(q, from string) error {
	f.record("queue " + q + " from " + from)
	return nil
}
func (f *fakeCalls) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.ops
	f.ops = nil
	return out
}

// TestCallActions: an agent on a task's call holds the caller, mutes
// itself, transfers (cold: to an agent with the caller held and itself
// replaced; to a queue), consults a number and leaves; an agent not on
// the call may not; a supervisor (by config, or by the worker's roles
// attribute as in Flex) sees every call and monitors (joins muted),
// coaches the first agent and barges; others may not.
func TestCallActions(t *testing.T) {
	r, err := taskrouter.New(context.Background(), taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice"}, {ID: "bob"}, {ID: "sue"}, {ID: "sam"}}})
	if err != nil {
		t.Fatal(err)
	}
	roles := `{"roles":["agent","supervisor"]}`
	if _, err := r.UpdateWorker(ids.WorkspaceSID, ids.Workers["sam"], taskrouter.WorkerParams{Attributes: &roles}); err != nil {
		t.Fatal(err)
	}
	calls := &fakeCalls{changed: make(chan struct{}), call: LiveCall{TaskSID: "WT1", Parties: []Party{
		{Label: "customer", Role: "customer"}, {Label: "alice", Role: "agent"}}}}
	d := New(r, nil, ids.WorkspaceSID, ids.Workers, nil)
	d.EnableCalls(calls, []string{"sue"})
	open := func(id string) *Session {
		s, err := d.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	alice, bob, sue, sam := open("alice"), open("bob"), open("sue"), open("sam")

	do := func(s *Session, action, target string) error {
		return s.Do(Request{Action: action, TaskSID: "WT1", Target: target})
	}
	for _, step := range []struct{ action, target, want string }{
		{"hold", "", "update customer hold=true"},
		{"unhold", "", "update customer hold=false"},
		{"mute", "", "update alice muted=true"},
		{"transfer", "agent:bob", "add {To:client:bob Label:bob Role:agent Muted:false Coach: HoldCaller:true Replaces:alice}"},
		{"transfer", "queue:sales", "queue sales from alice"},
		{"consult", "+15550003333", "add {To:+15550003333 Label:+15550003333 Role:external Muted:false Coach: HoldCaller:false Replaces:}"},
		{"kick", "+15550003333", "remove +15550003333"},
		{"leave", "", "remove alice"},
	} {
		if err := do(alice, step.action, step.target); err != nil {
			t.Fatalf("%s %s: %v", step.action, step.target, err)
		}
		if got := calls.take(); len(got) != 1 || got[0] != step.want {
			t.Errorf("%s %s: %v, want %q", step.action, step.target, got, step.want)
		}
	}
	for _, bad := range []struct{ action, target string }{{"kick", "customer"}, {"consult", "queue:sales"}, {"transfer", "sip:a b"}, {"consult", "agent:alice"}} {
		if err := do(alice, bad.action, bad.target); err == nil {
			t.Errorf("%s %s was allowed", bad.action, bad.target)
		}
	}
	if err := do(sam, "hold", ""); err == nil {
		t.Error("sam, not on the call, held its caller")
	}
	if err := do(bob, "monitor", ""); err == nil {
		t.Error("bob, not a supervisor, monitored")
	}
	if err := alice.Do(Request{Action: "hold", TaskSID: "WT2"}); err == nil {
		t.Error("hold on a task with no call")
	}
	calls.take()

	snap, err := sam.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Supervisor || len(snap.LiveCalls) != 1 || len(snap.Calls) != 0 {
		t.Errorf("sam (roles: supervisor): %+v", snap)
	}
	if snap, _ := alice.Snapshot(); snap.Supervisor || len(snap.Calls) != 1 || snap.Calls[0].TaskSID != "WT1" || len(snap.LiveCalls) != 0 {
		t.Errorf("alice's desktop: %+v", snap)
	}
	if err := do(sue, "monitor", ""); err != nil {
		t.Fatal(err)
	}
	if got := calls.take(); len(got) != 1 || got[0] != "add {To:client:sue Label:supervisor:sue Role:supervisor Muted:true Coach: HoldCaller:false Replaces:}" {
		t.Errorf("monitor: %v", got)
	}
	if err := do(alice, "kick", "supervisor:sue"); err == nil {
		t.Error("alice removed her supervisor")
	}
	for _, step := range []struct{ action, want string }{
		{"coach", `update supervisor:sue muted=false coach="alice"`},
		{"barge", `update supervisor:sue muted=false coach=""`},
		{"monitor", `update supervisor:sue muted=true coach=""`},
		{"unmonitor", "remove supervisor:sue"},
	} {
		if err := do(sue, step.action, ""); err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		if got := calls.take(); len(got) != 1 || got[0] != step.want {
			t.Errorf("%s: %v, want %q", step.action, got, step.want)
		}
	}
	if err := do(sam, "coach", ""); err != nil {
		t.Fatal(err)
	}
	if got := calls.take(); len(got) != 1 || got[0] != `add {To:client:sam Label:supervisor:sam Role:supervisor Muted:false Coach:alice HoldCaller:false Replaces:}` {
		t.Errorf("sam coaches: %v", got)
	}
}
