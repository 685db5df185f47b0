package studio

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeSender records the messages widgets send.
type fakeSender struct {
	mu   sync.Mutex
	sent []OutgoingMessage
}

func (f *fakeSender) SendMessage(_ context.Context, m OutgoingMessage) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	sid := fmt.Sprintf("SM%032d", len(f.sent))
	return map[string]any{"Sid": sid, "Status": "queued", "Body": m.Body, "From": m.From, "To": m.To}, nil
}

func (f *fakeSender) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		out = append(out, m.To+": "+m.Body)
	}
	return out
}

func inbound(from, body string) url.Values {
	return url.Values{"From": {from}, "To": {"+15557654321"}, "Body": {body}, "MessageSid": {"SMin" + body}}
}

// waitFor polls until cond holds (timers run the flow on goroutines).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMessagingFlowReplyResumes(t *testing.T) {
	s := &fakeSender{}
	h := newHarness(t, Options{Messages: s})
	h.load("FWsms", "testdata/sms_flow.json", nil)
	ctx := context.Background()
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550001111", "hello")); err != nil {
		t.Fatal(err)
	}
	if got := s.bodies(); len(got) != 1 || got[0] != "+15550001111: Hi hello! Do you want a callback? Reply YES or NO." {
		t.Fatalf("sent %q", got)
	}
	// Another contact starts their own execution meanwhile.
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550002222", "hey")); err != nil {
		t.Fatal(err)
	}
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550001111", "Yes")); err != nil {
		t.Fatal(err)
	}
	got := s.bodies()
	if len(got) != 3 || got[2] != "+15550001111: Great, we will call +15550001111." {
		t.Fatalf("sent %q", got)
	}
	exs, _ := h.store.Executions(ctx, ExecutionFilter{ContactAddress: "+15550001111"})
	if len(exs) != 1 || exs[0].Status != StatusEnded {
		t.Fatalf("executions %+v", exs)
	}
	if p := h.path(exs[0]); len(p) != 4 {
		t.Errorf("path %v", p)
	}
	// The second contact never answers: timeout.
	h.clock.Advance(6 * time.Second)
	waitFor(t, "the timeout message", func() bool { b := s.bodies(); return len(b) == 4 && b[3] == "+15550002222: No answer, bye." })
}

func TestMessagingFlowDeliveryFailureAndRestart(t *testing.T) {
	s := &fakeSender{}
	h := newHarness(t, Options{Messages: s})
	h.load("FWsms", "testdata/sms_flow.json", nil)
	ctx := context.Background()
	_ = h.x.HandleMessage(ctx, "FWsms", inbound("+15550001111", "hi"))
	_ = h.x.HandleMessage(ctx, "FWsms", inbound("+15550003333", "hi"))
	if err := h.x.MessageFailed(ctx, fmt.Sprintf("SM%032d", 1), "undelivered", 30003); err != nil {
		t.Fatal(err)
	}
	exs, _ := h.store.Executions(ctx, ExecutionFilter{ContactAddress: "+15550001111"})
	if exs[0].Status != StatusEnded || exs[0].Context["flow"].(map[string]any)["variables"].(map[string]any)["failed"] != "undelivered" {
		t.Errorf("after deliveryFailure: %+v", exs[0])
	}
	// A new executor on the same store (a restart) re-arms the reply timer.
	x2 := NewExecutor(Options{Flows: h.flows, Store: h.store, Clock: h.clock, PublicURL: h.srv.URL, Messages: s})
	defer x2.Close()
	h.x.Close()
	if err := x2.ResumeWaiting(ctx); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Second)
	waitFor(t, "the timeout after the restart", func() bool {
		b := s.bodies()
		return len(b) == 3 && b[2] == "+15550003333: No answer, bye."
	})
}

// A REST-started execution texts the contact (incomingRequest →
// send-and-wait-for-reply); the contact's reply resumes that execution.
func TestMessagingFlowRESTStartThenReply(t *testing.T) {
	s := &fakeSender{}
	h := newHarness(t, Options{Messages: s})
	h.load("FWsms", "testdata/sms_flow.json", nil)
	ctx := context.Background()
	ex, err := h.x.StartExecution(ctx, "FWsms", "+15550004444", "+15557654321", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the question", func() bool { return len(s.bodies()) == 1 })
	waitFor(t, "the execution to wait", func() bool {
		e, err := h.store.Execution(ctx, ex.Sid)
		return err == nil && e.Runtime.AwaitReply
	})
	if got := s.bodies()[0]; got != "+15550004444: Hi there! Do you want a callback? Reply YES or NO." {
		t.Errorf("question %q", got)
	}
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550004444", "no")); err != nil {
		t.Fatal(err)
	}
	if got := s.bodies(); len(got) != 2 || got[1] != "+15550004444: OK, no callback (no)." {
		t.Errorf("sent %q", got)
	}
	all, _ := h.store.Executions(ctx, ExecutionFilter{ContactAddress: "+15550004444"})
	if len(all) != 1 || all[0].Sid != ex.Sid || all[0].Status != StatusEnded {
		t.Errorf("executions %+v", all)
	}
}

// claimingStore is a MemoryStore whose timers are claimed once, as the
// shared database's are (store.DB.ClaimTimer).
type claimingStore struct {
	*MemoryStore
	mu      sync.Mutex
	claimed map[string]bool
}

func (c *claimingStore) ClaimTimer(_ context.Context, key string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claimed[key] {
		return false, nil
	}
	c.claimed[key] = true
	return true, nil
}

// Two gateways on one database both arm a waiting execution's reply
// timer (each re-arms them at start, a survivor takes a dead node's):
// the timeout is taken once.
func TestReplyTimerFiredOnceAcrossGateways(t *testing.T) {
	s := &fakeSender{}
	h := newHarness(t, Options{Messages: s})
	h.load("FWsms", "testdata/sms_flow.json", nil)
	ctx := context.Background()
	if err := h.x.HandleMessage(ctx, "FWsms", inbound("+15550003333", "hi")); err != nil {
		t.Fatal(err)
	}
	h.x.Close()
	shared := &claimingStore{MemoryStore: h.store, claimed: map[string]bool{}}
	for range 2 {
		x := NewExecutor(Options{Flows: h.flows, Store: shared, Clock: h.clock, PublicURL: h.srv.URL, Messages: s})
		defer x.Close()
		if err := x.ResumeWaiting(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Advance(10 * time.Second)
	waitFor(t, "the timeout", func() bool {
		b := s.bodies()
		return len(b) >= 2 && b[1] == "+15550003333: No answer, bye."
	})
	time.Sleep(300 * time.Millisecond) // room for a second firing to show
	if b := s.bodies(); len(b) != 2 {
		t.Errorf("sent %q: the timeout was taken more than once", b)
	}
}
