package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRTPLegSendsPacedSilence(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		for _, codec := range []Codec{PCMU, PCMA} {
			t.Run(codec.Name, func(t *testing.T) {
				lp := m.newLegPeer(t, func(c *RTPConfig) { c.Codec = codec })
				pkts := collect(lp.peer, time.Second)
				if len(pkts) < 2 {
					t.Fatalf("got %d packets in 1 s", len(pkts))
				}
				silence := silencePayload(codec)
				first, last := pkts[0], pkts[len(pkts)-1]
				// 50 frames a second on the media clock; every frame sent
				// unless the host stalled the sender for more than a few
				// frames, which shows as a timestamp jump with a marker.
				frames := int(last.Timestamp-first.Timestamp)/FrameSamples + 1
				if wall := int(last.At.Sub(first.At)/FrameDuration) + 1; frames < wall-5 || frames > wall+5 {
					t.Errorf("media clock advanced %d frames in %d frames of real time", frames, wall)
				}
				if frames < 45 || frames > 55 {
					t.Errorf("media clock advanced %d frames in 1 s, want about 50", frames)
				}
				if len(pkts) < frames-2 {
					t.Logf("%d packets for %d frames: the host stalled the sender", len(pkts), frames)
				}
				if !first.Marker {
					t.Error("first packet has no marker bit")
				}
				if first.From != lp.leg.LocalAddr() {
					t.Errorf("packets come from %v, want the leg's address %v", first.From, lp.leg.LocalAddr())
				}
				for i, p := range pkts {
					if p.PayloadType != codec.PayloadType || p.SSRC != first.SSRC {
						t.Fatalf("packet %d: PT %d SSRC %x, want PT %d SSRC %x", i, p.PayloadType, p.SSRC, codec.PayloadType, first.SSRC)
					}
					if want := first.SequenceNumber + uint16(i); p.SequenceNumber != want {
						t.Fatalf("packet %d: seq %d, want %d", i, p.SequenceNumber, want)
					}
					if !bytes.Equal(p.Payload, silence) {
						t.Fatalf("packet %d: payload is not %s silence", i, codec.Name)
					}
					if i == 0 {
						continue
					}
					switch step := p.Timestamp - pkts[i-1].Timestamp; {
					case step == uint32(FrameSamples):
						if p.Marker {
							t.Errorf("packet %d has the marker bit", i)
						}
					case step%uint32(FrameSamples) == 0 && step != 0 && p.Marker:
						t.Logf("host stalled the sender: %d frames skipped", step/uint32(FrameSamples)-1)
					default:
						t.Fatalf("packet %d: timestamp step %d (marker %v), want 160, or a jump with the marker bit", i, step, p.Marker)
					}
				}
				st := lp.leg.Stats()
				if st.LocalSSRC != first.SSRC || st.PacketsSent < uint64(len(pkts)) || st.BytesSent != st.PacketsSent*uint64(FrameSamples) || st.FirstSent.IsZero() {
					t.Errorf("stats %+v do not match %d packets seen", st, len(pkts))
				}
			})
		}
	})
}

func TestRTPLegRandomStreamIdentity(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		// Two legs must not start with the same SSRC, sequence number and
		// timestamp (random starts, RFC 3550 5.1).
		a := m.newLegPeer(t, nil)
		b := m.newLegPeer(t, nil)
		pa, err := readPacket(a.peer, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := readPacket(b.peer, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if pa.SSRC == pb.SSRC && pa.SequenceNumber == pb.SequenceNumber && pa.Timestamp == pb.Timestamp {
			t.Errorf("two legs started identically: %+v", pa.Header)
		}
	})
}

