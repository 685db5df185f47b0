package media

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// bestSNR returns the SNR in dB of got against ref at the delay (0-80
// samples) that maximises it, over the middle of the signal.
func bestSNR(ref, got []int16) (float64, int) {
	best, at := math.Inf(-1), 0
	for d := 0; d <= 80; d++ {
		var sig, noise float64
		for i := 800; i < len(ref)-800 && i+d < len(got); i++ {
			r, g := float64(ref[i]), float64(got[i+d])
			sig += r * r
			noise += (g - r) * (g - r)
		}
		if noise == 0 {
			return math.Inf(1), d
		}
		if v := 10 * math.Log10(sig/noise); v > best {
			best, at = v, d
		}
	}
	return best, at
}

// TestRTPLegG722: two RTP legs negotiated on G.722 carry the 8 kHz test
// signal from one to the other (interpolated to 16 kHz, SB-ADPCM coded,
// decimated back); packets are payload type 9 with 160 bytes per 20 ms
// and timestamps advancing by 160 per frame (the 8000 Hz RTP clock of
// RFC 3551).
func TestRTPLegG722(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		checkNoLeaks(t)
		connA, connB := listenLoopback(t), listenLoopback(t)
		a := NewRTPLeg(RTPConfig{Conn: connA, Remote: addrOf(connB), Codec: G722, Logger: testLogger(), Scheduler: m.sched})
		b := NewRTPLeg(RTPConfig{Conn: connB, Remote: addrOf(connA), Codec: G722, Logger: testLogger(), Scheduler: m.sched})
		tap := listenLoopback(t) // sees what a third G.722 leg sends
		c := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: addrOf(tap), Codec: G722, Logger: testLogger(), Scheduler: m.sched})
		defer a.Close("test over")
		defer b.Close("test over")
		defer c.Close("test over")
		a.Start()
		b.Start()
		c.Start()

		sink := &frameSink{}
		ctx, cancel := context.WithCancel(context.Background())
		recorded := make(chan error, 1)
		go func() { recorded <- b.Record(ctx, sink) }()
		signal := testSignal(SampleRate)
		if err := a.Play(context.Background(), &sliceSource{samples: signal}); err != nil {
			t.Fatalf("Play: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		<-recorded
		got, _, badLen := sink.Snapshot()
		if badLen != 0 {
			t.Errorf("%d frames of the wrong length", badLen)
		}
		// Find the signal in what B heard (silence before it).
		var best float64
		var delay int
		for start := 0; start+len(signal) <= len(got); start += 80 {
			if snr, d := bestSNR(signal, got[start:]); snr > best {
				best, delay = snr, start+d
			}
		}
		t.Logf("heard %d samples; the signal at sample %d with SNR %.1f dB", len(got), delay, best)
		if best < 20 {
			t.Errorf("the signal came through G.722 with SNR %.1f dB, want >= 20", best)
		}

		pkts := collect(tap, 200*time.Millisecond)
		if len(pkts) < 3 {
			t.Fatalf("the third leg sent %d packets in 200 ms", len(pkts))
		}
		for i, p := range pkts {
			if p.PayloadType != G722.PayloadType || len(p.Payload) != FrameSamples {
				t.Fatalf("packet %d: payload type %d, %d bytes; want 9 and %d", i, p.PayloadType, len(p.Payload), FrameSamples)
			}
			// 160 per 20 ms frame; a loaded host's pacer may skip frames,
			// so a packet may advance by several frames.
			if i == 0 {
				continue
			}
			if adv := p.Timestamp - pkts[i-1].Timestamp; adv == 0 || adv%uint32(FrameSamples) != 0 {
				t.Fatalf("timestamp advanced by %d, want a multiple of %d", adv, FrameSamples)
			}
		}
	})
}

