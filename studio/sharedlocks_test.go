package studio

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedLocks stands in for the locks gateways sharing a database take
// (PostgreSQL advisory locks): one set for every executor of a test.
type sharedLocks struct {
	k    keyedMutex
	mu   sync.Mutex
	keys []string
}

func (l *sharedLocks) Lock(_ context.Context, key string) (func(), error) {
	l.mu.Lock()
	l.keys = append(l.keys, key)
	l.mu.Unlock()
	return l.k.lock(key), nil
}

func (l *sharedLocks) taken(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, k := range l.keys {
		if k == key {
			n++
		}
	}
	return n
}

// TestReplyTimeoutFiresOnceAcrossNodes: two executors on one store (two
// gateways) both re-arm a waiting execution's reply timer; when it is
// due, both fire it under the contact's shared lock, and the flow moves
// on once: one timeout message.
func TestReplyTimeoutFiresOnceAcrossNodes(t *testing.T) {
	s := &fakeSender{}
	locks := &sharedLocks{k: keyedMutex{m: map[string]*keyedEntry{}}}
	h := newHarness(t, Options{Messages: s, SharedLocks: locks})
	h.load("FWsms", "testdata/sms_flow.json", nil)
	ctx := context.Background()
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550001111", "hi")); err != nil {
		t.Fatal(err)
	}
	key := contactKey("FWsms", "+15550001111")
	if locks.taken(key) != 1 {
		t.Fatalf("the inbound message did not take the contact's shared lock: %v", locks.keys)
	}
	other := NewExecutor(Options{Flows: h.flows, Store: h.store, Clock: h.clock, PublicURL: h.srv.URL, Messages: s, SharedLocks: locks})
	if err := other.ResumeWaiting(ctx); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Second)
	waitFor(t, "the timeout message", func() bool { return len(s.bodies()) == 2 })
	other.Close() // waits for its timer's work
	h.x.Close()
	timeouts := 0
	for _, b := range s.bodies() {
		if strings.HasSuffix(b, "No answer, bye.") {
			timeouts++
		}
	}
	if timeouts != 1 {
		t.Errorf("timeout messages %d, want 1: %q", timeouts, s.bodies())
	}
	if n := locks.taken(key); n != 3 {
		t.Errorf("the contact's shared lock was taken %d times, want 3 (the message, each node's timer)", n)
	}
}