func TestRTPLegPlayArrivesDecoded(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		for _, codec := range []Codec{PCMU, PCMA} {
			t.Run(codec.Name, func(t *testing.T) {
				lp := m.newLegPeer(t, func(c *RTPConfig) { c.Codec = codec })
				signal := testSignal(SampleRate) // 1 s
				stop := make(chan struct{})
				got := collectUntil(lp.peer, stop)

				time.Sleep(60 * time.Millisecond) // some silence first
				start := time.Now()
				err := lp.leg.Play(context.Background(), &sliceSource{samples: signal})
				took := time.Since(start)
				time.Sleep(60 * time.Millisecond)
				close(stop)
				pkts := <-got

				if err != nil {
					t.Fatalf("Play: %v", err)
				}
				// 50 frames go out at 20 ms intervals: 49 intervals at least.
				if took < 49*FrameDuration {
					t.Errorf("Play of 1 s returned after %v, before the audio was sent", took)
				}
				silence := silencePayload(codec)
				begin := slices.IndexFunc(pkts, func(p packet) bool { return !bytes.Equal(p.Payload, silence) })
				if begin < 1 {
					t.Fatalf("no silence before the signal (signal starts at packet %d of %d)", begin, len(pkts))
				}
				const frames = SampleRate / FrameSamples
				if len(pkts) < begin+frames+1 {
					t.Fatalf("only %d packets after the signal started, want %d and silence", len(pkts)-begin, frames+1)
				}
				var decoded []int16
				for i, p := range pkts[begin : begin+frames] {
					if p.SequenceNumber != pkts[begin].SequenceNumber+uint16(i) {
						t.Fatalf("packet %d of the signal out of sequence", i)
					}
					decoded = codec.Decode(decoded, p.Payload)
				}
				if want := roundTrip(codec, signal); !slices.Equal(decoded, want) {
					t.Errorf("decoded signal differs from the G.711 round trip of what was played")
				}
				for i, p := range pkts[begin+frames:] {
					if !bytes.Equal(p.Payload, silence) {
						t.Fatalf("packet %d after the signal is not silence", i)
					}
				}
				// Play returns when the audio ends: 1 s on the media clock
				// (which jumps ahead if the host stalls the sender, so this
				// holds on a loaded machine too).
				end := pkts[begin+frames]
				audio := time.Duration(end.Timestamp-pkts[begin].Timestamp) * time.Second / SampleRate
				if took > audio+100*time.Millisecond {
					t.Errorf("Play returned after %v; the audio took %v", took, audio)
				}
				t.Logf("Play of 1 s returned after %v (audio on the media clock %v)", took, audio)
			})
		}
	})
}

func TestRTPLegPlayCancel(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		stop := make(chan struct{})
		got := collectUntil(lp.peer, stop)
		src := &sliceSource{samples: testSignal(SampleRate), loop: true}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- lp.leg.Play(ctx, src) }()

		time.Sleep(200 * time.Millisecond)
		cancel()
		cancelled := time.Now()
		var err error
		select {
		case err = <-errc:
		case <-time.After(time.Second):
			t.Fatal("Play did not return after cancel")
		}
		if took := time.Since(cancelled); took > FrameDuration {
			t.Errorf("Play returned %v after cancel, want within one frame", took) // it does not wait for a tick
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Play = %v, want context.Canceled", err)
		}
		reads := src.Reads()
		if reads < 5 {
			t.Errorf("source read %d times in 200 ms", reads)
		}
		time.Sleep(200 * time.Millisecond)
		close(stop)
		pkts := <-got

		// The leg must not touch the source once Play has returned; every
		// frame it read went out, and only silence follows.
		if n := src.Reads(); n != reads {
			t.Errorf("source read %d more times after Play returned", n-reads)
		}
		silence := silencePayload(PCMU)
		var loud, lastLoud int
		for i, p := range pkts {
			if !bytes.Equal(p.Payload, silence) {
				loud++
				lastLoud = i
			}
		}
		if loud != reads {
			t.Errorf("%d signal packets arrived for %d frames read", loud, reads)
		}
		if trailing := len(pkts) - 1 - lastLoud; trailing < 5 {
			t.Errorf("only %d silent packets after the cancelled Play", trailing)
		}
	})
}

