package queue

import (
	"context"
	"errors"
	"github.com/voxgate/voxgate/media/mediatest"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStress drives callers, agents, dequeuers and the clock from many
// goroutines at once and checks the Manager's invariants throughout.
func TestStress(t *testing.T) {
	clock := newFakeClock()
	m := NewManager(Config{Clock: clock, OfferTimeout: 200 * time.Millisecond, WrapUp: 50 * time.Millisecond, DefaultMaxSize: 40, NotifyInterval: 20 * time.Millisecond})
	defer m.Close()
	queues := []string{"sales", "support", "billing"}
	const (
		callerWorkers = 8
		callsEach     = 150
		agents        = 6
	)
	ctx, stop := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	var failures atomic.Int32
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}

	// The clock.
	bg.Go(func() {
		for ctx.Err() == nil {
			clock.Advance(time.Duration(rand.IntN(30)) * time.Millisecond)
			runtime.Gosched()
		}
	})
	// An observer checking invariants and reading the views.
	bg.Go(func() {
		for ctx.Err() == nil {
			if err := m.checkInvariants(); err != nil {
				fail("invariants: %v", err)
				return
			}
			for _, q := range m.Queues() {
				members := m.Members(q.SID)
				for i, mi := range members {
					if mi.Position != i+1 {
						fail("queue %s: member %d has position %d", q.Name, i, mi.Position)
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
	// A <Dial><Queue> and a REST client taking callers now and then.
	bg.Go(func() {
		for ctx.Err() == nil {
			q := queues[rand.IntN(len(queues))]
			if rand.IntN(2) == 0 {
				if _, err := m.TakeFront(q, "CAdialer", mediatest.NewLeg()); err != nil && !errors.Is(err, ErrNoCaller) {
					fail("TakeFront: %v", err)
				}
			} else if info, ok := m.QueueByName(q); ok {
				if _, err := m.Redirect(info.SID, Front, "https://example.com/x", "POST"); err != nil && !errors.Is(err, ErrNoCaller) {
					fail("Redirect: %v", err)
				}
			}
			time.Sleep(3 * time.Millisecond)
		}
	})
	// Agents: accept, reject or ignore offers; go unavailable; sign out
	// and in again.
	for i := range agents {
		bg.Go(func() {
			id := "agent" + strconv.Itoa(i)
			for ctx.Err() == nil {
				s, err := m.SignIn(Agent{ID: id, Queues: []string{queues[i%3], queues[(i+1)%3]}})
				if err != nil {
					fail("SignIn: %v", err)
					return
				}
				s.SetAvailable(true)
				runAgent(ctx, s, fail)
			}
		})
	}

	var outcomes [4]atomic.Int32
	var left atomic.Int32
	var callers sync.WaitGroup
	for w := range callerWorkers {
		callers.Go(func() {
			for n := range callsEach {
				c := Caller{CallSID: "CA" + strconv.Itoa(w) + "_" + strconv.Itoa(n), Priority: rand.IntN(3)}
				if rand.IntN(4) == 0 {
					c.Timeout = time.Duration(50+rand.IntN(300)) * time.Millisecond
				}
				var e *Entry
				var err error
				if rand.IntN(8) == 0 {
					e, err = m.Ring("agent"+strconv.Itoa(rand.IntN(agents)), c)
				} else {
					e, err = m.Enqueue(queues[rand.IntN(len(queues))], c, 0)
				}
				if errors.Is(err, ErrQueueFull) || errors.Is(err, ErrNoAgent) {
					continue
				}
				if err != nil {
					fail("enqueue: %v", err)
					return
				}
				patience := time.After(time.Duration(rand.IntN(20)) * time.Millisecond)
				select {
				case o := <-e.Outcome():
					outcomes[o.Kind].Add(1)
					if o.Kind == Bridged && o.Leg == nil {
						fail("%s: bridged without a leg", c.CallSID)
					}
					if o.Kind == Bridged {
						time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
					}
					e.Finished()
				case <-patience:
					e.Leave()
					left.Add(1)
				}
				select {
				case o := <-e.Outcome():
					// Only a race with Leave delivers one now; never twice.
					select {
					case o2 := <-e.Outcome():
						fail("%s: second outcome %+v after %+v", c.CallSID, o2, o)
					default:
					}
					e.Leave()
				default:
				}
				if got := e.Info().Position; got != 0 {
					fail("%s: position %d after its wait", c.CallSID, got)
				}
			}
		})
	}
	callers.Wait()
	if err := m.checkInvariants(); err != nil {
		t.Error(err)
	}
	for _, q := range m.Queues() {
		if q.Size != 0 {
			t.Errorf("queue %s still holds %d callers", q.Name, q.Size)
		}
	}
	stop()
	bg.Wait()
	m.Close()
	t.Logf("outcomes: bridged %d, dequeued %d, timed out %d; left %d",
		outcomes[Bridged].Load(), outcomes[Dequeued].Load(), outcomes[TimedOut].Load(), left.Load())
	if outcomes[Bridged].Load() == 0 {
		t.Error("no caller was ever bridged")
	}
}

// runAgent plays one agent session until ctx ends or the session does.
func runAgent(ctx context.Context, s *AgentSession, fail func(string, ...any)) {
	defer s.SignOut()
	var current string
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.Events():
			if !ok {
				return
			}
			switch ev.Kind {
			case OfferMade:
				if current != "" {
					fail("%s: second offer %s while %s is open", s.agent.ID, ev.Offer.ID, current)
				}
				current = ev.Offer.ID
				switch rand.IntN(10) {
				case 0, 1:
					s.Reject(ev.Offer.ID)
					current = ""
				case 2: // let it ring out
				case 3:
					s.SignOut()
				default:
					if err := s.Accept(ev.Offer.ID, mediatest.NewLeg()); err != nil && !errors.Is(err, ErrOfferGone) {
						fail("Accept: %v", err)
					}
					current = ""
				}
			case OfferWithdrawn, OfferExpired:
				if ev.Offer.ID == current {
					current = ""
				}
				if ev.Kind == OfferExpired {
					s.SetAvailable(true)
				}
			case CallEnded:
				if rand.IntN(5) == 0 {
					s.SetAvailable(false)
					s.SetAvailable(true)
				}
			}
		}
	}
}

func TestNoGoroutineLeakAfterClose(t *testing.T) {
	before := runtime.NumGoroutine()
	m := NewManager(Config{OfferTimeout: 5 * time.Millisecond, WrapUp: 5 * time.Millisecond, NotifyInterval: time.Millisecond})
	ann, err := m.SignIn(Agent{ID: "ann", Queues: []string{"q"}})
	if err != nil {
		t.Fatal(err)
	}
	ann.SetAvailable(true)
	for i := range 20 {
		if _, err := m.Enqueue("q", Caller{CallSID: strconv.Itoa(i), Timeout: time.Duration(i) * time.Millisecond}, 0); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waiters sync.WaitGroup
	for range 3 {
		waiters.Go(func() { m.TakeFrontWait(ctx, "empty", "CAd", mediatest.NewLeg()) })
	}
	time.Sleep(10 * time.Millisecond) // timers fire on the real clock
	m.Close()
	waiters.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
