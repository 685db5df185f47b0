package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestAddCallEventsBatch(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	sid := "CA00000000000000000000000000000011"
	var batch []CallEvent
	for _, kind := range []string{"status", "webhook", "status"} {
		batch = append(batch, CallEvent{CallSID: sid, Kind: kind, Detail: json.RawMessage(`{"k":"` + kind + `"}`)})
	}
	batch = append(batch, CallEvent{CallSID: "CA12", Kind: "status"})
	if err := s.AddCallEvents(ctx, batch); err != nil {
		t.Fatalf("AddCallEvents: %v", err)
	}
	got, err := s.ListCallEvents(ctx, sid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Kind != "webhook" || string(got[1].Detail) != `{"k":"webhook"}` || got[0].ID >= got[2].ID {
		t.Fatalf("events after a batch: %+v", got)
	}
	// One invalid event refuses the whole batch.
	bad := []CallEvent{{CallSID: "CA13", Kind: "status"}, {CallSID: "CA13", Kind: "x", Detail: json.RawMessage(`{`)}}
	if err := s.AddCallEvents(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("batch with bad detail: %v, want ErrInvalid", err)
	}
	if got, err := s.ListCallEvents(ctx, "CA13", 0); err != nil || len(got) != 0 {
		t.Errorf("a refused batch wrote %d events (err %v)", len(got), err)
	}
}
