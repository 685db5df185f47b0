package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

func sampleRecording(callSID string) Recording {
	return Recording{
		SID:        sid.New(sid.Recording),
		AccountSID: testAccount,
		CallSID:    callSID,
		Status:     RecordingInProgress,
		Source:     "RecordVerb",
		StartTime:  time.Date(2025, 2, 10, 9, 31, 0, 0, time.UTC),
		Path:       "/var/lib/voxgate/recordings/x.wav",
	}
}

func TestRecordingCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	in := sampleRecording(sid.New(sid.Call))
	first, err := s.PutRecording(ctx, in)
	if err != nil {
		t.Fatalf("PutRecording: %v", err)
	}
	if first.Channels != 1 {
		t.Errorf("Channels = %d, want default 1", first.Channels)
	}

	in.Status = RecordingCompleted
	in.Duration = 17
	in.Channels = 2
	in.ErrorCode = 13227
	second, err := s.PutRecording(ctx, in)
	if err != nil {
		t.Fatalf("PutRecording update: %v", err)
	}
	want := in
	want.DateCreated, want.DateUpdated = first.DateCreated, second.DateUpdated
	if !reflect.DeepEqual(second, want) {
		t.Errorf("PutRecording returned\n%+v\nwant\n%+v", second, want)
	}
	if !second.DateUpdated.After(first.DateUpdated) {
		t.Errorf("DateUpdated did not move")
	}
	got, err := s.GetRecording(ctx, in.SID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetRecording = %+v, %v; want %+v", got, err, want)
	}

	path, err := s.DeleteRecording(ctx, in.SID)
	if err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if path != in.Path {
		t.Errorf("DeleteRecording path = %q, want %q", path, in.Path)
	}
	got, err = s.GetRecording(ctx, in.SID)
	if err != nil {
		t.Fatalf("GetRecording after delete: %v", err)
	}
	if !got.Deleted || got.Status != RecordingDeleted {
		t.Errorf("after delete: Deleted %v Status %q", got.Deleted, got.Status)
	}
	if _, err := s.DeleteRecording(ctx, in.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
	// A late progress report must not revive it.
	in.Status = RecordingCompleted
	late, err := s.PutRecording(ctx, in)
	if err != nil {
		t.Fatalf("PutRecording after delete: %v", err)
	}
	if !late.Deleted || late.Status != RecordingDeleted {
		t.Errorf("late put revived the recording: %+v", late)
	}
}

func TestRecordingNotFoundAndInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	if _, err := s.GetRecording(ctx, sid.New(sid.Recording)); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRecording: err = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteRecording(ctx, sid.New(sid.Recording)); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteRecording: err = %v, want ErrNotFound", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Recording)
	}{
		{"no SID", func(r *Recording) { r.SID = "" }},
		{"no account", func(r *Recording) { r.AccountSID = "" }},
		{"bad status", func(r *Recording) { r.Status = "done" }},
		{"deleted status", func(r *Recording) { r.Status = RecordingDeleted }},
		{"three channels", func(r *Recording) { r.Channels = 3 }},
		{"negative duration", func(r *Recording) { r.Duration = -2 }},
	} {
		r := sampleRecording("")
		tc.change(&r)
		if _, err := s.PutRecording(ctx, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestListRecordingsFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	call1, call2, conf := sid.New(sid.Call), sid.New(sid.Call), "CF00000000000000000000000000000001"
	recs := map[string]Recording{
		"a": {CallSID: call1, DateCreated: day(2025, 1, 1).Add(time.Hour)},
		"b": {CallSID: call1, DateCreated: day(2025, 1, 2).Add(time.Hour)},
		"c": {CallSID: call2, ConferenceSID: conf, DateCreated: day(2025, 1, 3).Add(time.Hour)},
		"d": {CallSID: call2, DateCreated: day(2025, 1, 3).Add(2 * time.Hour)}, // deleted below
		"e": {CallSID: call2, DateCreated: day(2025, 1, 4), AccountSID: "AC00000000000000000000000000000002"},
	}
	names := map[string]string{}
	for name, r := range recs {
		r.SID = sid.New(sid.Recording)
		r.Status = RecordingCompleted
		if r.AccountSID == "" {
			r.AccountSID = testAccount
		}
		if _, err := s.PutRecording(ctx, r); err != nil {
			t.Fatalf("PutRecording %s: %v", name, err)
		}
		names[r.SID] = name
		if name == "d" {
			if _, err := s.DeleteRecording(ctx, r.SID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		filter RecordingFilter
		want   []string // newest first
	}{
		{"all live", RecordingFilter{}, []string{"e", "c", "b", "a"}},
		{"with deleted", RecordingFilter{IncludeDeleted: true}, []string{"e", "d", "c", "b", "a"}},
		{"account", RecordingFilter{AccountSID: testAccount}, []string{"c", "b", "a"}},
		{"CallSid", RecordingFilter{CallSID: call1}, []string{"b", "a"}},
		{"ConferenceSid", RecordingFilter{ConferenceSID: conf}, []string{"c"}},
		{"DateCreated=", RecordingFilter{DateCreated: OnDay(day(2025, 1, 3)), IncludeDeleted: true}, []string{"d", "c"}},
		{"DateCreated>", RecordingFilter{DateCreated: OnOrAfterDay(day(2025, 1, 3))}, []string{"e", "c"}},
		{"DateCreated<", RecordingFilter{DateCreated: OnOrBeforeDay(day(2025, 1, 2))}, []string{"b", "a"}},
		{"CallSid and DateCreated<", RecordingFilter{CallSID: call2, DateCreated: OnOrBeforeDay(day(2025, 1, 3))}, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListRecordings(ctx, tc.filter, Page{Size: 2})
			var all []Recording
			for err == nil {
				all = append(all, got...)
				if next == "" {
					break
				}
				got, next, err = s.ListRecordings(ctx, tc.filter, Page{Size: 2, Token: next})
			}
			if err != nil {
				t.Fatalf("ListRecordings: %v", err)
			}
			var gotNames []string
			for _, r := range all {
				gotNames = append(gotNames, names[r.SID])
			}
			if !reflect.DeepEqual(gotNames, tc.want) {
				t.Errorf("got %v, want %v", gotNames, tc.want)
			}
		})
	}
}
