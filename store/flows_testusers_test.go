package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestFlowTestUsers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s := openTest(t, dir, clock)
	def := json.RawMessage(`{"states":[],"initial_state":"Trigger"}`)
	f, err := s.CreateFlow(ctx, FlowRevision{AccountSID: "AC1", FriendlyName: "f", Status: FlowPublished, Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	if users, err := s.FlowTestUsers(ctx, f.FlowSID); err != nil || len(users) != 0 {
		t.Fatalf("new flow: %v %v", users, err)
	}
	got, err := s.SetFlowTestUsers(ctx, f.FlowSID, []string{"+15550001", " client:ada ", "", "+15550001"})
	if want := []string{"+15550001", "client:ada"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("set: %v %v, want %v", got, err, want)
	}
	if _, err := s.SetFlowTestUsers(ctx, "FWnope", []string{"x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("set on an unknown flow: %v", err)
	}
	if _, err := s.FlowTestUsers(ctx, "FWnope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get on an unknown flow: %v", err)
	}
	s.Close()

	// The list survives a restart, and a new one replaces it in order.
	s = openTest(t, dir, clock)
	if users, err := s.FlowTestUsers(ctx, f.FlowSID); err != nil || !slices.Equal(users, []string{"+15550001", "client:ada"}) {
		t.Fatalf("after reopen: %v %v", users, err)
	}
	if _, err := s.SetFlowTestUsers(ctx, f.FlowSID, []string{"sip:bob@example.com", "+15550001"}); err != nil {
		t.Fatal(err)
	}
	if users, _ := s.FlowTestUsers(ctx, f.FlowSID); !slices.Equal(users, []string{"sip:bob@example.com", "+15550001"}) {
		t.Errorf("replaced: %v", users)
	}
	// Deleting the flow deletes its test users.
	if err := s.DeleteFlow(ctx, f.FlowSID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM flow_test_users`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d test users left after the flow was deleted (%v)", n, err)
	}
}
