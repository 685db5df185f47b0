package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestCallEvents(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	sid := "CA00000000000000000000000000000001"
	for i, kind := range []string{"status", "webhook", "error"} {
		e := CallEvent{CallSID: sid, Kind: kind, Detail: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)}
		if kind == "error" {
			e.Code = 11200
		}
		if err := s.AddCallEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCallEvent(ctx, CallEvent{CallSID: "CA2", Kind: "status"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListCallEvents(ctx, sid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Kind != "status" || got[2].Kind != "error" || got[2].Code != 11200 || string(got[1].Detail) != `{"n":1}` {
		t.Fatalf("events: %+v", got)
	}
	if got[0].At.IsZero() || got[1].At.Before(got[0].At) || got[0].ID >= got[1].ID {
		t.Errorf("at %v, %v, ids %d, %d", got[0].At, got[1].At, got[0].ID, got[1].ID)
	}
	if err := s.AddCallEvent(ctx, CallEvent{CallSID: sid, Kind: "x", Detail: json.RawMessage(`{`)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad detail: %v, want ErrInvalid", err)
	}
	if err := s.AddCallEvent(ctx, CallEvent{Kind: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no call sid: %v, want ErrInvalid", err)
	}
	n, err := s.DeleteCallEventsBefore(ctx, clock.Now().Add(time.Hour))
	if err != nil || n != 4 {
		t.Errorf("delete: %d, %v; want 4", n, err)
	}
}
