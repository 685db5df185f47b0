package smpp_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging/smpp"
	"github.com/voxgate/voxgate/messaging/smpp/smsctest"
)

// run starts a client to smsc and returns it once bound.
func run(t *testing.T, cfg smpp.Config) *smpp.Client {
	t.Helper()
	c := smpp.NewClient(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitBound(t, c, true)
	return c
}

func waitBound(t *testing.T, c *smpp.Client, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Bound() != want {
		if time.Now().After(deadline) {
			t.Fatalf("client bound = %v, want %v", c.Bound(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func gsm(to, text string) *smpp.ShortMessage {
	return &smpp.ShortMessage{SourceTON: 1, SourceNPI: 1, Source: "15557654321", DestTON: 1, DestNPI: 1, Dest: to,
		RegisteredDelivery: 1, Message: []byte(text)}
}

// receipts collects deliver_sm receipts.
type receipts struct {
	mu   sync.Mutex
	msgs []string
}

func (r *receipts) onDeliver(_ context.Context, sm *smpp.ShortMessage) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, string(sm.Message))
	return smpp.ESME_ROK
}

func (r *receipts) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliver_sm, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientTransceiverSubmitAndReceipt(t *testing.T) {
	s := smsctest.Start(t)
	var r receipts
	c := run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", SystemType: "vg", OnDeliver: r.onDeliver})
	id, err := c.Submit(context.Background(), gsm("15550001111", "Hi back"))
	if err != nil || id == "" {
		t.Fatalf("Submit = %q, %v", id, err)
	}
	got := r.wait(t, 1)
	if !strings.HasPrefix(got[0], "id:"+id+" ") || !strings.Contains(got[0], "stat:DELIVRD") {
		t.Errorf("receipt %q for id %q", got[0], id)
	}
	b := s.Events("bind_transceiver")[0]
	if b.Int("interface_version") != 0x34 || b.Str("system_type") != "vg" {
		t.Errorf("bind %v", b)
	}
	sub := s.Events("submit_sm")[0]
	if sub.Str("to") != "15550001111" || sub.Int("to_ton") != 1 || sub.Str("text") != "Hi back" || sub.Int("registered_delivery") != 1 {
		t.Errorf("submit_sm %v", sub)
	}
	if n := s.WaitEvents(t, "deliver_sm_resp", 1, 5*time.Second)[0].Int("command_status"); n != 0 {
		t.Errorf("deliver_sm_resp status %d", n)
	}
}

func TestClientSeparateBinds(t *testing.T) {
	s := smsctest.Start(t)
	var r receipts
	c := run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", Bind: smpp.TransmitterReceiver, OnDeliver: r.onDeliver})
	if _, err := c.Submit(context.Background(), gsm("15550001111", "two binds")); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 1)
	if len(s.Events("bind_transmitter")) != 1 || len(s.Events("bind_receiver")) != 1 {
		t.Errorf("binds: %v", s.Events(""))
	}
}

func TestClientBadPasswordKeepsRetrying(t *testing.T) {
	s := smsctest.Start(t)
	c := smpp.NewClient(smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "wrong", ReconnectMin: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	s.WaitEvents(t, "bind_transceiver", 2, 10*time.Second)
	if c.Bound() {
		t.Error("bound with a wrong password")
	}
	cancel()
	<-done
}

// Every third submit_sm is throttled: all messages still get through, each
// once.
func TestClientThrottlingBackOff(t *testing.T) {
	s := smsctest.Start(t, "THROTTLE_EVERY=3")
	c := run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", ThrottleMin: 20 * time.Millisecond, ThrottleMax: 100 * time.Millisecond})
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Submit(context.Background(), gsm("1555000"+string(rune('0'+i%10)), "m")); err == nil {
				ok.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := s.Stats(t)
	if ok.Load() != 12 || st["throttled"] == 0 || st["submits"]-st["throttled"] != 12 {
		t.Errorf("ok %d, stats %v", ok.Load(), st)
	}
}

// The SMSC drops the connection: the client rebinds and submits again.
func TestClientReconnectsAfterDrop(t *testing.T) {
	s := smsctest.Start(t)
	c := run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", ReconnectMin: 50 * time.Millisecond})
	s.Drop(t)
	waitBound(t, c, false)
	waitBound(t, c, true)
	if _, err := c.Submit(context.Background(), gsm("15550001111", "after drop")); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Events("bind_transceiver")); n != 2 {
		t.Errorf("%d binds, want 2", n)
	}
}

// The client acknowledges a deliver_sm only when OnDeliver returns, with
// its status.
func TestClientAcksDeliverAfterHandler(t *testing.T) {
	s := smsctest.Start(t)
	release := make(chan struct{})
	var calls atomic.Int32
	run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", OnDeliver: func(ctx context.Context, sm *smpp.ShortMessage) uint32 {
		if calls.Add(1) == 1 {
			<-release
			return smpp.ESME_RX_T_APPN
		}
		return smpp.ESME_ROK
	}})
	res := make(chan []int, 1)
	go func() { res <- s.MO(t, "15550001111", "15557654321", "hello", 1, false) }()
	time.Sleep(100 * time.Millisecond) // give an early ack the chance to happen
	if len(s.Events("deliver_sm_resp")) != 0 {
		t.Fatal("deliver_sm acknowledged before the handler returned")
	}
	close(release)
	if st := <-res; len(st) != 1 || st[0] != int(smpp.ESME_RX_T_APPN) {
		t.Errorf("statuses %v", st)
	}
}

// An idle bind sends enquire_link and stays bound.
func TestClientEnquireLinkWhenIdle(t *testing.T) {
	s := smsctest.Start(t)
	c := run(t, smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret", EnquireLink: 100 * time.Millisecond})
	s.WaitEvents(t, "enquire_link", 2, 5*time.Second)
	if !c.Bound() {
		t.Error("unbound after keepalives")
	}
}

// On shutdown the client unbinds.
func TestClientUnbindsOnStop(t *testing.T) {
	s := smsctest.Start(t)
	c := smpp.NewClient(smpp.Config{Addr: s.Addr, SystemID: "voxgate", Password: "secret"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	waitBound(t, c, true)
	cancel()
	<-done
	s.WaitEvents(t, "unbind", 1, 5*time.Second)
}