func TestRTPLegPlayShortFramesAndErrors(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)

		// A source that fails ends Play with its error.
		boom := errors.New("decoder broke")
		err := lp.leg.Play(context.Background(), sourceFunc(func(p []int16) (int, error) { return 0, boom }))
		if !errors.Is(err, boom) {
			t.Errorf("Play of a failing source = %v, want it to wrap %v", err, boom)
		}

		// A short frame is padded with silence; n larger than p is clamped.
		calls := 0
		src := sourceFunc(func(p []int16) (int, error) {
			calls++
			switch calls {
			case 1:
				for i := range p {
					p[i] = 1000
				}
				return 40, nil
			case 2:
				return len(p) + 10, nil // misbehaving source
			}
			return 0, io.EOF
		})
		stop := make(chan struct{})
		got := collectUntil(lp.peer, stop)
		if err := lp.leg.Play(context.Background(), src); err != nil {
			t.Fatalf("Play: %v", err)
		}
		time.Sleep(40 * time.Millisecond)
		close(stop)
		pkts := <-got
		loud := PCMU.Encode(nil, []int16{1000})[0]
		var found bool
		for _, p := range pkts {
			if p.Payload[0] == loud {
				found = true
				if !bytes.Equal(p.Payload[40:], silencePayload(PCMU)[40:]) || p.Payload[39] != loud {
					t.Errorf("short frame not padded with silence: % x", p.Payload)
				}
			}
		}
		if !found {
			t.Error("short frame never arrived")
		}
	})
}

type sourceFunc func(p []int16) (int, error)

func (f sourceFunc) ReadFrame(p []int16) (int, error) { return f(p) }

func TestRTPLegPlaySerialized(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		a := &sliceSource{samples: testSignal(FrameSamples * 10)}
		b := &sliceSource{samples: testSignal(FrameSamples * 10)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var order []string
		for name, src := range map[string]*sliceSource{"a": a, "b": b} {
			wg.Go(func() {
				if err := lp.leg.Play(context.Background(), src); err != nil {
					t.Errorf("Play %s: %v", name, err)
				}
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
			})
		}
		wg.Wait()
		// Each source was read frame by frame to its end (10 frames and the
		// EOF): had the Plays overlapped, one would have been cut short.
		if a.Reads() != 11 || b.Reads() != 11 {
			t.Errorf("reads a=%d b=%d, want 11 each", a.Reads(), b.Reads())
		}
		if len(order) != 2 {
			t.Errorf("finished: %v", order)
		}
	})
}

func TestRTPLegHoldAndResume(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.InactivityTimeout = 150 * time.Millisecond })
		before, err := readPacket(lp.peer, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Keep the leg alive until it is put on hold.
		sendRTP(t, lp.peer, lp.leg.LocalAddr(), rtpHeader(PCMU.PayloadType, 1, 0, 7), silencePayload(PCMU))
		lp.leg.SetHold(true)
		collect(lp.peer, 40*time.Millisecond) // drain what was in flight
		if pkts := collect(lp.peer, 400*time.Millisecond); len(pkts) != 0 {
			t.Fatalf("%d packets sent while on hold", len(pkts))
		}
		select {
		case <-lp.leg.Done():
			t.Fatalf("leg ended on hold (%s): the inactivity timer must pause", lp.leg.Reason())
		default:
		}
		lp.leg.SetHold(false)
		after, err := readPacket(lp.peer, time.Second)
		if err != nil {
			t.Fatalf("no packet after hold ended: %v", err)
		}
		if !after.Marker {
			t.Error("first packet after hold has no marker bit")
		}
		if after.SSRC != before.SSRC {
			t.Error("SSRC changed across hold")
		}
		// Sequence numbers continue; the timestamp jumps by the time on hold.
		tsFrames := int(after.Timestamp-before.Timestamp) / FrameSamples
		wallFrames := int(after.At.Sub(before.At) / FrameDuration)
		seqStep := int(after.SequenceNumber - before.SequenceNumber)
		if seqStep >= tsFrames-10 {
			t.Errorf("seq advanced %d and timestamp %d frames across hold; want the timestamp to jump past the unsent frames", seqStep, tsFrames)
		}
		if tsFrames < wallFrames-10 || tsFrames > wallFrames+10 {
			t.Errorf("timestamp advanced %d frames in %d frames of real time", tsFrames, wallFrames)
		}
		// The inactivity timer restarted when hold ended: with no RTP coming
		// in, the leg now times out.
		select {
		case <-lp.leg.Done():
			if r := lp.leg.Reason(); r != "rtp-timeout" {
				t.Errorf("Reason = %q, want rtp-timeout", r)
			}
		case <-time.After(2 * time.Second):
			t.Error("leg did not time out after hold ended")
		}
	})
}

