package store

import (
	"context"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

func TestUnfinishedCallsAndRecordings(t *testing.T) {
	s := openTest(t, t.TempDir(), newFakeClock())
	ctx := context.Background()
	want := map[string]bool{}
	for _, st := range []CallStatus{CallQueued, CallRinging, CallInProgress, CallCompleted, CallBusy, CallFailed, CallNoAnswer, CallCanceled} {
		c := sampleCall()
		c.SID, c.Status = sid.New(sid.Call), st
		if _, err := s.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if !st.Ended() {
			want[c.SID] = true
		}
	}
	calls, err := s.UnfinishedCalls(ctx)
	if err != nil || len(calls) != len(want) {
		t.Fatalf("UnfinishedCalls: %d calls, %v; want %d", len(calls), err, len(want))
	}
	for _, c := range calls {
		if !want[c.SID] {
			t.Errorf("unfinished: %s is %s", c.SID, c.Status)
		}
	}
	wantRecs := map[string]bool{}
	for _, st := range []RecordingStatus{RecordingInProgress, RecordingPaused, RecordingProcessing, RecordingCompleted, RecordingAbsent, RecordingStopped} {
		r := Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, Status: st}
		if _, err := s.PutRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		if st == RecordingInProgress || st == RecordingPaused || st == RecordingProcessing {
			wantRecs[r.SID] = true
		}
	}
	deleted := Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, Status: RecordingInProgress}
	if _, err := s.PutRecording(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteRecording(ctx, deleted.SID); err != nil {
		t.Fatal(err)
	}
	recs, err := s.UnfinishedRecordings(ctx)
	if err != nil || len(recs) != len(wantRecs) {
		t.Fatalf("UnfinishedRecordings: %d, %v; want %d", len(recs), err, len(wantRecs))
	}
	for _, r := range recs {
		if !wantRecs[r.SID] {
			t.Errorf("unfinished: %s is %s", r.SID, r.Status)
		}
	}
}

// TestUnfinishedAreThisNodes: gateways sharing a database each recover
// only the calls and recordings they own (and those no node owns).
func TestUnfinishedAreThisNodes(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b, legacy := openTest(t, dir, clock), openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID = "gw-a", "gw-b"
	owned := map[*DB][]string{}
	for _, s := range []*DB{a, b, legacy} {
		c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallInProgress}
		stored, err := s.PutCall(ctx, c)
		if err != nil || stored.NodeID != s.nodeID {
			t.Fatalf("PutCall on %q: node %q, %v", s.nodeID, stored.NodeID, err)
		}
		r := Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, CallSID: c.SID, Status: RecordingInProgress}
		if rec, err := s.PutRecording(ctx, r); err != nil || rec.NodeID != s.nodeID {
			t.Fatalf("PutRecording on %q: node %q, %v", s.nodeID, rec.NodeID, err)
		}
		owned[s] = []string{c.SID, r.SID}
	}
	// An update from another node does not take a call over.
	c, _ := a.GetCall(ctx, owned[a][0])
	if c, err := b.PutCall(ctx, c); err != nil || c.NodeID != "gw-a" {
		t.Errorf("call of gw-a updated by gw-b: node %q, %v", c.NodeID, err)
	}
	for _, s := range []*DB{a, b} {
		calls, err := s.UnfinishedCalls(ctx)
		if err != nil || len(calls) != 2 || calls[0].SID != owned[s][0] || calls[1].SID != owned[legacy][0] {
			t.Errorf("UnfinishedCalls of %q = %+v, %v; want its own and the unowned one", s.nodeID, calls, err)
		}
		recs, err := s.UnfinishedRecordings(ctx)
		if err != nil || len(recs) != 2 || recs[0].SID != owned[s][1] || recs[1].SID != owned[legacy][1] {
			t.Errorf("UnfinishedRecordings of %q = %+v, %v; want its own and the unowned one", s.nodeID, recs, err)
		}
	}
}
