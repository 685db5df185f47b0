package queue

import (
	"context"
	"errors"
	"github.com/voxgate/voxgate/media/mediatest"
	"testing"
	"time"
)

func TestTakeFront(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := h.m.TakeFront("nowhere", "CAdialer", mediatest.NewLeg()); !errors.Is(err, ErrNoCaller) {
		t.Fatalf("unknown queue: %v, want ErrNoCaller", err)
	}
	e1 := h.enqueue("q", Caller{CallSID: "C1", From: "+1555"})
	h.clock.Advance(7 * time.Second)
	e2 := h.enqueue("q", Caller{CallSID: "C2", Priority: 1})
	ann := h.signIn("ann", true, "q")
	h.offerFor(ann, "C2") // C2 rings ann, but <Dial><Queue> takes it first

	leg := mediatest.NewLeg()
	mi, err := h.m.TakeFront("q", "CAdialer", leg)
	if err != nil {
		t.Fatal(err)
	}
	if mi.CallSID != "C2" || mi.Position != 1 || mi.QueueSID != e2.QueueSID() || mi.OfferedTo != "ann" {
		t.Fatalf("TakeFront returned %+v", mi)
	}
	got := h.outcome(e2)
	if got.Kind != Bridged || got.Leg != leg || got.DequeuerSID != "CAdialer" || got.AgentID != "" {
		t.Fatalf("outcome %+v", got)
	}
	h.expectKind(ann, OfferWithdrawn)
	h.offerFor(ann, "C1") // ann, free again, rings with the remaining caller
	e2.Finished()         // no agent involved: nothing happens
	h.quiet(ann)

	mi, err = h.m.TakeFront("q", "CAdialer2", leg)
	if err != nil || mi.CallSID != "C1" || mi.Wait != 7*time.Second || mi.From != "+1555" {
		t.Fatalf("second TakeFront: %+v, %v", mi, err)
	}
	h.outcome(e1)
	h.expectKind(ann, OfferWithdrawn)
	if _, err := h.m.TakeFront("q", "CAdialer3", leg); !errors.Is(err, ErrNoCaller) {
		t.Fatalf("empty queue: %v, want ErrNoCaller", err)
	}
}

