package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func openMessages(t *testing.T) *DB {
	t.Helper()
	db, err := openReal(context.Background(), t.TempDir()) // SQLite, or PostgreSQL in TestSuiteOnPostgres
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func msg(sid string) Message {
	return Message{SID: sid, AccountSID: "AC1", Direction: "outbound-api", From: "+15557654321", To: "+15550001111", Body: "hi",
		Status: MessageQueued, NumSegments: 2}
}

// Concurrent writes share transactions; a failing one (a duplicate sid)
// fails alone.
func TestMessageBatchIsolatesFailures(t *testing.T) {
	db := openMessages(t)
	ctx := context.Background()
	if _, err := db.CreateMessage(ctx, msg("SMdup")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := fmt.Sprintf("SM%02d", i)
			if i == 25 {
				sid = "SMdup"
			}
			_, errs[i] = db.CreateMessage(ctx, msg(sid))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 25) != (err != nil) {
			t.Errorf("create %d: %v", i, err)
		}
	}
	if !errors.Is(errs[25], ErrDuplicate) {
		t.Errorf("duplicate: %v", errs[25])
	}
	ms, _, err := db.ListMessages(ctx, MessageFilter{}, Page{Size: 100})
	if err != nil || len(ms) != 50 {
		t.Errorf("%d messages, %v", len(ms), err)
	}
}

func TestMessageLifecycle(t *testing.T) {
	db := openMessages(t)
	ctx := context.Background()
	db.CreateMessage(ctx, msg("SM1"))
	if err := db.MarkMessageSending(ctx, "SM1"); err != nil {
		t.Fatal(err)
	}
	if un, _ := db.UnfinishedMessages(ctx); len(un) != 1 {
		t.Errorf("unfinished %v", un)
	}
	if ok, err := db.MessageSent(ctx, "SM1", []string{"a1", "a2"}); !ok || err != nil {
		t.Fatalf("sent: %v %v", ok, err)
	}
	// First part delivered: no change yet.
	if sid, changed, err := db.SegmentReceipt(ctx, []string{"zz", "a1"}, MessageDelivered, 0, "", "2612061200"); sid != "SM1" || changed || err != nil {
		t.Errorf("receipt 1: %s %v %v", sid, changed, err)
	}
	if _, changed, _ := db.SegmentReceipt(ctx, []string{"a2"}, MessageDelivered, 0, "", "2612061201"); !changed {
		t.Error("all parts delivered: no change")
	}
	m, _ := db.GetMessage(ctx, "SM1")
	if m.Status != MessageDelivered || m.RawDlrDoneDate != "2612061201" || m.DateSent.IsZero() || m.Attempts != 1 {
		t.Errorf("delivered %+v", m)
	}
	// A late receipt or status never moves a final status.
	if ok, _ := db.AdvanceMessage(ctx, "SM1", MessageSent, 0, "", ""); ok {
		t.Error("delivered went back to sent")
	}
	if _, _, err := db.SegmentReceipt(ctx, []string{"nope"}, MessageDelivered, 0, "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if un, _ := db.UnfinishedMessages(ctx); len(un) != 0 {
		t.Errorf("unfinished %v", un)
	}
}

func TestUndeliveredSegmentWins(t *testing.T) {
	db := openMessages(t)
	ctx := context.Background()
	db.CreateMessage(ctx, msg("SM2"))
	db.MessageSent(ctx, "SM2", []string{"b1", "b2"})
	if _, changed, _ := db.SegmentReceipt(ctx, []string{"b2"}, MessageUndelivered, 30003, "Unreachable destination handset", ""); !changed {
		t.Error("no change on an undelivered part")
	}
	db.SegmentReceipt(ctx, []string{"b1"}, MessageDelivered, 0, "", "")
	m, _ := db.GetMessage(ctx, "SM2")
	if m.Status != MessageUndelivered || m.ErrorCode != 30003 {
		t.Errorf("%+v", m)
	}
}

func TestOptOuts(t *testing.T) {
	db := openMessages(t)
	ctx := context.Background()
	db.SetOptOut(ctx, "+1555", "+1666", true)
	db.SetOptOut(ctx, "+1555", "+1666", true) // twice is fine
	if out, _ := db.OptedOut(ctx, "+1555", "+1666"); !out {
		t.Error("not opted out")
	}
	if out, _ := db.OptedOut(ctx, "+1777", "+1666"); out {
		t.Error("opted out of another number")
	}
	db.SetOptOut(ctx, "+1555", "+1666", false)
	if out, _ := db.OptedOut(ctx, "+1555", "+1666"); out {
		t.Error("still opted out")
	}
}
