package store

import (
	"context"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

func TestDeleteCallsCreatedBefore(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), newFakeClock())
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(created time.Time, st CallStatus) string {
		c := sampleCall()
		c.SID, c.Status, c.DateCreated = sid.New(sid.Call), st, created
		if _, err := s.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.SID
	}
	var oldEnded []string
	for i := range 5 {
		oldEnded = append(oldEnded, put(old.Add(time.Duration(i)*time.Minute), CallCompleted))
	}
	oldLive := put(old, CallInProgress)
	recent := put(old.Add(48*time.Hour), CallCompleted)
	cutoff := old.Add(24 * time.Hour)
	total := 0
	for {
		n, err := s.DeleteCallsCreatedBefore(ctx, cutoff, 2)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 2 {
			break
		}
	}
	if total != len(oldEnded) {
		t.Errorf("deleted %d calls, want %d", total, len(oldEnded))
	}
	for _, id := range oldEnded {
		if _, err := s.GetCall(ctx, id); err == nil {
			t.Errorf("old ended call %s kept", id)
		}
	}
	for _, id := range []string{oldLive, recent} {
		if _, err := s.GetCall(ctx, id); err != nil {
			t.Errorf("call %s deleted: %v", id, err)
		}
	}
}
