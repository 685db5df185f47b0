package web

import (
	"net/netip"
	"sync"
	"time"
)

// Sign-in throttling (see signInGuard).
const (
	sourceFreeFailures = 5                // failed sign-ins from one address before it waits
	sourceMaxBackoff   = time.Minute      // longest wait for one address
	agentFreeFailures  = 10               // failed sign-ins for one agent, from anywhere, before attempts are spaced
	agentSpacing       = 2 * time.Second  // then: one attempt per this, for that agent, from addresses not known to it
	failureMemory      = 15 * time.Minute // failures are forgotten after this long without one
	knownMemory        = 30 * 24 * time.Hour
	maxTracked         = 100_000 // entries per map before new addresses share one slot
)

// signInGuard slows down guessing of agent secrets across connections:
//
//   - per source address: after sourceFreeFailures failures, the address
//     must wait (1 s, doubling per further failure, at most
//     sourceMaxBackoff) before its next attempt is even checked;
//   - per agent: after agentFreeFailures failures from any addresses,
//     attempts for that agent are spaced agentSpacing apart, so many
//     addresses together cannot guess fast either;
//   - an address the agent has signed in from before is never held back
//     by the per-agent spacing, so an attacker elsewhere cannot lock the
//     real agent out (only its own address).
//
// It is safe for concurrent use.
type signInGuard struct {
	now func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*failures
	agents  map[string]*agentFailures
	known   map[knownKey]time.Time // (address, agent) → last successful sign-in
	swept   time.Time
}

type failures struct {
	n     int
	until time.Time // no attempt is checked before this
	last  time.Time
}

type agentFailures struct {
	failures
	next time.Time // the next attempt from an unknown address may come at this time
}

type knownKey struct {
	src   netip.Addr
	agent string
}

func newSignInGuard(now func() time.Time) *signInGuard {
	if now == nil {
		now = time.Now
	}
	return &signInGuard{now: now, sources: map[netip.Addr]*failures{}, agents: map[string]*agentFailures{}, known: map[knownKey]time.Time{}}
}

// attempt reports whether a sign-in attempt from src as agent may be
// checked now; when not, wait says how long until it may. An attempt let
// through counts as a failure until succeeded says otherwise, so that
// attempts arriving at the same moment on many connections are counted
// before any of them is checked.
func (g *signInGuard) attempt(src netip.Addr, agent string) (ok bool, wait time.Duration) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	s := g.sources[src]
	if s != nil && now.Before(s.until) {
		return false, s.until.Sub(now)
	}
	a := g.agents[agent]
	if a != nil && a.n >= agentFreeFailures && !g.isKnown(src, agent, now) {
		if now.Before(a.next) {
			return false, a.next.Sub(now)
		}
		a.next = now.Add(agentSpacing)
	}
	if s == nil {
		s = g.newSource(src)
	}
	s.n++
	s.last = now
	if s.n >= sourceFreeFailures {
		s.until = now.Add(min(time.Second<<min(s.n-sourceFreeFailures, 16), sourceMaxBackoff))
	}
	if a == nil && len(g.agents) < maxTracked {
		a = &agentFailures{}
		g.agents[agent] = a
	}
	if a != nil {
		a.n++
		a.last = now
	}
	return true, 0
}

// newSource adds src's failure record; beyond maxTracked addresses, new
// ones share one record. g.mu is held.
func (g *signInGuard) newSource(src netip.Addr) *failures {
	if len(g.sources) >= maxTracked {
		src = netip.Addr{}
	}
	s := g.sources[src]
	if s == nil {
		s = &failures{}
		g.sources[src] = s
	}
	return s
}

// succeeded records that the attempt from src as agent was right: the
// address's failures are forgotten, the attempt no longer counts against
// the agent, and the address becomes known to the agent.
func (g *signInGuard) succeeded(src netip.Addr, agent string) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.sources, src)
	if a := g.agents[agent]; a != nil && a.n > 0 {
		a.n--
	}
	if len(g.known) < maxTracked {
		g.known[knownKey{src, agent}] = now
	}
}

func (g *signInGuard) isKnown(src netip.Addr, agent string, now time.Time) bool {
	at, ok := g.known[knownKey{src, agent}]
	return ok && now.Sub(at) < knownMemory
}

// sweep forgets old failures and known addresses, at most once a minute.
func (g *signInGuard) sweep(now time.Time) {
	if now.Sub(g.swept) < time.Minute {
		return
	}
	g.swept = now
	for k, s := range g.sources {
		if now.Sub(s.last) >= failureMemory && !now.Before(s.until) {
			delete(g.sources, k)
		}
	}
	for k, a := range g.agents {
		if now.Sub(a.last) >= failureMemory {
			delete(g.agents, k)
		}
	}
	for k, at := range g.known {
		if now.Sub(at) >= knownMemory {
			delete(g.known, k)
		}
	}
}
