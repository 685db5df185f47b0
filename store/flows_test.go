package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestFlowsRevisionsAndExecutionsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s, err := openTestWith(ctx, dir, migrations, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	def := json.RawMessage(`{"description":"d","states":[],"initial_state":"Trigger"}`)
	created, err := s.CreateFlow(ctx, FlowRevision{AccountSID: "AC1", FriendlyName: "one", Status: FlowPublished, Definition: def, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	if created.Revision != 1 || len(created.FlowSID) != 34 || string(created.Errors) != "[]" {
		t.Fatalf("created %+v", created)
	}
	up, err := s.UpdateFlow(ctx, FlowRevision{FlowSID: created.FlowSID, AccountSID: "AC1", FriendlyName: "two", Status: FlowDraft, Definition: def, CommitMessage: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Revision != 2 || up.FriendlyName != "two" || !up.DateCreated.Equal(created.DateCreated) || !up.DateUpdated.After(created.DateUpdated) {
		t.Fatalf("updated %+v", up)
	}
	if _, err := s.UpdateFlow(ctx, FlowRevision{FlowSID: "FWnope", Status: FlowDraft, Definition: def}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	if _, err := s.CreateFlow(ctx, FlowRevision{Status: "bogus", Definition: def}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad status: %v", err)
	}
	e := FlowExecution{SID: "FN1", FlowSID: created.FlowSID, Status: "active", CallSID: "CA1", Body: []byte(`{"sid":"FN1"}`),
		DateCreated: clock.Now(), DateUpdated: clock.Now()}
	if err := s.CreateFlowExecution(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFlowExecution(ctx, e); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, sid := range []string{"FT1", "FT2"} {
		if err := s.AddFlowStep(ctx, FlowStep{SID: sid, ExecutionSID: "FN1", Body: []byte(`{"sid":"` + sid + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddFlowStep(ctx, FlowStep{SID: "FT3", ExecutionSID: "FNnone", Body: []byte(`{}`)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("step of unknown execution: %v", err)
	}
	s.Close()

	s = openTest(t, dir, clock)
	got, err := s.GetFlow(ctx, created.FlowSID)
	if err != nil || got.Revision != 2 || got.CommitMessage != "c2" || got.Status != FlowDraft {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	pub, err := s.LatestFlowRevision(ctx, created.FlowSID, FlowPublished)
	if err != nil || pub.Revision != 1 || pub.FriendlyName != "one" {
		t.Fatalf("latest published: %+v, %v", pub, err)
	}
	revs, next, err := s.ListFlowRevisions(ctx, created.FlowSID, Page{Size: 1})
	if err != nil || len(revs) != 1 || revs[0].Revision != 2 || next == "" {
		t.Fatalf("revisions page 1: %+v %q %v", revs, next, err)
	}
	revs, next, err = s.ListFlowRevisions(ctx, created.FlowSID, Page{Size: 1, Token: next})
	if err != nil || len(revs) != 1 || revs[0].Revision != 1 || next != "" {
		t.Fatalf("revisions page 2: %+v %q %v", revs, next, err)
	}
	flows, _, err := s.ListFlows(ctx, "AC1", Page{})
	if err != nil || len(flows) != 1 || flows[0].Revision != 2 {
		t.Fatalf("list flows: %+v %v", flows, err)
	}
	act, err := s.ActiveFlowExecutionForCall(ctx, "CA1")
	if err != nil || act.SID != "FN1" {
		t.Fatalf("active: %+v %v", act, err)
	}
	steps, err := s.ListFlowSteps(ctx, "FN1")
	if err != nil || len(steps) != 2 || steps[0].SID != "FT1" || steps[1].SID != "FT2" {
		t.Fatalf("steps: %+v %v", steps, err)
	}
	e.Status = "ended"
	if err := s.UpdateFlowExecution(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveFlowExecutionForCall(ctx, "CA1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("active after end: %v", err)
	}
	list, err := s.ListFlowExecutions(ctx, FlowExecutionFilter{FlowSID: created.FlowSID, Status: "ended"})
	if err != nil || len(list) != 1 {
		t.Fatalf("list executions: %+v %v", list, err)
	}
	if err := s.DeleteFlow(ctx, created.FlowSID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetFlowExecution(ctx, "FN1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("execution after flow delete: %v", err)
	}
	if _, err := s.ListFlowSteps(ctx, "FN1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("steps after flow delete: %v", err)
	}
	if _, err := s.GetFlowRevision(ctx, created.FlowSID, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revision after delete: %v", err)
	}
}
