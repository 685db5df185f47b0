package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// recordInto starts Record(ctx, sink) and returns its result channel.
func recordInto(ctx context.Context, leg *RTPLeg, sink Sink) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- leg.Record(ctx, sink) }()
	return errc
}

// sendSignal sends pcm from c to the leg as RTP with the given ptime.
func sendSignal(t *testing.T, c *net.UDPConn, leg *RTPLeg, codec Codec, pcm []int16, ptime time.Duration, ssrc uint32) {
	t.Helper()
	per := int(ptime / (time.Second / SampleRate))
	for i := 0; i*per < len(pcm); i++ {
		chunk := pcm[i*per : min(len(pcm), (i+1)*per)]
		h := rtpHeader(codec.PayloadType, uint16(1000+i), uint32(50000+i*per), ssrc)
		h.Marker = i == 0
		sendRTP(t, c, leg.LocalAddr(), h, codec.Encode(nil, chunk))
		if i%4 == 3 {
			time.Sleep(time.Millisecond) // do not overrun the socket buffer
		}
	}
}

func TestRTPLegReceivePtimes(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		signal := testSignal(9600) // 1.2 s: a whole number of packets for every ptime
		for _, codec := range []Codec{PCMU, PCMA} {
			for _, ptime := range []time.Duration{10, 20, 30, 60} {
				ptime *= time.Millisecond
				t.Run(fmt.Sprintf("%s/%v", codec.Name, ptime), func(t *testing.T) {
					lp := m.newLegPeer(t, func(c *RTPConfig) { c.Codec = codec })
					sink := &frameSink{}
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					errc := recordInto(ctx, lp.leg, sink)
					time.Sleep(10 * time.Millisecond) // let Record register

					sendSignal(t, lp.peer, lp.leg, codec, signal, ptime, 0x1234)
					want := roundTrip(codec, signal)
					waitFor(t, 2*time.Second, "all frames", func() bool {
						_, frames, _ := sink.Snapshot()
						return frames >= len(signal)/FrameSamples
					})
					cancel()
					if err := <-errc; err != nil {
						t.Errorf("Record = %v, want nil after cancel", err)
					}
					got, frames, badLen := sink.Snapshot()
					if badLen != 0 || frames != len(signal)/FrameSamples {
						t.Errorf("%d frames (%d not 160 samples), want %d", frames, badLen, len(signal)/FrameSamples)
					}
					if !slices.Equal(got, want) {
						t.Error("decoded audio differs from what the peer sent")
					}
					st := lp.leg.Stats()
					packets := uint64(len(signal) / int(ptime/(time.Second/SampleRate)))
					if st.PacketsReceived != packets || st.BytesReceived != uint64(len(signal)) || st.PacketsLost != 0 || st.RemoteSSRC != 0x1234 {
						t.Errorf("stats %+v, want %d packets, %d bytes, none lost", st, packets, len(signal))
					}
				})
			}
		}
	})
}

func TestRTPLegRecordSinks(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		keep := &frameSink{}
		failing := &frameSink{failAt: 3}
		keepErr := recordInto(ctx, lp.leg, keep)
		failErr := recordInto(ctx, lp.leg, failing)
		time.Sleep(10 * time.Millisecond)

		signal := testSignal(10 * FrameSamples)
		sendSignal(t, lp.peer, lp.leg, PCMU, signal, 20*time.Millisecond, 7)
		select {
		case err := <-failErr:
			if !errors.Is(err, errSinkFull) {
				t.Errorf("Record with a failing sink = %v, want it to wrap %v", err, errSinkFull)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Record did not return when its sink failed")
		}
		waitFor(t, 2*time.Second, "10 frames", func() bool { _, n, _ := keep.Snapshot(); return n == 10 })
		if _, n, _ := failing.Snapshot(); n != 3 {
			t.Errorf("failing sink got %d frames, want 3 (none after its error)", n)
		}
		cancel()
		if err := <-keepErr; err != nil {
			t.Errorf("Record = %v after cancel", err)
		}
		// After Record returned, the sink gets nothing more.
		sendSignal(t, lp.peer, lp.leg, PCMU, signal, 20*time.Millisecond, 7)
		time.Sleep(50 * time.Millisecond)
		if _, n, _ := keep.Snapshot(); n != 10 {
			t.Errorf("sink got %d frames, want 10: frames arrived after Record returned", n)
		}
		if got, _, _ := keep.Snapshot(); !slices.Equal(got, roundTrip(PCMU, signal)) {
			t.Error("recorded audio differs from what was sent")
		}
	})
}

