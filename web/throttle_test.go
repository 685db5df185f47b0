package web

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/queue"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSignInGuardPerSource(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	g := newSignInGuard(clock.now)
	src := netip.MustParseAddr("192.0.2.1")
	for i := range sourceFreeFailures {
		if ok, _ := g.attempt(src, "alice"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := g.attempt(src, "alice")
	if ok || wait != time.Second {
		t.Fatalf("after %d failures: ok %v, wait %v; want a 1 s wait", sourceFreeFailures, ok, wait)
	}
	if ok, _ := g.attempt(netip.MustParseAddr("192.0.2.2"), "alice"); !ok {
		t.Error("another address is held back by the first one's failures")
	}
	clock.add(time.Second)
	if ok, _ := g.attempt(src, "alice"); !ok {
		t.Fatal("refused after the wait")
	}
	if _, wait := g.attempt(src, "alice"); wait != 2*time.Second {
		t.Errorf("second wait %v, want 2 s (doubling)", wait)
	}
	for range 20 {
		clock.add(sourceMaxBackoff)
		g.attempt(src, "alice")
	}
	if _, wait := g.attempt(src, "alice"); wait > sourceMaxBackoff {
		t.Errorf("wait %v beyond the cap", wait)
	}
	clock.add(sourceMaxBackoff)
	g.attempt(src, "bob")
	g.succeeded(src, "bob")
	if ok, _ := g.attempt(src, "bob"); !ok {
		t.Error("a successful sign-in does not clear the address")
	}
}

// TestSignInGuardPerAgent: guesses for one agent from many addresses are
// spaced out, but the agent signing in from an address it used before is
// never held back.
func TestSignInGuardPerAgent(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	g := newSignInGuard(clock.now)
	home := netip.MustParseAddr("198.51.100.7")
	g.attempt(home, "alice")
	g.succeeded(home, "alice")
	bot := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}) }
	for i := range agentFreeFailures {
		if ok, _ := g.attempt(bot(i), "alice"); !ok {
			t.Fatalf("bot %d refused before the agent limit", i)
		}
	}
	if ok, _ := g.attempt(bot(100), "alice"); !ok {
		t.Fatal("first spaced attempt refused")
	}
	if ok, wait := g.attempt(bot(101), "alice"); ok || wait != agentSpacing {
		t.Errorf("second attempt at once: ok %v wait %v, want spaced by %v", ok, wait, agentSpacing)
	}
	if ok, _ := g.attempt(bot(102), "bob"); !ok {
		t.Error("another agent is held back")
	}
	if ok, _ := g.attempt(home, "alice"); !ok {
		t.Error("the real agent, from an address she used before, is locked out")
	}
	g.succeeded(home, "alice")
	clock.add(agentSpacing)
	if ok, _ := g.attempt(bot(103), "alice"); !ok {
		t.Error("refused after the spacing")
	}
	clock.add(failureMemory + time.Minute)
	for i := range agentFreeFailures {
		if ok, _ := g.attempt(bot(200+i), "alice"); !ok {
			t.Fatalf("old failures not forgotten (attempt %d)", i)
		}
	}
}

// TestSignInThrottledAcrossConnections: guesses spread over many
// WebSockets from one address are throttled together (they used to be
// limited per socket only), and the page says when to try again.
func TestSignInThrottledAcrossConnections(t *testing.T) {
	// The throttle's clock stands still: no wait ever runs out here.
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	mgr := queue.NewManager(queue.Config{Logger: testLogger()})
	srv := httptest.NewServer(NewHandler(Options{Manager: mgr, Agents: testAgents, Logger: testLogger(), Now: clock.now}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		mgr.Close()
	})
	const pages, guesses = 6, 3
	var mu sync.Mutex
	checked, throttled := 0, 0
	var wg sync.WaitGroup
	for range pages {
		p := openPage(t, srv)
		wg.Go(func() {
			for range guesses {
				p.send(map[string]any{"type": "signin", "id": "alice", "secret": "guess"})
				m := p.expect("error", nil)
				mu.Lock()
				switch msg := m.str("message"); {
				case strings.Contains(msg, "try again in"):
					throttled++
				case strings.Contains(msg, "wrong secret"):
					checked++
				default:
					t.Errorf("unexpected error %v", m)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if checked > sourceFreeFailures || checked+throttled != pages*guesses {
		t.Errorf("%d guesses checked, %d throttled; want at most %d checked of %d", checked, throttled, sourceFreeFailures, pages*guesses)
	}
	// The right secret from the throttled address waits too (it cannot be
	// told apart from the attacker), but the limit lifts with time.
	p := openPage(t, srv)
	p.send(map[string]any{"type": "signin", "id": "alice", "secret": "s3cret-alice"})
	if m := p.expect("error", nil); !strings.Contains(m.str("message"), "try again in") {
		t.Errorf("right secret from the throttled address: %v", m)
	}
}
