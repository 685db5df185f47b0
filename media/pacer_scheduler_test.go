package media

import (
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

// legMode says how a test's legs send: with their own send loop, or from
// a shared Scheduler. Tests of the send side run in both (forLegModes).
type legMode struct {
	name  string
	sched *Scheduler // nil: each leg runs its own send loop
}

// forLegModes runs test once per leg mode, as subtests "own-loop" and
// "scheduler". The scheduler lives as long as its subtest; goroutine leak
// checks inside it count its workers as already running.
func forLegModes(t *testing.T, test func(t *testing.T, m legMode)) {
	t.Helper()
	t.Run("own-loop", func(t *testing.T) { test(t, legMode{name: "own-loop"}) })
	t.Run("scheduler", func(t *testing.T) {
		sched := NewScheduler(2)
		t.Cleanup(sched.Close)
		test(t, legMode{name: "scheduler", sched: sched})
	})
}

// newLegPeer is newLegPeer with the mode's scheduler.
func (m legMode) newLegPeer(t *testing.T, edit func(*RTPConfig)) *legPeer {
	t.Helper()
	return newLegPeer(t, func(c *RTPConfig) {
		c.Scheduler = m.sched
		if edit != nil {
			edit(c)
		}
	})
}

// newRTPLeg is NewRTPLeg with the mode's scheduler.
func (m legMode) newRTPLeg(t *testing.T, cfg RTPConfig) *RTPLeg {
	t.Helper()
	cfg.Scheduler = m.sched
	return NewRTPLeg(cfg)
}

// TestSchedulerPacesManyLegs starts legs at different moments on one
// scheduler and checks every leg's stream: consecutive sequence numbers,
// 160 samples per packet, about 50 packets a second, packets spaced
// about 20 ms apart.
func TestSchedulerPacesManyLegs(t *testing.T) {
	checkNoLeaks(t)
	sched := NewScheduler(2)
	t.Cleanup(sched.Close)
	const legs = 40
	const listen = time.Second
	type stream struct {
		pkts []packet
	}
	streams := make([]stream, legs)
	var wg sync.WaitGroup
	for i := range legs {
		peer := listenLoopback(t)
		conn := listenLoopback(t)
		leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger(), Scheduler: sched})
		t.Cleanup(func() { leg.Close("test over") })
		leg.Start()
		wg.Go(func() { streams[i].pkts = collect(peer, listen) })
		time.Sleep(time.Duration(i%7) * time.Millisecond / 3) // spread the legs over the slots
	}
	wg.Wait()
	if n := sched.Legs(); n != legs {
		t.Errorf("Legs() = %d, want %d", n, legs)
	}
	for i, s := range streams {
		pkts := s.pkts
		if len(pkts) < 40 || len(pkts) > 55 {
			t.Errorf("leg %d: %d packets in %v, want about 50", i, len(pkts), listen)
			continue
		}
		var late int
		for j := 1; j < len(pkts); j++ {
			p, prev := pkts[j], pkts[j-1]
			if p.SequenceNumber != prev.SequenceNumber+1 {
				t.Fatalf("leg %d packet %d: seq %d after %d", i, j, p.SequenceNumber, prev.SequenceNumber)
			}
			if step := p.Timestamp - prev.Timestamp; step != uint32(FrameSamples) && !p.Marker {
				t.Fatalf("leg %d packet %d: timestamp step %d without a marker", i, j, step)
			}
			if gap := p.At.Sub(prev.At); gap > 3*FrameDuration {
				late++
			}
		}
		// A loaded test host may stall the sender now and then; steady
		// stalls mean the scheduler does not pace.
		if late > 3 {
			t.Errorf("leg %d: %d gaps over 60 ms in %d packets", i, late, len(pkts))
		}
	}
}

// TestSchedulerForgetsEndedLegs checks that closed legs leave the
// scheduler by the time their slot comes round again.
func TestSchedulerForgetsEndedLegs(t *testing.T) {
	checkNoLeaks(t)
	sched := NewScheduler(1)
	t.Cleanup(sched.Close)
	var legs []*RTPLeg
	for range 10 {
		leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: addrOf(listenLoopback(t)), Logger: testLogger(), Scheduler: sched})
		leg.Start()
		legs = append(legs, leg)
	}
	// One leg closed before it was ever scheduled is dropped as well.
	early := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: addrOf(listenLoopback(t)), Logger: testLogger(), Scheduler: sched})
	early.Start()
	early.Close("at once")
	time.Sleep(3 * FrameDuration)
	if n := sched.Legs(); n != 10 {
		t.Errorf("Legs() = %d with 10 legs running, want 10", n)
	}
	for _, l := range legs {
		l.Close("done")
	}
	deadline := time.Now().Add(time.Second)
	for sched.Legs() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := sched.Legs(); n != 0 {
		t.Errorf("Legs() = %d after every leg closed, want 0", n)
	}
}

// TestSchedulerClose checks Close stops the workers and may be called
// twice, and that a closed scheduler's idle workers leave no goroutines.
func TestSchedulerClose(t *testing.T) {
	before := runtime.NumGoroutine()
	s := NewScheduler(3)
	if got := runtime.NumGoroutine(); got < before+3 {
		t.Errorf("%d goroutines after NewScheduler(3), want at least %d", got, before+3)
	}
	s.Close()
	s.Close()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("%d goroutines after Close, want %d", got, before)
	}
}

