package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

func TestCallCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	in := sampleCall()
	put, err := s.PutCall(ctx, in)
	if err != nil {
		t.Fatalf("PutCall: %v", err)
	}
	if put.DateCreated.IsZero() || !put.DateUpdated.Equal(put.DateCreated) {
		t.Errorf("new call dates: created %v updated %v", put.DateCreated, put.DateUpdated)
	}
	want := in
	want.DateCreated, want.DateUpdated = put.DateCreated, put.DateUpdated
	if !reflect.DeepEqual(put, want) {
		t.Errorf("PutCall returned\n%+v\nwant\n%+v", put, want)
	}
	got, err := s.GetCall(ctx, in.SID)
	if err != nil {
		t.Fatalf("GetCall: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetCall =\n%+v\nwant\n%+v", got, want)
	}
	if err := s.DeleteCall(ctx, in.SID); err != nil {
		t.Fatalf("DeleteCall: %v", err)
	}
	if _, err := s.GetCall(ctx, in.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetCall after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteCall(ctx, in.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteCall twice: err = %v, want ErrNotFound", err)
	}
}

func TestPutCallUpsertKeepsCreatedMovesUpdated(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, From: "+1555", To: "+1666",
		Direction: "inbound", Status: CallRinging}
	first, err := s.PutCall(ctx, c)
	if err != nil {
		t.Fatalf("PutCall: %v", err)
	}
	if !first.StartTime.IsZero() || !first.EndTime.IsZero() {
		t.Errorf("unset times came back set: %v %v", first.StartTime, first.EndTime)
	}

	c.Status = CallInProgress
	c.StartTime = time.Now()
	c.AccountSID = "AC99999999999999999999999999999999" // ignored on update
	c.DateCreated = time.Unix(0, 0)                     // ignored on update
	second, err := s.PutCall(ctx, c)
	if err != nil {
		t.Fatalf("PutCall update: %v", err)
	}
	if !second.DateCreated.Equal(first.DateCreated) {
		t.Errorf("DateCreated moved: %v -> %v", first.DateCreated, second.DateCreated)
	}
	if !second.DateUpdated.After(first.DateUpdated) {
		t.Errorf("DateUpdated did not move: %v -> %v", first.DateUpdated, second.DateUpdated)
	}
	if second.AccountSID != testAccount {
		t.Errorf("AccountSID changed to %s", second.AccountSID)
	}
	if second.Status != CallInProgress || !second.StartTime.Equal(c.StartTime) {
		t.Errorf("update not stored: %+v", second)
	}
	if second.StartTime.Location() != time.UTC {
		t.Errorf("StartTime location %v, want UTC", second.StartTime.Location())
	}
	got, err := s.GetCall(ctx, c.SID)
	if err != nil {
		t.Fatalf("GetCall: %v", err)
	}
	if !reflect.DeepEqual(got, second) {
		t.Errorf("GetCall =\n%+v\nwant\n%+v", got, second)
	}
}

