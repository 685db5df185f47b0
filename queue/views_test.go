package queue

import (
	"errors"
	"github.com/voxgate/voxgate/media/mediatest"
	"testing"
	"time"
)

func TestMembersOrderAndPositions(t *testing.T) {
	h := newHarness(t, Config{})
	var entries []*Entry
	for i, p := range []int{0, 2, 0, 1} {
		entries = append(entries, h.enqueue("q", Caller{CallSID: "C" + itoa(i), Priority: p, Attributes: map[string]any{"n": i}}))
		h.clock.Advance(10 * time.Second)
	}
	// Order: C1 (p2), C3 (p1), C0, C2.
	want := []struct {
		sid  string
		wait time.Duration
	}{{"C1", 30 * time.Second}, {"C3", 10 * time.Second}, {"C0", 40 * time.Second}, {"C2", 20 * time.Second}}
	members := h.m.Members(entries[0].QueueSID())
	if len(members) != len(want) {
		t.Fatalf("%d members, want %d", len(members), len(want))
	}
	for i, w := range want {
		mi := members[i]
		if mi.CallSID != w.sid || mi.Position != i+1 || mi.Wait != w.wait || mi.QueueSID != entries[0].QueueSID() {
			t.Errorf("member %d = %+v, want %s at %d waiting %v", i, mi, w.sid, i+1, w.wait)
		}
	}
	if got := entries[2].Info(); got.Position != 4 || got.Attributes["n"] != 2 {
		t.Errorf("C2 info %+v", got)
	}
	// Leaving moves those behind forward.
	entries[3].Leave()
	if got := entries[0].Info().Position; got != 2 {
		t.Errorf("C0 position after C3 left: %d, want 2", got)
	}
	if got := h.m.Members("QUnope"); got != nil {
		t.Errorf("unknown queue members %+v", got)
	}
}

func TestAverageWait(t *testing.T) {
	h := newHarness(t, Config{})
	e1 := h.enqueue("q", Caller{CallSID: "C1"})
	h.clock.Advance(30 * time.Second)
	h.enqueue("q", Caller{CallSID: "C2"})
	h.clock.Advance(10 * time.Second)
	// Waits 40 s and 10 s.
	q, ok := h.m.QueueBySID(e1.QueueSID())
	if !ok || q.Size != 2 || q.AverageWait != 25*time.Second || q.MaxSize != DefaultMaxSize || q.Name != "q" {
		t.Fatalf("queue %+v", q)
	}
	e1.Leave()
	q, _ = h.m.QueueByName("q")
	if q.AverageWait != 10*time.Second {
		t.Fatalf("average after leave %v, want 10s", q.AverageWait)
	}
	h.m.Redirect(e1.QueueSID(), Front, "u", "")
	if q, _ = h.m.QueueByName("q"); q.Size != 0 || q.AverageWait != 0 {
		t.Fatalf("empty queue %+v", q)
	}
}

func TestQueuesChangedCoalesced(t *testing.T) {
	const interval = 500 * time.Millisecond
	h := newHarness(t, Config{NotifyInterval: interval})
	ann := h.signIn("ann", false, "q", "later")
	ev := <-ann.Events()
	if ev.Kind != QueuesChanged || len(ev.Queues) != 2 || ev.Queues[1].Name != "later" || ev.Queues[1].SID != "" {
		t.Fatalf("sign-in event %+v", ev)
	}
	bob := h.signIn("bob", false, "other")
	<-bob.Events()

	for i := range 5 {
		h.enqueue("q", Caller{CallSID: "C" + itoa(i)})
	}
	select {
	case ev := <-ann.Events():
		t.Fatalf("event before the interval: %+v", ev)
	default:
	}
	h.clock.Advance(interval)
	ev = <-ann.Events()
	if ev.Kind != QueuesChanged || ev.Queues[0].Size != 5 || ev.Queues[0].SID == "" {
		t.Fatalf("coalesced event %+v", ev)
	}
	h.quiet(ann)
	select {
	case ev := <-bob.Events():
		t.Fatalf("bob, serving another queue, got %+v", ev)
	default:
	}
	// Nothing changed: no event.
	h.clock.Advance(10 * interval)
	select {
	case ev := <-ann.Events():
		t.Fatalf("event without a change: %+v", ev)
	default:
	}
}

