package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// A call the store shows in progress that runs nowhere (its final record
// was lost) can be ended through the API, and so deleted; a call that is
// live here, or being placed, is not touched.
func TestHangupEndsStaleRecord(t *testing.T) {
	ctx := context.Background()
	w, fs := newFlakyCDR(t)
	defer w.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine := ivr.NewEngine(ivr.Config{AccountSID: testAccount, Logger: log})
	defer engine.Close()
	c := &callControl{ctx: ctx, engine: engine, store: fs.Store, cdr: w, accountSID: testAccount, log: log}

	answered := time.Now().UTC().Add(-time.Minute)
	stale, err := fs.Store.PutCall(ctx, store.Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: store.CallInProgress, StartTime: answered})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hangup(ctx, stale.SID, "completed"); err != nil {
		t.Fatalf("Hangup of a stale record: %v", err)
	}
	got, _ := fs.Store.GetCall(ctx, stale.SID)
	if got.Status != store.CallCompleted || got.EndTime.IsZero() {
		t.Errorf("stale call after Hangup: %+v", got)
	}
	if err := c.Hangup(ctx, stale.SID, "completed"); !errors.Is(err, api.ErrNotLive) {
		t.Errorf("Hangup of an ended call: %v, want ErrNotLive", err)
	}

	live := sid.New(sid.Call)
	w.event(callEvent(live, "in-progress", answered))
	placing := sid.New(sid.Call)
	c.setPlacing(placing, true)
	for _, callSID := range []string{live, placing} {
		if err := c.Hangup(ctx, callSID, "completed"); !errors.Is(err, api.ErrNotLive) {
			t.Errorf("Hangup of %s: %v, want ErrNotLive", callSID, err)
		}
	}
	if got, _ := fs.Store.GetCall(ctx, live); got.Status != store.CallInProgress {
		t.Errorf("a live call's record was changed: %+v", got)
	}
}