func TestRTPLegUpdate(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.Codec = PCMU })
		before, err := readPacket(lp.peer, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		peer2 := listenLoopback(t)
		lp.leg.Update(addrOf(peer2), PCMA, 101)
		after, err := readPacket(peer2, time.Second)
		if err != nil {
			t.Fatalf("nothing arrived at the new address: %v", err)
		}
		if after.PayloadType != PCMA.PayloadType || !bytes.Equal(after.Payload, silencePayload(PCMA)) {
			t.Errorf("after Update: PT %d, want PCMA silence", after.PayloadType)
		}
		if after.SSRC != before.SSRC {
			t.Error("SSRC changed on Update")
		}
		seqStep := after.SequenceNumber - before.SequenceNumber
		tsStep := after.Timestamp - before.Timestamp
		if seqStep == 0 || seqStep > 20 || tsStep != uint32(seqStep)*uint32(FrameSamples) {
			t.Errorf("seq +%d ts +%d across Update: the stream must continue", seqStep, tsStep)
		}
		st := lp.leg.Stats()
		if st.Remote != addrOf(peer2) || st.Latched {
			t.Errorf("stats remote %v latched %v after Update", st.Remote, st.Latched)
		}
	})
}

func TestRTPLegInactivityTimeout(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		t.Run("silent peer", func(t *testing.T) {
			lp := m.newLegPeer(t, func(c *RTPConfig) { c.InactivityTimeout = 150 * time.Millisecond })
			start := time.Now()
			select {
			case <-lp.leg.Done():
			case <-time.After(2 * time.Second):
				t.Fatal("leg did not time out")
			}
			if took := time.Since(start); took < 150*time.Millisecond {
				t.Errorf("timed out after %v, before the timeout", took)
			}
			if r := lp.leg.Reason(); r != "rtp-timeout" {
				t.Errorf("Reason = %q, want rtp-timeout", r)
			}
			if err := lp.leg.Play(context.Background(), &sliceSource{}); !errors.Is(err, ErrLegClosed) {
				t.Errorf("Play after timeout = %v, want ErrLegClosed", err)
			}
		})
		t.Run("talking peer", func(t *testing.T) {
			lp := m.newLegPeer(t, func(c *RTPConfig) { c.InactivityTimeout = 150 * time.Millisecond })
			for i := range 25 { // 500 ms of packets
				sendRTP(t, lp.peer, lp.leg.LocalAddr(), rtpHeader(PCMU.PayloadType, uint16(i), uint32(i*FrameSamples), 1), silencePayload(PCMU))
				time.Sleep(FrameDuration)
				select {
				case <-lp.leg.Done():
					t.Fatalf("leg ended (%s) while packets arrive", lp.leg.Reason())
				default:
				}
			}
		})
	})
}

