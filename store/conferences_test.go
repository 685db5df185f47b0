package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestConferencesPutGetList(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	c := Conference{SID: "CF00000000000000000000000000000001", AccountSID: "AC1", FriendlyName: "room", Status: "init", DateCreated: at, DateUpdated: at}
	if _, err := s.PutConference(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Status, c.ReasonEnded, c.CallSIDEnding, c.DateUpdated = "completed", "Last participant left", "CA1", at.Add(time.Minute)
	c.DateCreated = at.Add(time.Hour) // kept from the first write
	got, err := s.PutConference(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "completed" || got.ReasonEnded != "Last participant left" || !got.DateCreated.Equal(at) || !got.DateUpdated.Equal(at.Add(time.Minute)) {
		t.Errorf("after update: %+v", got)
	}
	other := Conference{SID: "CF00000000000000000000000000000002", AccountSID: "AC1", FriendlyName: "other", Status: "in-progress", DateCreated: at.Add(time.Second)}
	if _, err := s.PutConference(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    ConferenceFilter
		want int
	}{
		{ConferenceFilter{AccountSID: "AC1"}, 2},
		{ConferenceFilter{AccountSID: "AC1", Status: "completed"}, 1},
		{ConferenceFilter{AccountSID: "AC1", FriendlyName: "other"}, 1},
		{ConferenceFilter{AccountSID: "AC2"}, 0},
		{ConferenceFilter{DateCreated: TimeRange{From: at.Add(time.Second)}}, 1},
	} {
		list, _, err := s.ListConferences(ctx, tc.f, Page{Size: 10})
		if err != nil || len(list) != tc.want {
			t.Errorf("%+v: %d conferences, %v; want %d", tc.f, len(list), err, tc.want)
		}
	}
	if _, err := s.GetConference(ctx, "CF00000000000000000000000000000009"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conference: %v", err)
	}
}