func TestRTPLegDropsDuplicatesAndCountsLoss(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := &frameSink{}
		errc := recordInto(ctx, lp.leg, sink)
		time.Sleep(10 * time.Millisecond)

		frame := func(v int16) []byte {
			pcm := make([]int16, FrameSamples)
			for i := range pcm {
				pcm[i] = v
			}
			return PCMU.Encode(nil, pcm)
		}
		// seq 1, 2, 2 (duplicate), 5 (3 and 4 lost), 4 (late), 6.
		for _, s := range []uint16{1, 2, 2, 5, 4, 6} {
			sendRTP(t, lp.peer, lp.leg.LocalAddr(), rtpHeader(0, s, uint32(s)*160, 9), frame(int16(s)*100))
		}
		waitFor(t, time.Second, "packets", func() bool { return lp.leg.Stats().PacketsReceived == 6 })
		cancel()
		<-errc
		got, frames, _ := sink.Snapshot()
		if frames != 4 {
			t.Fatalf("sink got %d frames, want 4 (duplicate and late packet dropped)", frames)
		}
		for i, want := range []int16{100, 200, 500, 600} {
			if d := PCMU.Decode(nil, PCMU.Encode(nil, []int16{want}))[0]; got[i*FrameSamples] != d {
				t.Errorf("frame %d starts with %d, want %d", i, got[i*FrameSamples], d)
			}
		}
		// Expected 1..6 = 6 packets, received 6 (the duplicate counts, as in
		// RFC 3550), so cumulative loss nets out to 0; the lone gap (3) is
		// the one never filled. RFC 3550 would report 0 here as well.
		if lost := lp.leg.Stats().PacketsLost; lost != 0 {
			t.Errorf("PacketsLost = %d, want 0 (RFC 3550 counts the duplicate)", lost)
		}
		for s := uint16(10); s < 20; s += 2 { // every other packet lost
			sendRTP(t, lp.peer, lp.leg.LocalAddr(), rtpHeader(0, s, uint32(s)*160, 9), frame(1))
		}
		waitFor(t, time.Second, "packets", func() bool { return lp.leg.Stats().PacketsReceived == 11 })
		// Expected 1..18 = 18, received 11.
		if lost := lp.leg.Stats().PacketsLost; lost != 7 {
			t.Errorf("PacketsLost = %d, want 7", lost)
		}
	})
}

