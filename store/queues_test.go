package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

func TestQueueCRUD(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	q, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "support"})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if !sid.Valid(sid.Queue, q.SID) {
		t.Errorf("minted SID %q is not a queue SID", q.SID)
	}
	if q.MaxSize != DefaultQueueMaxSize || q.DateCreated.IsZero() || !q.DateUpdated.Equal(q.DateCreated) {
		t.Errorf("created queue %+v", q)
	}
	got, err := s.GetQueue(ctx, q.SID)
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Errorf("GetQueue = %+v, %v; want %+v", got, err, q)
	}
	got, err = s.GetQueueByName(ctx, testAccount, "support")
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Errorf("GetQueueByName = %+v, %v; want %+v", got, err, q)
	}

	upd, err := s.UpdateQueue(ctx, Queue{SID: q.SID, MaxSize: 20})
	if err != nil {
		t.Fatalf("UpdateQueue size: %v", err)
	}
	if upd.FriendlyName != "support" || upd.MaxSize != 20 || !upd.DateCreated.Equal(q.DateCreated) || !upd.DateUpdated.After(q.DateUpdated) {
		t.Errorf("after size update: %+v", upd)
	}
	upd, err = s.UpdateQueue(ctx, Queue{SID: q.SID, FriendlyName: "sales"})
	if err != nil {
		t.Fatalf("UpdateQueue name: %v", err)
	}
	if upd.FriendlyName != "sales" || upd.MaxSize != 20 {
		t.Errorf("after name update: %+v", upd)
	}
	if _, err := s.GetQueueByName(ctx, testAccount, "support"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still found: %v", err)
	}

	if err := s.DeleteQueue(ctx, q.SID); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	if _, err := s.GetQueue(ctx, q.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetQueue after delete: %v", err)
	}
	if err := s.DeleteQueue(ctx, q.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteQueue twice: %v", err)
	}
	if _, err := s.UpdateQueue(ctx, Queue{SID: q.SID, MaxSize: 3}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateQueue of deleted: %v", err)
	}
}

func TestQueueDuplicatesAndInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	a, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "a", MaxSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "b"})
	if err != nil {
		t.Fatal(err)
	}
	// The same name in another account is a different queue.
	if _, err := s.CreateQueue(ctx, Queue{AccountSID: "AC00000000000000000000000000000002", FriendlyName: "a"}); err != nil {
		t.Errorf("same name, other account: %v", err)
	}
	if _, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "a"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate name: err = %v, want ErrDuplicate", err)
	}
	if _, err := s.CreateQueue(ctx, Queue{SID: a.SID, AccountSID: testAccount, FriendlyName: "c"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate SID: err = %v, want ErrDuplicate", err)
	}
	if _, err := s.UpdateQueue(ctx, Queue{SID: b.SID, FriendlyName: "a"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("rename onto a taken name: err = %v, want ErrDuplicate", err)
	}
	for _, q := range []Queue{
		{FriendlyName: "x"},
		{AccountSID: testAccount},
		{AccountSID: testAccount, FriendlyName: "x", MaxSize: -1},
	} {
		if _, err := s.CreateQueue(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateQueue(%+v): err = %v, want ErrInvalid", q, err)
		}
	}
	if _, err := s.UpdateQueue(ctx, Queue{SID: a.SID, MaxSize: -4}); !errors.Is(err, ErrInvalid) {
		t.Errorf("UpdateQueue negative size: err = %v, want ErrInvalid", err)
	}
	if _, err := s.GetQueueByName(ctx, testAccount, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetQueueByName missing: %v", err)
	}
}

func TestListQueues(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	var want []string
	for _, name := range []string{"q1", "q2", "q3", "q4", "q5"} {
		_, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: name})
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{name}, want...) // newest first
	}
	if _, err := s.CreateQueue(ctx, Queue{AccountSID: "AC00000000000000000000000000000002", FriendlyName: "other"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var token PageToken
	for {
		qs, next, err := s.ListQueues(ctx, QueueFilter{AccountSID: testAccount}, Page{Size: 2, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			got = append(got, q.FriendlyName)
		}
		if next == "" {
			break
		}
		token = next
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListQueues = %v, want %v", got, want)
	}
	all, _, err := s.ListQueues(ctx, QueueFilter{}, Page{})
	if err != nil || len(all) != 6 {
		t.Errorf("ListQueues(all) = %d queues, %v; want 6", len(all), err)
	}
}

func TestQueueMembers(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	q1, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "one"})
	if err != nil {
		t.Fatal(err)
	}
	q2, err := s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "two"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	callA, callB := sid.New(sid.Call), sid.New(sid.Call)
	put := func(m QueueMember) QueueMember {
		t.Helper()
		got, err := s.PutQueueMember(ctx, m)
		if err != nil {
			t.Fatalf("PutQueueMember: %v", err)
		}
		return got
	}
	a1 := put(QueueMember{QueueSID: q1.SID, CallSID: callA, DateEnqueued: base})
	put(QueueMember{QueueSID: q1.SID, CallSID: callB, DateEnqueued: base.Add(time.Second)})
	put(QueueMember{QueueSID: q2.SID, CallSID: callA, DateEnqueued: base.Add(time.Minute)})
	// callA leaves q1, bridged.
	a1.DateLeft, a1.Result, a1.WaitTime = base.Add(30*time.Second), "bridged", 30
	if got := put(a1); !reflect.DeepEqual(got, a1) {
		t.Errorf("updated member = %+v, want %+v", got, a1)
	}

	list := func(f QueueMemberFilter) []QueueMember {
		t.Helper()
		ms, _, err := s.ListQueueMembers(ctx, f, Page{})
		if err != nil {
			t.Fatalf("ListQueueMembers: %v", err)
		}
		return ms
	}
	if ms := list(QueueMemberFilter{QueueSID: q1.SID}); len(ms) != 2 || ms[0].CallSID != callB || ms[1].CallSID != callA {
		t.Errorf("q1 history = %+v", ms)
	}
	if ms := list(QueueMemberFilter{QueueSID: q1.SID, Waiting: true}); len(ms) != 1 || ms[0].CallSID != callB {
		t.Errorf("q1 waiting = %+v", ms)
	}
	if ms := list(QueueMemberFilter{CallSID: callA}); len(ms) != 2 || ms[0].QueueSID != q2.SID || ms[1].Result != "bridged" {
		t.Errorf("callA history = %+v", ms)
	}

	if _, err := s.PutQueueMember(ctx, QueueMember{QueueSID: sid.New(sid.Queue), CallSID: callA, DateEnqueued: base}); !errors.Is(err, ErrNotFound) {
		t.Errorf("member of unknown queue: err = %v, want ErrNotFound", err)
	}
	if _, err := s.PutQueueMember(ctx, QueueMember{QueueSID: q1.SID, CallSID: callA}); !errors.Is(err, ErrInvalid) {
		t.Errorf("member without DateEnqueued: err = %v, want ErrInvalid", err)
	}
	if err := s.DeleteQueue(ctx, q1.SID); err != nil {
		t.Fatal(err)
	}
	if ms := list(QueueMemberFilter{QueueSID: q1.SID}); len(ms) != 0 {
		t.Errorf("history of a deleted queue kept: %+v", ms)
	}
}