func TestRTPLegClose(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		ctx := context.Background()
		playErr := make(chan error, 1)
		recErr := make(chan error, 1)
		dtmfErr := make(chan error, 1)
		go func() { playErr <- lp.leg.Play(ctx, &sliceSource{samples: testSignal(FrameSamples), loop: true}) }()
		go func() { recErr <- lp.leg.Record(ctx, &frameSink{}) }()
		time.Sleep(50 * time.Millisecond)
		go func() { dtmfErr <- lp.leg.SendDTMF(ctx, "123") }() // in-band: waits for the Play
		time.Sleep(50 * time.Millisecond)

		if err := lp.leg.Close("hangup"); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := lp.leg.Close("again"); err != nil {
			t.Errorf("second Close: %v", err)
		}
		select {
		case <-lp.leg.Done():
		default:
			t.Fatal("Done not closed after Close")
		}
		if r := lp.leg.Reason(); r != "closed: hangup" {
			t.Errorf("Reason = %q, want %q", r, "closed: hangup")
		}
		for name, c := range map[string]chan error{"Play": playErr, "Record": recErr, "SendDTMF": dtmfErr} {
			select {
			case err := <-c:
				if !errors.Is(err, ErrLegClosed) {
					t.Errorf("%s = %v, want ErrLegClosed", name, err)
				}
			case <-time.After(time.Second):
				t.Errorf("%s still blocked after Close", name)
			}
		}
		if err := lp.leg.Play(ctx, &sliceSource{}); !errors.Is(err, ErrLegClosed) {
			t.Errorf("Play after Close = %v", err)
		}
		if err := lp.leg.Record(ctx, &frameSink{}); !errors.Is(err, ErrLegClosed) {
			t.Errorf("Record after Close = %v", err)
		}
		if err := lp.leg.SendDTMF(ctx, "1"); !errors.Is(err, ErrLegClosed) {
			t.Errorf("SendDTMF after Close = %v", err)
		}
		// The socket is closed: its port can be bound again.
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(lp.leg.LocalAddr()))
		if err != nil {
			t.Fatalf("port still held after Close: %v", err)
		}
		c.Close()
		// Nothing is sent any more.
		collect(lp.peer, 30*time.Millisecond)
		if pkts := collect(lp.peer, 100*time.Millisecond); len(pkts) != 0 {
			t.Errorf("%d packets after Close", len(pkts))
		}
	})
}

func TestRTPLegCloseBeforeStart(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		checkNoLeaks(t)
		leg := m.newRTPLeg(t, RTPConfig{Conn: listenLoopback(t), Logger: testLogger()})
		leg.Close("never started")
		leg.Start() // must not start loops on a closed leg
		if !strings.HasPrefix(leg.Reason(), "closed: ") {
			t.Errorf("Reason = %q", leg.Reason())
		}
	})
}

func TestRTPLegNoGoroutineLeak(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		checkNoLeaks(t)
		var legs []*RTPLeg
		for range 20 {
			leg := m.newRTPLeg(t, RTPConfig{Conn: listenLoopback(t), Remote: addrOf(listenLoopback(t)), Logger: testLogger()})
			leg.Start()
			legs = append(legs, leg)
		}
		time.Sleep(50 * time.Millisecond)
		for _, leg := range legs {
			leg.Close("done")
		}
		// checkNoLeaks verifies at cleanup that all 40 loops ended.
	})
}

func TestCanSendTo(t *testing.T) {
	tests := []struct {
		remote string
		want   bool
	}{
		{"127.0.0.1:4000", true},
		{"[::1]:4000", true},
		{"0.0.0.0:4000", false},
		{"[::]:4000", false},
		{"127.0.0.1:0", false},
		{"", false},
	}
	for _, tc := range tests {
		var ap netip.AddrPort
		if tc.remote != "" {
			ap = netip.MustParseAddrPort(tc.remote)
		}
		if got := canSendTo(ap); got != tc.want {
			t.Errorf("canSendTo(%q) = %v, want %v", tc.remote, got, tc.want)
		}
	}
}

func TestRTPLegSocketError(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		checkNoLeaks(t)
		conn := listenLoopback(t)
		leg := m.newRTPLeg(t, RTPConfig{Conn: conn, Remote: addrOf(listenLoopback(t)), Logger: testLogger()})
		leg.Start()
		time.Sleep(30 * time.Millisecond)
		conn.Close() // closed behind the leg's back
		select {
		case <-leg.Done():
		case <-time.After(time.Second):
			t.Fatal("leg did not end when its socket failed")
		}
		if r := leg.Reason(); !strings.HasPrefix(r, "socket-error: ") {
			t.Errorf("Reason = %q, want socket-error: ...", r)
		}
	})
}
