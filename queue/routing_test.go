package queue

import (
	"errors"
	"github.com/voxgate/voxgate/media/mediatest"
	"strconv"
	"testing"
	"time"
)

func TestPriorityThenFIFO(t *testing.T) {
	type arrival struct {
		sid      string
		priority int
	}
	cases := []struct {
		name     string
		arrivals []arrival
		want     []string
	}{
		{"fifo", []arrival{{"A", 0}, {"B", 0}, {"C", 0}}, []string{"A", "B", "C"}},
		{"priority first", []arrival{{"A", 0}, {"B", 5}, {"C", 1}}, []string{"B", "C", "A"}},
		{"fifo within priority", []arrival{{"A", 1}, {"B", 2}, {"C", 1}, {"D", 2}, {"E", 0}}, []string{"B", "D", "A", "C", "E"}},
		{"negative priority last", []arrival{{"A", -1}, {"B", 0}}, []string{"B", "A"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{WrapUp: -1})
			var entries []*Entry
			for _, a := range tc.arrivals {
				entries = append(entries, h.enqueue("support", Caller{CallSID: a.sid, Priority: a.priority}))
				h.clock.Advance(time.Second)
			}
			// The queue lists them in routing order...
			var got []string
			for i, mi := range h.m.Members(entries[0].QueueSID()) {
				got = append(got, mi.CallSID)
				if mi.Position != i+1 {
					t.Errorf("member %s: position %d, want %d", mi.CallSID, mi.Position, i+1)
				}
			}
			if !equal(got, tc.want) {
				t.Fatalf("members %v, want %v", got, tc.want)
			}
			// ...and one agent is offered them in that order.
			s := h.signIn("ann", true, "support")
			got = nil
			for range tc.want {
				o := h.event(s)
				if o.Kind != OfferMade {
					t.Fatalf("event %v, want OfferMade", o.Kind)
				}
				got = append(got, o.Offer.CallSID)
				if err := s.Accept(o.Offer.ID, mediatest.NewLeg()); err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if e.caller.CallSID == o.Offer.CallSID {
						h.outcome(e)
						e.Finished()
					}
				}
				h.expectKind(s, CallEnded)
				h.check()
			}
			if !equal(got, tc.want) {
				t.Fatalf("offered %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBestCallerAcrossQueues(t *testing.T) {
	h := newHarness(t, Config{})
	h.enqueue("sales", Caller{CallSID: "S1"})
	h.clock.Advance(time.Second)
	h.enqueue("support", Caller{CallSID: "P1"})
	h.clock.Advance(time.Second)
	h.enqueue("support", Caller{CallSID: "P2", Priority: 3})
	h.enqueue("billing", Caller{CallSID: "B1", Priority: 9}) // not served
	s := h.signIn("ann", true, "sales", "support")
	h.offerFor(s, "P2") // highest priority across sales and support
	other := h.signIn("bob", true, "sales", "support")
	h.offerFor(other, "S1") // then the longest wait
	third := h.signIn("cid", true, "support")
	h.offerFor(third, "P1")
	h.quiet(s)
}

func TestLongestIdleAgentGetsOffer(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	h.clock.Advance(time.Second)
	bob := h.signIn("bob", true, "q")
	h.clock.Advance(time.Second)
	cid := h.signIn("cid", false, "q")
	h.clock.Advance(time.Second)
	cid.SetAvailable(true)

	// ann has been available longest.
	e1 := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	h.quiet(bob)
	if err := ann.Accept(o.ID, mediatest.NewLeg()); err != nil {
		t.Fatal(err)
	}
	h.outcome(e1)
	h.clock.Advance(10 * time.Second)
	e1.Finished()
	h.expectKind(ann, CallEnded)
	h.clock.Advance(testWrapUp) // ann idle again: now the most recently idle

	h.enqueue("q", Caller{CallSID: "C2"})
	h.offerFor(bob, "C2")
	h.enqueue("q", Caller{CallSID: "C3"})
	h.offerFor(cid, "C3")
	h.enqueue("q", Caller{CallSID: "C4"})
	h.offerFor(ann, "C4")
	h.quiet(bob)
	h.quiet(cid)
}

func TestUnavailableAgentGetsNoOffer(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.signIn("ann", false, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	h.quiet(s)
	if got := e.Info().OfferedTo; got != "" {
		t.Fatalf("offered to %q while nobody is available", got)
	}
	s.SetAvailable(true)
	h.offerFor(s, "C1")
	if got := e.Info().OfferedTo; got != "ann" {
		t.Fatalf("OfferedTo = %q, want ann", got)
	}
	// Going unavailable while ringing withdraws the offer.
	s.SetAvailable(false)
	h.expectKind(s, OfferWithdrawn)
	if got := e.Info(); got.OfferedTo != "" || got.Position != 1 {
		t.Fatalf("after unavailable: %+v", got)
	}
}

func TestOfferTimeoutReoffersAndMakesAgentUnavailable(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	h.clock.Advance(time.Second)
	bob := h.signIn("bob", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	if want := h.clock.Now().Add(testOfferTimeout); !o.Expires.Equal(want) {
		t.Errorf("Expires %v, want %v", o.Expires, want)
	}
	h.clock.Advance(testOfferTimeout - time.Millisecond)
	h.quiet(ann)
	h.clock.Advance(time.Millisecond)
	h.expectKind(ann, OfferExpired)
	h.offerFor(bob, "C1")
	h.noOutcome(e)
	if err := ann.Accept(o.ID, mediatest.NewLeg()); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("Accept after expiry: %v, want ErrOfferGone", err)
	}
	// ann is unavailable now: a second caller waits for bob's offer.
	h.enqueue("q", Caller{CallSID: "C2"})
	h.quiet(ann)
	// bob lets it ring out too: nobody is left, the callers keep waiting.
	h.clock.Advance(testOfferTimeout)
	h.expectKind(bob, OfferExpired)
	h.quiet(ann)
	h.quiet(bob)
	if got := e.Info(); got.Position != 1 || got.OfferedTo != "" {
		t.Fatalf("C1 after both expired: %+v", got)
	}
	ann.SetAvailable(true)
	h.offerFor(ann, "C1")
}

func TestRejectGoesToNextAgent(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	h.clock.Advance(time.Second)
	bob := h.signIn("bob", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	ann.Reject(o.ID)
	h.check()
	o2 := h.offerFor(bob, "C1")
	h.quiet(ann)
	if got := e.Info().Position; got != 1 {
		t.Fatalf("position after reject %d, want 1", got)
	}
	ann.Reject(o.ID) // stale: ignored
	bob.Reject(o2.ID)
	// Both turned it down; ann (idle longest) gets it again rather than
	// leaving the caller with a free agent next to it.
	h.offerFor(ann, "C1")
	h.quiet(bob)
	h.noOutcome(e)
}

func TestRejectPrefersAnotherCallerForTheSameAgent(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	h.enqueue("q", Caller{CallSID: "C1"})
	h.enqueue("q", Caller{CallSID: "C2"})
	o := h.offerFor(ann, "C1")
	ann.Reject(o.ID)
	o = h.offerFor(ann, "C2") // not C1 again while another caller waits
	ann.Reject(o.ID)
	h.offerFor(ann, "C1") // both rejected: back to the best caller
}

func TestCallerLeaveWhileOfferedWithdraws(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	e.Leave()
	ev := h.expectKind(ann, OfferWithdrawn)
	if ev.Offer.ID != o.ID {
		t.Fatalf("withdrew %s, want %s", ev.Offer.ID, o.ID)
	}
	if err := ann.Accept(o.ID, mediatest.NewLeg()); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("Accept after withdrawal: %v, want ErrOfferGone", err)
	}
	e.Leave() // idempotent
	h.noOutcome(e)
	if got := h.m.Members(e.QueueSID()); len(got) != 0 {
		t.Fatalf("members after leave: %+v", got)
	}
	// ann is free for the next caller.
	h.enqueue("q", Caller{CallSID: "C2"})
	h.offerFor(ann, "C2")
}

func TestSignOutBeforeAcceptKeepsPlace(t *testing.T) {
	h := newHarness(t, Config{})
	e1 := h.enqueue("q", Caller{CallSID: "C1"})
	h.enqueue("q", Caller{CallSID: "C2"})
	ann := h.signIn("ann", true, "q")
	o := h.offerFor(ann, "C1")
	ann.SignOut()
	h.check()
	if got := e1.Info(); got.Position != 1 || got.OfferedTo != "" {
		t.Fatalf("C1 after sign-out: %+v", got)
	}
	for range ann.Events() { // drained and closed
	}
	if err := ann.Accept(o.ID, mediatest.NewLeg()); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("Accept after sign-out: %v, want ErrOfferGone", err)
	}
	ann.SignOut() // idempotent
	bob := h.signIn("bob", true, "q")
	h.offerFor(bob, "C1")
	h.noOutcome(e1)
}

func TestSignInAgainReplacesSession(t *testing.T) {
	h := newHarness(t, Config{})
	old := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	h.offerFor(old, "C1")
	fresh := h.signIn("ann", true, "q")
	h.expectKind(old, OfferWithdrawn)
	if _, ok := <-old.Events(); ok {
		t.Fatal("old session's events not closed")
	}
	o := h.offerFor(fresh, "C1")
	if err := fresh.Accept(o.ID, mediatest.NewLeg()); err != nil {
		t.Fatal(err)
	}
	if got := h.outcome(e); got.Kind != Bridged || got.AgentID != "ann" {
		t.Fatalf("outcome %+v", got)
	}
}

func TestAcceptDeliversLeg(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	h.clock.Advance(time.Second)
	bob := h.signIn("bob", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1", From: "+15550001", To: "+15550002", Attributes: map[string]any{"lang": "fr"}})
	h.clock.Advance(4 * time.Second)
	o := h.offerFor(ann, "C1")
	if o.From != "+15550001" || o.To != "+15550002" || o.Queue != "q" || o.Attributes["lang"] != "fr" {
		t.Fatalf("offer %+v", o)
	}
	leg := mediatest.NewLeg()
	if err := ann.Accept("WRbogus", leg); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("Accept(wrong ID): %v, want ErrOfferGone", err)
	}
	if err := ann.Accept(o.ID, nil); err == nil {
		t.Fatal("Accept with a nil leg succeeded")
	}
	if err := ann.Accept(o.ID, leg); err != nil {
		t.Fatal(err)
	}
	got := h.outcome(e)
	if got.Kind != Bridged || got.Leg != leg || got.AgentID != "ann" || got.DequeuerSID != "" {
		t.Fatalf("outcome %+v", got)
	}
	if err := ann.Accept(o.ID, leg); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("second Accept: %v, want ErrOfferGone", err)
	}
	h.noOutcome(e)
	if got := e.Info(); got.Position != 0 || got.Wait != 4*time.Second {
		t.Fatalf("info after bridge: %+v", got)
	}
	if q, _ := h.m.QueueBySID(e.QueueSID()); q.Size != 0 {
		t.Fatalf("queue size %d after accept", q.Size)
	}
	// ann is busy: the next caller goes to bob.
	h.enqueue("q", Caller{CallSID: "C2"})
	h.offerFor(bob, "C2")
	h.quiet(ann)
}

func TestFinishedAndWrapUpReturnAgent(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	if err := ann.Accept(o.ID, mediatest.NewLeg()); err != nil {
		t.Fatal(err)
	}
	h.outcome(e)
	h.enqueue("q", Caller{CallSID: "C2"})
	h.clock.Advance(time.Minute) // a long call: ann is busy throughout
	h.quiet(ann)
	e.Finished()
	ev := h.expectKind(ann, CallEnded)
	if ev.Offer.CallSID != "C1" || ev.Offer.ID != o.ID {
		t.Fatalf("CallEnded for %+v", ev.Offer)
	}
	e.Finished() // idempotent
	e.Leave()    // no effect after Finished
	h.clock.Advance(testWrapUp - time.Millisecond)
	h.quiet(ann)
	h.clock.Advance(time.Millisecond)
	h.offerFor(ann, "C2")
}

func TestLeaveWhileBridgedEndsTheBridge(t *testing.T) {
	h := newHarness(t, Config{WrapUp: -1})
	ann := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1"})
	o := h.offerFor(ann, "C1")
	if err := ann.Accept(o.ID, mediatest.NewLeg()); err != nil {
		t.Fatal(err)
	}
	e.Leave()
	h.expectKind(ann, CallEnded)
	h.enqueue("q", Caller{CallSID: "C2"})
	h.offerFor(ann, "C2") // no wrap-up configured
}

func TestCallerTimeout(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1", Timeout: 10 * time.Second})
	h.offerFor(ann, "C1")
	h.clock.Advance(10 * time.Second)
	if got := h.outcome(e); got.Kind != TimedOut {
		t.Fatalf("outcome %+v, want TimedOut", got)
	}
	h.expectKind(ann, OfferWithdrawn)
	if got := e.Info(); got.Position != 0 || got.Wait != 10*time.Second {
		t.Fatalf("info after timeout: %+v", got)
	}
	e.Leave()
	h.noOutcome(e)
}

func TestQueueFull(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		maxSize   int // per Enqueue
		wantLimit int
	}{
		{"default 1000", Config{}, 0, 1000},
		{"configured default", Config{DefaultMaxSize: 3}, 0, 3},
		{"per enqueue", Config{DefaultMaxSize: 3}, 2, 2},
		{"resolved", Config{Resolve: func(string) (string, int, error) { return "QU00000000000000000000000000000001", 4, nil }}, 0, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			for i := range tc.wantLimit {
				if _, err := h.m.Enqueue("q", Caller{CallSID: "C" + itoa(i)}, tc.maxSize); err != nil {
					t.Fatalf("caller %d: %v", i, err)
				}
			}
			_, err := h.m.Enqueue("q", Caller{CallSID: "over"}, tc.maxSize)
			if !errors.Is(err, ErrQueueFull) {
				t.Fatalf("caller %d: %v, want ErrQueueFull", tc.wantLimit, err)
			}
			q, _ := h.m.QueueByName("q")
			if q.Size != tc.wantLimit {
				t.Fatalf("size %d, want %d", q.Size, tc.wantLimit)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	const qsid = "QU0123456789abcdef0123456789abcdef"
	calls := 0
	h := newHarness(t, Config{Resolve: func(name string) (string, int, error) {
		calls++
		if name == "broken" {
			return "", 0, errors.New("store down")
		}
		return qsid, 50, nil
	}})
	e := h.enqueue("support", Caller{CallSID: "C1"})
	if e.QueueSID() != qsid || e.QueueName() != "support" {
		t.Fatalf("entry in %s/%s", e.QueueSID(), e.QueueName())
	}
	h.enqueue("support", Caller{CallSID: "C2"})
	if calls != 2 {
		t.Fatalf("Resolve called %d times, want once per Enqueue", calls)
	}
	q, ok := h.m.QueueBySID(qsid)
	if !ok || q.Name != "support" || q.MaxSize != 50 || q.Size != 2 {
		t.Fatalf("QueueBySID: %+v, %v", q, ok)
	}
	if _, err := h.m.Enqueue("broken", Caller{CallSID: "C3"}, 0); err == nil || errors.Is(err, ErrQueueFull) {
		t.Fatalf("Enqueue with a failing Resolve: %v", err)
	}
	if _, ok := h.m.QueueByName("broken"); ok {
		t.Fatal("a queue that failed to resolve exists")
	}
}

func TestQueuesWithoutResolveGetSIDs(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.enqueue("a", Caller{CallSID: "C1"})
	b := h.enqueue("b", Caller{CallSID: "C2"})
	a2 := h.enqueue("a", Caller{CallSID: "C3"})
	if a.QueueSID() == b.QueueSID() || a.QueueSID() != a2.QueueSID() || len(a.QueueSID()) != 34 || a.QueueSID()[:2] != "QU" {
		t.Fatalf("SIDs %q %q %q", a.QueueSID(), b.QueueSID(), a2.QueueSID())
	}
	qs := h.m.Queues()
	if len(qs) != 2 || qs[0].Name != "a" || qs[0].Size != 2 || qs[1].Name != "b" || qs[1].Size != 1 {
		t.Fatalf("Queues() = %+v", qs)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }
