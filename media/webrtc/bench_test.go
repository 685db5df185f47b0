package webrtc

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/voxgate/voxgate/media"
)

// discardWriter stands in for pion's write stream.
type discardWriter struct{ packets int }

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.packets++
	return len(payload), nil
}
func (w *discardWriter) Write(b []byte) (int, error) { w.packets++; return len(b), nil }

// loopSource plays samples forever.
type loopSource struct {
	samples []int16
	pos     int
}

func (s *loopSource) ReadFrame(p []int16) (int, error) {
	for i := range p {
		p[i] = s.samples[s.pos]
		s.pos = (s.pos + 1) % len(s.samples)
	}
	return len(p), nil
}

// discardSink counts frames.
type discardSink struct{ frames int }

func (s *discardSink) WriteFrame(p []int16) error { s.frames++; return nil }

// runJob runs job (a blocking Play or Record) on its own goroutine until
// the returned stop cancels its context; stop waits for it to return.
func runJob(job func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// BenchmarkSendTick is the leg's own send path per frame: read the Play
// source, μ-law encode, build the header, hand it to the write stream.
func BenchmarkSendTick(b *testing.B) {
	leg, err := NewLeg(Config{Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer leg.Close("bench over")
	w := &discardWriter{}
	leg.track.bound = binding{writer: w, ssrc: 1, audioPT: 0, eventPT: 101}
	src := &loopSource{samples: testSignal(media.SampleRate)}
	stop := runJob(func(ctx context.Context) { leg.Play(ctx, src) })
	defer stop()
	var frame int64
	for src.pos == 0 { // until the Play job is attached
		leg.sendTick(frame, false)
		frame++
	}
	b.ReportAllocs()
	for b.Loop() {
		leg.sendTick(frame, false)
		frame++
	}
	if w.packets == 0 {
		b.Fatal("nothing written")
	}
}

// BenchmarkReceivePacket is the leg's own receive path per packet: parse
// the header, μ-law decode, deliver the frame to a Record sink.
func BenchmarkReceivePacket(b *testing.B) {
	leg, err := NewLeg(Config{Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer leg.Close("bench over")
	leg.rx.audioPT, leg.rx.eventPT = 0, 101
	sink := &discardSink{}
	stop := runJob(func(ctx context.Context) { leg.Record(ctx, sink) })
	defer stop()
	pkt, err := (&rtp.Packet{Header: rtpHeader(0, false, 1, 0), Payload: media.PCMU.Encode(nil, testSignal(media.FrameSamples))}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for sink.frames == 0 { // until the Record job is attached
		leg.handlePacket(pkt, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		leg.handlePacket(pkt, now)
	}
	if sink.frames == 0 {
		b.Fatal("no frame delivered")
	}
}

// BenchmarkSendThroughPion is the part of a send tick that BenchmarkSendTick
// fakes: a μ-law frame written to a connected leg's binding, through
// pion's interceptors, SRTP and the UDP socket to the browser peer.
// Allocations of every goroutine are counted, the peer's receive path too.
func BenchmarkSendThroughPion(b *testing.B) {
	br := newQuietBrowser(b)
	leg := connect(b, br)
	// Take the binding away from the send loop, which then stops writing
	// and leaves tx alone, and continue its sequence numbers.
	bd := leg.track.binding()
	leg.track.mu.Lock()
	leg.track.bound = binding{}
	leg.track.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	seq := leg.tx.seq
	pcm := testSignal(media.FrameSamples)
	var payload [media.FrameSamples]byte
	var h rtp.Header
	b.ReportAllocs()
	for b.Loop() {
		seq++
		h = rtpHeader(bd.audioPT, false, seq, uint32(seq)*160)
		if err := bd.writeRTP(&h, media.PCMU.Encode(payload[:0], pcm)); err != nil {
			b.Fatal(err)
		}
	}
}

// frameSignal tells the benchmark a frame arrived, without allocating.
type frameSignal chan struct{}

func (s frameSignal) WriteFrame(p []int16) error { s <- struct{}{}; return nil }

// BenchmarkReceiveThroughPion is a packet from the browser peer to the
// leg's Record sink: the peer's SRTP send, UDP, pion's receive path and
// the leg's decode. Allocations of every goroutine are counted.
func BenchmarkReceiveThroughPion(b *testing.B) {
	br := newQuietBrowser(b)
	leg := connect(b, br)
	sig := make(frameSignal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go leg.Record(ctx, sig)
	time.Sleep(50 * time.Millisecond)
	bd := br.track.binding()
	payload := media.PCMU.Encode(nil, testSignal(media.FrameSamples))
	var h rtp.Header
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		h = rtpHeader(bd.audioPT, false, seq, uint32(seq)*160)
		if err := bd.writeRTP(&h, payload); err != nil {
			b.Fatal(err)
		}
		<-sig
	}
}