func TestStuckReaderIsSignedOut(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q") // its events are never read
	made := 0
	for i := range eventBuffer {
		e := h.enqueue("q", Caller{CallSID: "C" + itoa(i)})
		if e.Info().OfferedTo != "ann" {
			break
		}
		made++
		e.Leave() // OfferMade + OfferWithdrawn each time
		h.clock.Advance(time.Second)
	}
	if made >= eventBuffer {
		t.Fatalf("%d offers made to an agent that reads nothing", made)
	}
	h.check()
	// Every buffered event is readable, in order, then the channel closes.
	var kinds []AgentEventKind
	for ev := range ann.Events() {
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) == 0 || kinds[0] != QueuesChanged {
		t.Fatalf("events %v", kinds)
	}
	offers := 0
	var last AgentEventKind
	for _, k := range kinds[1:] {
		switch k {
		case OfferMade:
			if last == OfferMade {
				t.Fatal("two OfferMade without a withdrawal between")
			}
			offers++
		case OfferWithdrawn:
			if last != OfferMade {
				t.Fatal("OfferWithdrawn without its OfferMade")
			}
		}
		if k != QueuesChanged {
			last = k
		}
	}
	if offers != made {
		t.Fatalf("%d OfferMade delivered, %d made", offers, made)
	}
	if _, err := h.m.Ring("ann", Caller{CallSID: "R"}); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("stuck agent still signed in: %v", err)
	}
}

func TestClose(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", true, "q")
	e := h.enqueue("q", Caller{CallSID: "C1", Timeout: time.Minute})
	h.enqueue("q", Caller{CallSID: "C2"})
	h.m.Ring("ann", Caller{CallSID: "R1", Timeout: time.Minute})
	h.enqueue("q", Caller{CallSID: "C3"}) // starts the QueuesChanged flush timer
	if len(h.clock.Pending()) == 0 {
		t.Fatal("no timers running before Close")
	}
	h.m.Close()
	if n := len(h.clock.Pending()); n != 0 {
		t.Fatalf("%d timers left after Close", n)
	}
	for range ann.Events() {
	}
	h.clock.Advance(time.Hour)
	h.noOutcome(e)
	if _, err := h.m.Enqueue("q", Caller{CallSID: "C4"}, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close: %v", err)
	}
	if _, err := h.m.SignIn(Agent{ID: "bob"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("SignIn after Close: %v", err)
	}
	if _, err := h.m.Ring("ann", Caller{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ring after Close: %v", err)
	}
	if _, err := h.m.TakeFront("q", "", mediatest.NewLeg()); !errors.Is(err, ErrClosed) {
		t.Fatalf("TakeFront after Close: %v", err)
	}
	e.Leave()
	e.Finished()
	ann.SetAvailable(false)
	ann.SignOut()
	h.m.Close()
}

func TestFullBufferStopsOffers(t *testing.T) {
	h := newHarness(t, Config{})
	ann := h.signIn("ann", false) // one QueuesChanged, never read
	if a := ann.Agent(); a.ID != "ann" || a.Name != "ann" {
		t.Fatalf("Agent() = %+v", a)
	}
	// Each ring rejected leaves exactly one unread OfferMade.
	for i := 1; i < eventBuffer; i++ {
		e, err := h.m.Ring("ann", Caller{CallSID: "R" + itoa(i)})
		if err != nil {
			t.Fatalf("ring %d: %v", i, err)
		}
		h.m.mu.Lock()
		o := ann.offer
		h.m.mu.Unlock()
		if o == nil {
			t.Fatalf("ring %d: not offered", i)
		}
		ann.Reject(o.id)
		if got := h.outcome(e); got.Kind != TimedOut {
			t.Fatalf("ring %d: outcome %+v", i, got)
		}
	}
	// The buffer is full: the next offer cannot be announced, so the
	// session ends and the call is not answered.
	e, err := h.m.Ring("ann", Caller{CallSID: "last"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.outcome(e); got.Kind != TimedOut {
		t.Fatalf("outcome %+v, want TimedOut", got)
	}
	n := 0
	for range ann.Events() {
		n++
	}
	if n != eventBuffer {
		t.Fatalf("%d events delivered, want %d", n, eventBuffer)
	}
}
