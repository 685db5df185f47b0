package studio

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Execution{Sid: "FNa", FlowSid: "FW1", CallSid: "CA1", ContactAddress: "+1", Status: StatusActive, DateCreated: t0,
		Context: map[string]any{"flow": map[string]any{"variables": map[string]any{"n": 1}}}}
	b := &Execution{Sid: "FNb", FlowSid: "FW2", CallSid: "CA2", ContactAddress: "+2", Status: StatusActive, DateCreated: t0.Add(time.Hour)}
	for _, e := range []*Execution{a, b} {
		if err := m.CreateExecution(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.CreateExecution(ctx, a); err == nil {
		t.Error("duplicate create accepted")
	}
	// Stored values are copies.
	a.Context["flow"].(map[string]any)["variables"].(map[string]any)["n"] = 99
	got, err := m.ActiveExecutionForCall(ctx, "CA1")
	if err != nil || got.Sid != "FNa" || got.Context["flow"].(map[string]any)["variables"].(map[string]any)["n"].(interface{ String() string }).String() != "1" {
		t.Fatalf("ActiveExecutionForCall = %+v, %v", got, err)
	}
	got.Status = StatusEnded
	if err := m.UpdateExecution(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ActiveExecutionForCall(ctx, "CA1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ended execution still active: %v", err)
	}
	for _, tc := range []struct {
		f    ExecutionFilter
		want []string
	}{
		{ExecutionFilter{}, []string{"FNb", "FNa"}},
		{ExecutionFilter{Status: StatusActive}, []string{"FNb"}},
		{ExecutionFilter{FlowSid: "FW1"}, []string{"FNa"}},
		{ExecutionFilter{ContactAddress: "+2"}, []string{"FNb"}},
		{ExecutionFilter{CreatedFrom: t0.Add(time.Minute)}, []string{"FNb"}},
		{ExecutionFilter{CreatedTo: t0.Add(time.Minute)}, []string{"FNa"}},
	} {
		list, err := m.Executions(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var sids []string
		for _, e := range list {
			sids = append(sids, e.Sid)
		}
		if len(sids) != len(tc.want) || (len(sids) > 0 && sids[0] != tc.want[0]) {
			t.Errorf("filter %+v: %v, want %v", tc.f, sids, tc.want)
		}
	}
	if err := m.AddStep(ctx, &Step{Sid: "FT1", ExecutionSid: "FNb", Context: []byte(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddStep(ctx, &Step{Sid: "FT2", ExecutionSid: "FNzz"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("step of a missing execution: %v", err)
	}
	if steps, err := m.Steps(ctx, "FNb"); err != nil || len(steps) != 1 || string(steps[0].Context) != `{"a":1}` {
		t.Errorf("Steps = %v, %v", steps, err)
	}
	if err := m.DeleteExecution(ctx, "FNb"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Steps(ctx, "FNb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("steps of a deleted execution: %v", err)
	}
	if _, err := m.ActiveExecutionForCall(ctx, "CA2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted execution still active: %v", err)
	}
}