func TestTakeFrontWait(t *testing.T) {
	h := newHarness(t, Config{})
	type result struct {
		mi  MemberInfo
		err error
	}
	done := make(chan result, 1)
	go func() {
		mi, err := h.m.TakeFrontWait(context.Background(), "q", "CAdialer", mediatest.NewLeg())
		done <- result{mi, err}
	}()
	time.Sleep(20 * time.Millisecond) // let it start waiting (it also works if it has not)
	h.enqueue("other", Caller{CallSID: "X"})
	select {
	case r := <-done:
		t.Fatalf("returned before a caller arrived: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
	e := h.enqueue("q", Caller{CallSID: "C1"})
	select {
	case r := <-done:
		if r.err != nil || r.mi.CallSID != "C1" {
			t.Fatalf("TakeFrontWait: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("TakeFrontWait did not return after an arrival")
	}
	if got := h.outcome(e); got.DequeuerSID != "CAdialer" {
		t.Fatalf("outcome %+v", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := h.m.TakeFrontWait(ctx, "q", "CAdialer", mediatest.NewLeg()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("TakeFrontWait with an expiring context: %v", err)
	}

	go func() {
		_, err := h.m.TakeFrontWait(context.Background(), "q", "CAdialer", mediatest.NewLeg())
		done <- result{err: err}
	}()
	time.Sleep(20 * time.Millisecond)
	h.m.Close()
	select {
	case r := <-done:
		if !errors.Is(r.err, ErrClosed) {
			t.Fatalf("after Close: %v, want ErrClosed", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("TakeFrontWait did not return after Close")
	}
}

func TestRedirect(t *testing.T) {
	h := newHarness(t, Config{})
	e1 := h.enqueue("q", Caller{CallSID: "C1"})
	e2 := h.enqueue("q", Caller{CallSID: "C2"})
	e3 := h.enqueue("q", Caller{CallSID: "C3"})
	qsid := e1.QueueSID()
	cases := []struct {
		name, callSID, method string
		want                  *Entry
		wantPos               int
		wantMethod            string
		wantErr               error
	}{
		{"by call SID", "C2", "GET", e2, 2, "GET", nil},
		{"front", Front, "", e1, 1, "POST", nil},
		{"gone", "C2", "POST", nil, 0, "", ErrNoCaller},
		{"unknown", "CAnope", "POST", nil, 0, "", ErrNoCaller},
		{"last one is front", Front, "POST", e3, 1, "POST", nil},
		{"empty", Front, "POST", nil, 0, "", ErrNoCaller},
	}
	for _, tc := range cases {
		mi, err := h.m.Redirect(qsid, tc.callSID, "https://example.com/"+tc.name, tc.method)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.wantErr)
		}
		if tc.want == nil {
			continue
		}
		if mi.CallSID != tc.want.caller.CallSID || mi.Position != tc.wantPos {
			t.Fatalf("%s: member %+v", tc.name, mi)
		}
		got := h.outcome(tc.want)
		if got.Kind != Dequeued || got.URL != "https://example.com/"+tc.name || got.Method != tc.wantMethod {
			t.Fatalf("%s: outcome %+v", tc.name, got)
		}
		h.check()
	}
	if _, err := h.m.Redirect("QUnope", Front, "u", "POST"); !errors.Is(err, ErrNoCaller) {
		t.Fatalf("unknown queue: %v", err)
	}
}

func TestRing(t *testing.T) {
	t.Run("not signed in", func(t *testing.T) {
		h := newHarness(t, Config{})
		if _, err := h.m.Ring("ghost", Caller{CallSID: "C1"}); !errors.Is(err, ErrNoAgent) {
			t.Fatalf("Ring: %v, want ErrNoAgent", err)
		}
	})
	t.Run("accept", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", false, "q") // unavailable for queues, still rings
		e, err := h.m.Ring("ann", Caller{CallSID: "C1", From: "client:bob"})
		if err != nil {
			t.Fatal(err)
		}
		if e.QueueSID() != "" || e.QueueName() != "" {
			t.Fatalf("direct entry in queue %q", e.QueueName())
		}
		o := h.offerFor(ann, "C1")
		if o.Queue != "" || o.From != "client:bob" {
			t.Fatalf("offer %+v", o)
		}
		leg := mediatest.NewLeg()
		if err := ann.Accept(o.ID, leg); err != nil {
			t.Fatal(err)
		}
		if got := h.outcome(e); got.Kind != Bridged || got.Leg != leg || got.AgentID != "ann" {
			t.Fatalf("outcome %+v", got)
		}
		e.Finished()
		h.expectKind(ann, CallEnded)
	})
	t.Run("offer timeout", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true, "q")
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1"})
		h.offerFor(ann, "C1")
		h.clock.Advance(testOfferTimeout)
		h.expectKind(ann, OfferExpired)
		if got := h.outcome(e); got.Kind != TimedOut {
			t.Fatalf("outcome %+v, want TimedOut", got)
		}
		// ann was set unavailable: queue callers wait.
		h.enqueue("q", Caller{CallSID: "Q1"})
		h.quiet(ann)
	})
	t.Run("reject", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true, "q")
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1"})
		ann.Reject(h.offerFor(ann, "C1").ID)
		if got := h.outcome(e); got.Kind != TimedOut {
			t.Fatalf("outcome %+v, want TimedOut", got)
		}
		h.enqueue("q", Caller{CallSID: "Q1"})
		h.offerFor(ann, "Q1") // still available
	})
	t.Run("caller gives up", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true, "q")
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1"})
		h.offerFor(ann, "C1")
		e.Leave()
		h.expectKind(ann, OfferWithdrawn)
		h.noOutcome(e)
	})
	t.Run("busy agent is rung once free", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true, "q")
		q := h.enqueue("q", Caller{CallSID: "Q1"})
		o := h.offerFor(ann, "Q1")
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1", Timeout: time.Minute})
		h.quiet(ann) // one offer at a time
		if err := ann.Accept(o.ID, mediatest.NewLeg()); err != nil {
			t.Fatal(err)
		}
		h.outcome(q)
		q.Finished()
		h.expectKind(ann, CallEnded)
		h.quiet(ann) // wrap-up
		h.clock.Advance(testWrapUp)
		h.offerFor(ann, "C1")
		h.noOutcome(e)
	})
	t.Run("ring before queue callers", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.enqueue("q", Caller{CallSID: "Q1"})
		ann := h.signIn("ann", false, "q")
		h.m.Ring("ann", Caller{CallSID: "C1"})
		o := h.offerFor(ann, "C1")
		ann.SetAvailable(true)
		h.quiet(ann)
		ann.Reject(o.ID)
		h.offerFor(ann, "Q1")
	})
	t.Run("busy agent and caller timeout", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true, "q")
		h.enqueue("q", Caller{CallSID: "Q1"})
		h.offerFor(ann, "Q1")
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1", Timeout: 5 * time.Second})
		h.clock.Advance(5 * time.Second)
		if got := h.outcome(e); got.Kind != TimedOut {
			t.Fatalf("outcome %+v", got)
		}
	})
	t.Run("sign out", func(t *testing.T) {
		h := newHarness(t, Config{})
		ann := h.signIn("ann", true)
		e1, _ := h.m.Ring("ann", Caller{CallSID: "C1"})
		e2, _ := h.m.Ring("ann", Caller{CallSID: "C2"})
		h.offerFor(ann, "C1")
		ann.SignOut()
		for _, e := range []*Entry{e1, e2} {
			if got := h.outcome(e); got.Kind != TimedOut {
				t.Fatalf("%s: outcome %+v", e.caller.CallSID, got)
			}
		}
	})
	t.Run("sign in again keeps rings", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.signIn("ann", true)
		e, _ := h.m.Ring("ann", Caller{CallSID: "C1"})
		fresh := h.signIn("ann", false)
		h.offerFor(fresh, "C1")
		h.noOutcome(e)
	})
}