func TestRTPLegSymmetricLatching(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		decoy := listenLoopback(t) // the address in the SDP: nothing sends from it
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.Remote = addrOf(decoy) })
		real := lp.peer // behind a NAT: its packets come from another address
		intruder := listenLoopback(t)

		if _, err := readPacket(decoy, time.Second); err != nil {
			t.Fatalf("before latching, packets must go to the SDP address: %v", err)
		}
		if st := lp.leg.Stats(); st.Latched || st.Remote != addrOf(decoy) {
			t.Errorf("before any packet: %+v", st)
		}
		// A non-audio payload type does not latch.
		sendRTP(t, intruder, lp.leg.LocalAddr(), rtpHeader(13, 1, 0, 5), []byte{40})
		time.Sleep(30 * time.Millisecond)
		if lp.leg.Stats().Latched {
			t.Fatal("latched on a comfort-noise packet")
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := &frameSink{}
		errc := recordInto(ctx, lp.leg, sink)
		time.Sleep(10 * time.Millisecond)
		// Another port of the SDP's IP (NAT) is latched on after
		// latchPackets packets in sequence; the ones before are dropped.
		for seq := range uint16(latchPackets) {
			if lp.leg.Stats().Latched {
				t.Fatalf("latched after %d packets, want %d", seq, latchPackets)
			}
			sendRTP(t, real, lp.leg.LocalAddr(), rtpHeader(0, 1+seq, 160*uint32(seq), 77), PCMU.Encode(nil, make([]int16, FrameSamples)))
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := readPacket(real, time.Second); err != nil {
			t.Fatalf("after latching, packets must go to the source of the RTP: %v", err)
		}
		collect(decoy, 40*time.Millisecond) // in flight before the latch
		if pkts := collect(decoy, 100*time.Millisecond); len(pkts) != 0 {
			t.Errorf("%d packets still went to the SDP address after latching", len(pkts))
		}
		if st := lp.leg.Stats(); !st.Latched || st.Remote != addrOf(real) {
			t.Errorf("after latching: remote %v latched %v", st.Remote, st.Latched)
		}
		// Once latched, audio from anyone else is ignored.
		received := lp.leg.Stats().PacketsReceived
		for seq := range uint16(5) {
			sendRTP(t, intruder, lp.leg.LocalAddr(), rtpHeader(0, 1+seq, 0, 66), PCMU.Encode(nil, make([]int16, FrameSamples)))
		}
		time.Sleep(30 * time.Millisecond)
		cancel()
		<-errc
		if _, n, _ := sink.Snapshot(); n != 1 {
			t.Errorf("sink got %d frames, want only the latching packet's 1", n)
		}
		if st := lp.leg.Stats(); st.Remote != addrOf(real) || st.PacketsReceived != received {
			t.Errorf("intruder changed things: %+v", st)
		}
	})
}

func TestRTPLegIgnoresGarbage(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		valid := func(edit func(b []byte) []byte) []byte {
			b, _ := (&rtp.Packet{Header: rtpHeader(0, 1, 0, 1), Payload: make([]byte, 160)}).Marshal()
			return edit(b)
		}
		garbage := map[string][]byte{
			"empty":               {},
			"short":               {0x80, 0x00, 0x01},
			"11 bytes":            make([]byte, 11),
			"version 0":           valid(func(b []byte) []byte { b[0] &^= 0xc0; return b }),
			"rtcp receiver rep.":  {0x81, 0xc9, 0x00, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28},
			"csrc count too big":  valid(func(b []byte) []byte { b[0] |= 0x0f; return b[:40] }),
			"extension too short": valid(func(b []byte) []byte { b[0] |= 0x10; return b[:14] }),
			"extension overruns":  valid(func(b []byte) []byte { b[0] |= 0x10; b[14], b[15] = 0xff, 0xff; return b }),
			"padding too large":   valid(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 200; return b }),
			"padding, no payload": valid(func(b []byte) []byte { b[0] |= 0x20; return b[:12] }),
			"unknown payload":     valid(func(b []byte) []byte { b[1] = 96; return b }),
			"stun binding":        {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		}
		for name, b := range garbage {
			if _, err := lp.peer.WriteToUDPAddrPort(b, lp.leg.LocalAddr()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		time.Sleep(50 * time.Millisecond)
		if st := lp.leg.Stats(); st.PacketsReceived != 1 { // only "unknown payload" is valid RTP
			t.Errorf("PacketsReceived = %d after garbage, want 1", st.PacketsReceived)
		}
		select {
		case <-lp.leg.Done():
			t.Fatalf("leg ended on garbage: %s", lp.leg.Reason())
		default:
		}
		// Still works.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := &frameSink{}
		errc := recordInto(ctx, lp.leg, sink)
		time.Sleep(10 * time.Millisecond)
		sendSignal(t, lp.peer, lp.leg, PCMU, testSignal(FrameSamples), 20*time.Millisecond, 3)
		waitFor(t, time.Second, "a frame after garbage", func() bool { _, n, _ := sink.Snapshot(); return n == 1 })
		cancel()
		<-errc
	})
}

