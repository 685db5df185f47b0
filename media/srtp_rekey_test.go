package media

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestSRTPRekeyNoLoss: two legs talk SRTP; the receiving leg learns the
// sender's new key (as from a re-INVITE's offer) 200 ms before the sender
// starts using it (as when our answer reaches it). No packet is lost on
// the way: the old key's packets are still accepted meanwhile, the new
// key's afterwards; then the other direction re-keys as well.
func TestSRTPRekeyNoLoss(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		k1, k2, k1b, k2b := srtpKey(t), srtpKey(t), srtpKey(t), srtpKey(t)
		suite := AESCM128HMACSHA1_80
		connA, connB := listenLoopback(t), listenLoopback(t)
		a := NewRTPLeg(RTPConfig{Conn: connA, Remote: addrOf(connB), Logger: testLogger(), Scheduler: m.sched, SRTP: &SRTPKeys{Suite: suite, Local: k1, Remote: k2}})
		b := NewRTPLeg(RTPConfig{Conn: connB, Remote: addrOf(connA), Logger: testLogger(), Scheduler: m.sched, SRTP: &SRTPKeys{Suite: suite, Local: k2, Remote: k1}})
		defer a.Close("test over")
		defer b.Close("test over")
		a.Start()
		b.Start()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { _ = a.Play(ctx, &sliceSource{samples: testSignal(SampleRate), loop: true}) }()
		waitFor(t, 5*time.Second, "packets through SRTP both ways", func() bool {
			return b.Stats().PacketsReceived > 10 && a.Stats().PacketsReceived > 10
		})

		// A's key changes: B first, A 200 ms later.
		if err := b.RekeySRTP(&SRTPKeys{Suite: suite, Local: k2, Remote: k1b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if err := a.RekeySRTP(&SRTPKeys{Suite: suite, Local: k1b, Remote: k2}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		// Then B's key changes: A first, B 200 ms later.
		if err := a.RekeySRTP(&SRTPKeys{Suite: suite, Local: k1b, Remote: k2b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if err := b.RekeySRTP(&SRTPKeys{Suite: suite, Local: k2b, Remote: k1b}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)

		// Both stop sending (hold); what is on its way arrives (a loaded
		// host may lag; a lost packet never arrives, and the wait then
		// ends after 3 s).
		a.SetHold(true)
		b.SetHold(true)
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) &&
			(b.Stats().PacketsReceived < a.Stats().PacketsSent || a.Stats().PacketsReceived < b.Stats().PacketsSent) {
			time.Sleep(10 * time.Millisecond)
		}
		sa, sb := a.Stats(), b.Stats()
		t.Logf("A sent %d, B accepted %d (lost %d); B sent %d, A accepted %d (lost %d)", sa.PacketsSent, sb.PacketsReceived, sb.PacketsLost, sb.PacketsSent, sa.PacketsReceived, sa.PacketsLost)
		if sb.PacketsReceived != sa.PacketsSent || sb.PacketsLost != 0 {
			t.Errorf("A to B: %d sent, %d accepted, %d lost across two re-keys", sa.PacketsSent, sb.PacketsReceived, sb.PacketsLost)
		}
		if sa.PacketsReceived != sb.PacketsSent || sa.PacketsLost != 0 {
			t.Errorf("B to A: %d sent, %d accepted, %d lost across two re-keys", sb.PacketsSent, sa.PacketsReceived, sa.PacketsLost)
		}
	})
}

// TestSRTPFallbackWindow: after a re-key the old key is accepted until
// 2 s after the new one was first used, or 32 s when it never is; a
// third key never.
func TestSRTPFallbackWindow(t *testing.T) {
	oldKey, newKey, otherKey := srtpKey(t), srtpKey(t), srtpKey(t)
	sender := func(key []byte) func(seq uint16) []byte {
		s, err := newSRTPState(AESCM128HMACSHA1_80, key)
		if err != nil {
			t.Fatal(err)
		}
		return func(seq uint16) []byte {
			pkt, _ := (&rtp.Packet{Header: rtpHeader(0, seq, uint32(seq)*160, 77), Payload: make([]byte, 160)}).Marshal()
			out, err := s.protect(pkt)
			if err != nil {
				t.Fatal(err)
			}
			return append([]byte(nil), out...)
		}
	}
	for _, newUsed := range []bool{true, false} {
		oldTx, newTx, otherTx := sender(oldKey), sender(newKey), sender(otherKey)
		l := &RTPLeg{}
		var err error
		if l.rx.srtp, err = newSRTPState(AESCM128HMACSHA1_80, oldKey); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if _, err := l.rx.unprotectSRTP(oldTx(1), t0); err != nil {
			t.Fatalf("old key before the re-key: %v", err)
		}
		l.rx.hdr.SSRC = 77
		if err := l.RekeySRTP(&SRTPKeys{Suite: AESCM128HMACSHA1_80, Local: srtpKey(t), Remote: newKey}); err != nil {
			t.Fatal(err)
		}
		l.adoptRxKey(t0)
		try := func(what string, pkt []byte, at time.Duration, ok bool) {
			t.Helper()
			if _, err := l.rx.unprotectSRTP(pkt, t0.Add(at)); (err == nil) != ok {
				t.Errorf("new key used: %v: %s at %v: error %v, want accepted=%v", newUsed, what, at, err, ok)
			}
		}
		try("old key", oldTx(2), time.Second, true)
		try("third key", otherTx(3), time.Second, false)
		if newUsed {
			try("new key", newTx(4), 2*time.Second, true)
			try("old key", oldTx(5), 3900*time.Millisecond, true)
			try("old key", oldTx(6), 4100*time.Millisecond, false)
		} else {
			try("old key", oldTx(5), 31*time.Second, true)
			try("old key", oldTx(6), 33*time.Second, false)
		}
		try("new key", newTx(7), 40*time.Second, true)
	}
}
