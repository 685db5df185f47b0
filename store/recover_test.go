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