// TestRTPLegSendDue drives a leg's send ticks by hand, as a scheduler
// worker does, with chosen clock readings: frames due are sent back to
// back up to the pacer's catch-up limit; beyond it the leg skips ahead
// with a marker bit and a timestamp jump.
func TestRTPLegSendDue(t *testing.T) {
	peer := listenLoopback(t)
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger()})
	t.Cleanup(func() { leg.Close("test over") })
	start := time.Now()
	leg.tx.clock = newPacer(start, FrameDuration)
	ms := time.Millisecond
	steps := []struct {
		at         time.Duration // clock reading after start
		wantFrames []uint32      // frame indexes sent (timestamp offsets / 160)
		wantMarker []bool
	}{
		{0, []uint32{0}, []bool{true}},
		{10 * ms, nil, nil},                             // nothing due yet
		{20 * ms, []uint32{1}, []bool{false}},           // on time
		{75 * ms, []uint32{2, 3}, []bool{false, false}}, // late: catch up
		{300 * ms, []uint32{15}, []bool{true}},          // far too late: skip, new talkspurt
		{320 * ms, []uint32{16}, []bool{false}},
	}
	var base uint32
	for i, st := range steps {
		leg.sendDue(start.Add(st.at))
		pkts := collect(peer, 30*time.Millisecond)
		if len(pkts) != len(st.wantFrames) {
			t.Fatalf("step %d (%v): %d packets, want %d", i, st.at, len(pkts), len(st.wantFrames))
		}
		for j, p := range pkts {
			if i == 0 {
				base = p.Timestamp
			}
			if frame := (p.Timestamp - base) / uint32(FrameSamples); frame != st.wantFrames[j] || p.Marker != st.wantMarker[j] {
				t.Errorf("step %d packet %d: frame %d marker %v, want frame %d marker %v", i, j, frame, p.Marker, st.wantFrames[j], st.wantMarker[j])
			}
		}
	}
}

// TestSchedulerBalancesSlots places legs arriving exactly one frame
// period apart, as a load generator's calls do: each must go to the
// emptiest slot, not pile up in the slot that happens to come next.
func TestSchedulerBalancesSlots(t *testing.T) {
	w := &schedWorker{epoch: time.Now(), wake: make(chan struct{}, 1), io: &pretendIO{}}
	const legs = 10 * schedSlots
	for i := range legs {
		leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: addrOf(listenLoopback(t)), Logger: testLogger()})
		w.pending = append(w.pending, leg)
		// The next arrival is a whole frame later: the same phase.
		w.place(int64(i*schedSlots) + 3)
	}
	for i, slot := range w.slots {
		if len(slot) != legs/schedSlots {
			t.Errorf("slot %d holds %d legs, want %d", i, len(slot), legs/schedSlots)
		}
		for _, l := range slot {
			// Frames fall on the slot's boundaries.
			if off := l.tx.clock.start.Sub(w.epoch) % FrameDuration; off != time.Duration(i)*schedSlot {
				t.Errorf("slot %d: a leg's frames start at %v into the frame", i, off)
			}
		}
	}
}

// pretendIO is a workerIO for tests that drive a worker's methods by
// hand: it never ticks and claims to receive for every leg, so no receive
// loop starts.
type pretendIO struct{ goTimerClock }

func (*pretendIO) watch(*RTPLeg) bool { return true }

// TestSchedulerReportsLateness: with Late set, a scheduler with legs
// reports each served slot's delay — about one per slot holding legs
// (here 3 legs in at most 3 slots: 50–150 reports a second), each small
// and never negative; without legs it reports nothing.
func TestSchedulerReportsLateness(t *testing.T) {
	checkNoLeaks(t)
	var mu sync.Mutex
	var reports []time.Duration
	sched := NewSchedulerOptions(SchedulerOptions{Workers: 1, Late: func(d time.Duration) {
		mu.Lock()
		reports = append(reports, d)
		mu.Unlock()
	}})
	t.Cleanup(sched.Close)
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	idle := len(reports)
	mu.Unlock()
	if idle != 0 {
		t.Fatalf("%d lateness reports with no legs", idle)
	}
	for range 3 {
		peer := listenLoopback(t)
		leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger(), Scheduler: sched})
		t.Cleanup(func() { leg.Close("test over") })
		leg.Start()
	}
	time.Sleep(time.Second)
	mu.Lock()
	got := append([]time.Duration(nil), reports...)
	mu.Unlock()
	if len(got) < 40 || len(got) > 160 {
		t.Fatalf("%d lateness reports in a second with 3 legs, want 50–150", len(got))
	}
	var small int
	for _, d := range got {
		if d < 0 {
			t.Fatalf("negative lateness %v", d)
		}
		if d < 5*time.Millisecond {
			small++
		}
	}
	// A loaded test host may delay a wake-up now and then.
	if small < len(got)*9/10 {
		t.Errorf("only %d of %d slots served within 5 ms of their start", small, len(got))
	}
}
