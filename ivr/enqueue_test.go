package ivr

import (
	"github.com/voxgate/voxgate/media/mediatest"
	"testing"
	"time"

	"github.com/voxgate/voxgate/queue"
)

func queueHarness(t *testing.T, doc string) (*harness, *queue.Manager) {
	h := newHarness(t, nil)
	m := queue.NewManager(queue.Config{OfferTimeout: 5 * time.Second})
	t.Cleanup(m.Close)
	h.eng.cfg.Queues = m
	h.app.set("/voice", doc)
	h.app.set("/after", `<Response><Hangup/></Response>`)
	return h, m
}

func agentTakes(t *testing.T, m *queue.Manager, q string) (*queue.AgentSession, *mediatest.Leg) {
	t.Helper()
	a, err := m.SignIn(queue.Agent{ID: "alice", Name: "Alice", Queues: []string{q}})
	if err != nil {
		t.Fatal(err)
	}
	a.SetAvailable(true)
	leg := mediatest.NewLeg()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-a.Events():
			if ev.Kind == queue.OfferMade {
				if err := a.Accept(ev.Offer.ID, leg); err != nil {
					t.Fatalf("accept: %v", err)
				}
				return a, leg
			}
		case <-deadline:
			t.Fatal("the agent got no offer")
		}
	}
}

func TestEnqueueHoldMusicThenAgentBridged(t *testing.T) {
	h, m := queueHarness(t, `<Response><Enqueue action="/after">support</Enqueue><Say>never</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1) // hold music started
	_, agentLeg := agentTakes(t, m, "support")
	time.Sleep(100 * time.Millisecond)
	agentLeg.Close("agent hung up")
	h.wait(t)
	a := h.app.requests("/after")
	if len(a) != 1 {
		t.Fatalf("action requested %d times", len(a))
	}
	f := a[0].form
	if f.Get("QueueResult") != "bridged" || f.Get("QueueSid") == "" || f.Get("QueueTime") == "" {
		t.Errorf("action params %v", f)
	}
}

func TestEnqueueWaitURLLoopAndLeave(t *testing.T) {
	h, _ := queueHarness(t, `<Response><Enqueue waitUrl="/wait" action="/after">sales</Enqueue></Response>`)
	h.app.set("/wait", `<Response><Say>please hold</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	// The wait document is requested again each time it ends.
	deadline := time.Now().Add(5 * time.Second)
	for len(h.app.requests("/wait")) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	w := h.app.requests("/wait")
	if len(w) < 3 {
		t.Fatalf("waitUrl requested %d times, want it looped", len(w))
	}
	f := w[0].form
	if f.Get("QueuePosition") != "1" || f.Get("CurrentQueueSize") != "1" || f.Get("MaxQueueSize") != "1000" || f.Get("QueueSid") == "" {
		t.Errorf("waitUrl params %v", f)
	}
	h.app.set("/wait", `<Response><Leave/></Response>`)
	h.wait(t)
	a := h.app.requests("/after")
	if len(a) != 1 || a[0].form.Get("QueueResult") != "leave" {
		t.Fatalf("action %v, want QueueResult=leave", a)
	}
}

func TestEnqueueForbiddenVerbInWaitURL(t *testing.T) {
	h, _ := queueHarness(t, `<Response><Enqueue waitUrl="/wait" action="/after">sales</Enqueue></Response>`)
	h.app.set("/wait", `<Response><Dial>+1555</Dial></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	a := h.app.requests("/after")
	if len(a) != 1 || a[0].form.Get("QueueResult") != "error" {
		t.Fatalf("action %v, want QueueResult=error", a)
	}
}

func TestEnqueueFull(t *testing.T) {
	h1, m := queueHarness(t, `<Response><Enqueue maxQueueSize="1">tiny</Enqueue></Response>`)
	h1.start(App{VoiceURL: h1.app.url("/voice")})
	waitPlays(t, h1.call.leg, 1)

	h2 := newHarness(t, nil)
	h2.eng.cfg.Queues = m
	h2.app.set("/voice", `<Response><Enqueue maxQueueSize="1" action="/after">tiny</Enqueue></Response>`)
	h2.app.set("/after", `<Response><Hangup/></Response>`)
	h2.start(App{VoiceURL: h2.app.url("/voice")})
	h2.wait(t)
	a := h2.app.requests("/after")
	if len(a) != 1 || a[0].form.Get("QueueResult") != "queue-full" {
		t.Fatalf("second caller's action %v, want QueueResult=queue-full", a)
	}
	h1.call.leg.Close("bye")
	h1.wait(t)
}

func TestDialQueueTakesFrontCaller(t *testing.T) {
	// Caller 1 waits in "support"; caller 2 dials the queue and is bridged to it.
	h1, m := queueHarness(t, `<Response><Enqueue action="/after">support</Enqueue></Response>`)
	h1.start(App{VoiceURL: h1.app.url("/voice")})
	waitPlays(t, h1.call.leg, 1)

	h2 := newHarness(t, nil)
	h2.eng.cfg.Queues = m
	h2.app.set("/voice", `<Response><Dial action="/dialed"><Queue>support</Queue></Dial></Response>`)
	h2.app.set("/dialed", `<Response><Hangup/></Response>`)
	info := CallInfo{SID: "CA00000000000000000000000000000002", From: "+15550002222", To: "+15550001000"}
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		h2.eng.Run(t.Context(), info, h2.call, App{VoiceURL: h2.app.url("/voice")})
	}()
	time.Sleep(300 * time.Millisecond)
	h1.call.leg.Close("caller 1 hangs up") // ends the bridge
	h1.wait(t)
	select {
	case <-done2:
	case <-time.After(5 * time.Second):
		t.Fatal("the dialling call did not finish")
	}
	d := h2.app.requests("/dialed")
	if len(d) != 1 || d[0].form.Get("DialCallStatus") != "completed" || d[0].form.Get("DialCallSid") != "CA00000000000000000000000000000001" {
		t.Fatalf("Dial action %v", d)
	}
	a := h1.app.requests("/after")
	if len(a) != 1 || a[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("Enqueue action %v", a)
	}
}
