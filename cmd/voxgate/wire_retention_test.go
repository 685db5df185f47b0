package main

import (
	"context"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// pruneCalls deletes every old ended call, over several batches, and
// keeps the rest.
func TestPruneCalls(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := time.Now().UTC().Add(-48 * time.Hour)
	const n = 2*retentionBatch + 10
	for i := range n {
		_, err := db.PutCall(ctx, store.Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: store.CallCompleted,
			DateCreated: old.Add(time.Duration(i) * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
	}
	kept := sid.New(sid.Call)
	if _, err := db.PutCall(ctx, store.Call{SID: kept, AccountSID: testAccount, Status: store.CallCompleted}); err != nil {
		t.Fatal(err)
	}
	deleted, err := pruneCalls(ctx, db, time.Now().Add(-24*time.Hour))
	if err != nil || deleted != n {
		t.Fatalf("pruneCalls = %d, %v; want %d", deleted, err, n)
	}
	if _, err := db.GetCall(ctx, kept); err != nil {
		t.Errorf("a recent call was deleted: %v", err)
	}
}