func TestPutCallExplicitDateCreated(t *testing.T) {
	s, _ := newTestStore(t)
	c := sampleCall()
	c.DateCreated = time.Date(2020, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	got, err := s.PutCall(context.Background(), c)
	if err != nil {
		t.Fatalf("PutCall: %v", err)
	}
	if !got.DateCreated.Equal(c.DateCreated) || got.DateCreated.Location() != time.UTC {
		t.Errorf("DateCreated = %v, want %v in UTC", got.DateCreated, c.DateCreated)
	}
}

func TestPutCallInvalid(t *testing.T) {
	s, _ := newTestStore(t)
	for _, tc := range []struct {
		name   string
		change func(*Call)
	}{
		{"no SID", func(c *Call) { c.SID = "" }},
		{"no account", func(c *Call) { c.AccountSID = "" }},
		{"no status", func(c *Call) { c.Status = "" }},
		{"initiated is callback-only", func(c *Call) { c.Status = "initiated" }},
		{"negative duration", func(c *Call) { c.Duration = -1 }},
		{"time out of range", func(c *Call) { c.StartTime = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleCall()
			tc.change(&c)
			if _, err := s.PutCall(context.Background(), c); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestGetCallNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	_, err := s.GetCall(context.Background(), sid.New(sid.Call))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestListCallsFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	parent := sid.New(sid.Call)
	otherAccount := "AC00000000000000000000000000000002"
	at := func(d time.Time, h int) time.Time { return d.Add(time.Duration(h) * time.Hour) }
	// name -> call; times chosen so each date filter has a distinct answer.
	calls := map[string]Call{
		"a": {From: "+1001", To: "+2001", Status: CallCompleted, StartTime: at(day(2025, 1, 1), 10), EndTime: at(day(2025, 1, 1), 11)},
		"b": {From: "+1001", To: "+2002", Status: CallBusy, ParentCallSID: parent},
		"c": {From: "+1002", To: "+2001", Status: CallCompleted, StartTime: at(day(2025, 1, 2), 23), EndTime: at(day(2025, 1, 3), 1), ParentCallSID: parent},
		"d": {From: "+1003", To: "+2003", Status: CallInProgress, StartTime: at(day(2025, 1, 5), 0)},
		"e": {From: "+1001", To: "+2001", Status: CallCompleted, StartTime: at(day(2025, 1, 2), 1), EndTime: at(day(2025, 1, 2), 2), AccountSID: otherAccount},
	}
	names := map[string]string{} // SID -> name
	for name, c := range calls {
		c.SID = sid.New(sid.Call)
		if c.AccountSID == "" {
			c.AccountSID = testAccount
		}
		if _, err := s.PutCall(ctx, c); err != nil {
			t.Fatalf("PutCall %s: %v", name, err)
		}
		names[c.SID] = name
	}
	for _, tc := range []struct {
		name   string
		filter CallFilter
		want   []string
	}{
		{"all", CallFilter{}, []string{"a", "b", "c", "d", "e"}},
		{"account", CallFilter{AccountSID: testAccount}, []string{"a", "b", "c", "d"}},
		{"To", CallFilter{To: "+2001"}, []string{"a", "c", "e"}},
		{"From", CallFilter{From: "+1001"}, []string{"a", "b", "e"}},
		{"To and From", CallFilter{To: "+2001", From: "+1001"}, []string{"a", "e"}},
		{"ParentCallSid", CallFilter{ParentCallSID: parent}, []string{"b", "c"}},
		{"Status", CallFilter{Status: CallCompleted}, []string{"a", "c", "e"}},
		{"Status none", CallFilter{Status: CallCanceled}, nil},
		{"StartTime=", CallFilter{StartTime: OnDay(day(2025, 1, 2))}, []string{"c", "e"}},
		{"StartTime>", CallFilter{StartTime: OnOrAfterDay(day(2025, 1, 2))}, []string{"c", "d", "e"}},
		{"StartTime<", CallFilter{StartTime: OnOrBeforeDay(day(2025, 1, 2))}, []string{"a", "c", "e"}},
		{"StartTime> and <", CallFilter{StartTime: OnOrAfterDay(day(2025, 1, 2)).And(OnOrBeforeDay(day(2025, 1, 4)))}, []string{"c", "e"}},
		{"EndTime=", CallFilter{EndTime: OnDay(day(2025, 1, 3))}, []string{"c"}},
		{"EndTime>", CallFilter{EndTime: OnOrAfterDay(day(2025, 1, 2))}, []string{"c", "e"}},
		{"EndTime<", CallFilter{EndTime: OnOrBeforeDay(day(2025, 1, 2))}, []string{"a", "e"}},
		{"account and StartTime", CallFilter{AccountSID: testAccount, StartTime: OnDay(day(2025, 1, 2))}, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListCalls(ctx, tc.filter, Page{})
			if err != nil {
				t.Fatalf("ListCalls: %v", err)
			}
			if next != "" {
				t.Errorf("next = %q on a short list", next)
			}
			gotNames := map[string]bool{}
			for _, c := range got {
				gotNames[names[c.SID]] = true
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d calls %v, want %v", len(got), gotNames, tc.want)
			}
			for _, n := range tc.want {
				if !gotNames[n] {
					t.Errorf("missing %s; got %v", n, gotNames)
				}
			}
			// Cross-check against the filter's meaning in Go.
			for _, c := range got {
				if !tc.filter.StartTime.Contains(c.StartTime) || !tc.filter.EndTime.Contains(c.EndTime) {
					t.Errorf("call %s outside the time filter", names[c.SID])
				}
			}
		})
	}
}