// TestRTPLegG722SwitchCodec: a leg that receives PCMU and then G.722
// (a re-INVITE changed the codec) decodes both; the G.722 decoder starts
// fresh.
func TestRTPLegG722SwitchCodec(t *testing.T) {
	lp := newLegPeer(t, nil)
	sink := &frameSink{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = lp.leg.Record(ctx, sink) }()
	to := lp.leg.LocalAddr()
	to = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), to.Port())
	signal := testSignal(2 * SampleRate)
	var enc CodecState
	seq := uint16(1)
	for i := 0; i < len(signal); i += FrameSamples {
		codec := PCMU
		if i >= SampleRate {
			codec = G722
		}
		h := rtp.Header{PayloadType: codec.PayloadType, SequenceNumber: seq, Timestamp: uint32(i), SSRC: 7}
		sendRTP(t, lp.peer, to, h, enc.Encode(codec, nil, signal[i:i+FrameSamples]))
		seq++
		time.Sleep(time.Millisecond)
	}
	waitFor(t, 5*time.Second, "all frames", func() bool { _, n, _ := sink.Snapshot(); return n >= 100 })
	got, _, _ := sink.Snapshot()
	if snr, d := bestSNR(signal[:SampleRate], got[:SampleRate]); snr < 30 || d != 0 {
		t.Errorf("PCMU part: SNR %.1f dB at delay %d", snr, d)
	}
	snr, d := bestSNR(signal[SampleRate:], got[SampleRate:])
	t.Logf("G.722 part: SNR %.1f dB at a delay of %d samples", snr, d)
	if snr < 20 {
		t.Errorf("G.722 part: SNR %.1f dB, want >= 20", snr)
	}
}

// TestCodecStateNoAllocations: a 20 ms packet each way allocates nothing,
// whichever codec.
func TestCodecStateNoAllocations(t *testing.T) {
	pcm := testSignal(FrameSamples)
	for _, c := range Codecs() {
		var enc, dec CodecState
		payload := make([]byte, 0, FrameSamples)
		out := make([]int16, 0, FrameSamples)
		if n := testing.AllocsPerRun(100, func() {
			payload = enc.Encode(c, payload[:0], pcm)
			out = dec.Decode(c, out[:0], payload)
		}); n != 0 {
			t.Errorf("%s: %.1f allocations per packet", c, n)
		}
	}
}

// BenchmarkCodecPerPacket is the cost of coding one 20 ms packet (160
// samples at 8 kHz) each way, G.722 (with its 8 <-> 16 kHz conversion)
// against G.711.
func BenchmarkCodecPerPacket(b *testing.B) {
	pcm := testSignal(FrameSamples)
	for _, c := range []Codec{PCMU, G722} {
		var enc, dec CodecState
		payload := enc.Encode(c, make([]byte, 0, FrameSamples), pcm)
		out := make([]int16, 0, FrameSamples)
		b.Run(c.Name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				payload = enc.Encode(c, payload[:0], pcm)
			}
		})
		b.Run(c.Name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out = dec.Decode(c, out[:0], payload)
			}
		})
	}
}

// BenchmarkRTPReceivePacketG722 is BenchmarkRTPReceivePacket's receive
// path for a G.722 packet.
func BenchmarkRTPReceivePacketG722(b *testing.B) {
	conn := listenLoopback(b)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: from, Codec: G722, EventPayloadType: 101, Logger: testLogger()})
	sink := &discardSink{}
	leg.jobs.sinks = append(leg.jobs.sinks, &recordJob{sink: sink, done: make(chan error, 1)})
	var enc CodecState
	pkt, err := (&rtp.Packet{Header: rtpHeader(G722.PayloadType, 0, 0, 99), Payload: enc.Encode(G722, nil, testSignal(FrameSamples))}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		leg.handlePacket(pkt, from, time.Now())
	}
	if sink.frames == 0 {
		b.Fatal("no frame delivered")
	}
}

// BenchmarkRTPSendTickG722 is BenchmarkRTPSendTick with G.722.
func BenchmarkRTPSendTickG722(b *testing.B) {
	peer := listenLoopback(b)
	leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(b), Remote: addrOf(peer), Codec: G722, InactivityTimeout: -1, Logger: testLogger()})
	leg.jobs.play = &playJob{src: &sliceSource{samples: testSignal(SampleRate), loop: true}, done: make(chan error, 1)}
	go drain(peer)
	b.ReportAllocs()
	now := time.Now()
	var frame int64
	for b.Loop() {
		leg.sendTick(now, frame, false)
		frame++
	}
	if leg.Stats().PacketsSent == 0 {
		b.Fatal("nothing sent")
	}
}