// FuzzRTPLegHandlePacket feeds arbitrary datagrams to the receive path: it
// must never panic, whatever arrives.
func FuzzRTPLegHandlePacket(f *testing.F) {
	good, _ := (&rtp.Packet{Header: rtpHeader(0, 1, 0, 1), Payload: make([]byte, 160)}).Marshal()
	ev, _ := (&rtp.Packet{Header: rtpHeader(101, 1, 0, 1), Payload: []byte{1, 10, 0, 160}}).Marshal()
	f.Add(good)
	f.Add(ev)
	f.Add([]byte{0xbf, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xb0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff})
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	defer conn.Close()
	leg := NewRTPLeg(RTPConfig{Conn: conn, EventPayloadType: 101, Logger: testLogger()})
	from := addrOf(conn)
	f.Fuzz(func(t *testing.T, b []byte) {
		leg.handlePacket(b, from, time.Now())
	})
}

// listenOn binds a UDP socket on ip (another loopback address stands for
// another host).
func listenOn(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRTPLegRefusesThirdAddress: RTP from an address that is neither the
// SDP's IP nor the signalling address, even sent first and in sequence,
// is neither heard nor answered ("RTP Bleed"); the caller's own RTP then
// latches as usual. From the signalling address, it latches.
func TestRTPLegRefusesThirdAddress(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.SignalingAddr = netip.MustParseAddr("127.0.0.3") })
		attacker := listenOn(t, "127.0.0.2")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := &frameSink{}
		errc := recordInto(ctx, lp.leg, sink)
		time.Sleep(10 * time.Millisecond)
		for seq := range uint16(20) {
			sendRTP(t, attacker, lp.leg.LocalAddr(), rtpHeader(0, 100+seq, 160*uint32(seq), 9), silencePayload(PCMU))
		}
		if pkts := collect(attacker, 150*time.Millisecond); len(pkts) != 0 {
			t.Errorf("the gateway sent %d packets to a third address that sent RTP first", len(pkts))
		}
		if st := lp.leg.Stats(); st.Latched || st.Remote != addrOf(lp.peer) || st.PacketsReceived != 0 {
			t.Errorf("after the attacker's RTP: %+v", st)
		}
		if _, n, _ := sink.Snapshot(); n != 0 {
			t.Errorf("the call heard %d frames of the attacker's audio", n)
		}
		if _, err := readPacket(lp.peer, time.Second); err != nil {
			t.Errorf("the SDP address no longer gets the call's audio: %v", err)
		}
		sendRTP(t, lp.peer, lp.leg.LocalAddr(), rtpHeader(0, 1, 0, 77), silencePayload(PCMU))
		waitFor(t, time.Second, "latched on the SDP address", func() bool { return lp.leg.Stats().Latched })
		cancel()
		<-errc

		// A caller behind NAT: SDP names one address, RTP comes from the
		// address its SIP came from.
		nat := listenOn(t, "127.0.0.3")
		lp2 := m.newLegPeer(t, func(c *RTPConfig) { c.SignalingAddr = netip.MustParseAddr("127.0.0.3") })
		for seq := range uint16(latchPackets) {
			sendRTP(t, nat, lp2.leg.LocalAddr(), rtpHeader(0, 1+seq, 160*uint32(seq), 5), silencePayload(PCMU))
		}
		waitFor(t, time.Second, "latched on the signalling address", func() bool { return lp2.leg.Stats().Remote == addrOf(nat) })
		if _, err := readPacket(nat, time.Second); err != nil {
			t.Errorf("after latching on the NAT source: %v", err)
		}
	})
}
