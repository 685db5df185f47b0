package webrtc

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
)

// testLogger discards logs unless VOXGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("VOXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// checkNoLeaks fails the test if, once cleanup runs, the goroutine count
// does not come back to what it was when checkNoLeaks was called. Register
// it first: cleanups run last in first out.
func checkNoLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after everything closed\n%s", before, runtime.NumGoroutine(), buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// rtpPacket is one packet the browser peer received.
type rtpPacket struct {
	hdr     rtp.Header
	payload []byte
}

// browser is a second pion PeerConnection standing in for the agent's
// browser: it offers Opus, PCMU, PCMA and telephone-event like Chromium,
// sends whatever RTP the test writes through track and collects what the
// leg sends.
type browser struct {
	pc       *pion.PeerConnection
	track    *audioTrack
	received chan rtpPacket
}

// newBrowser creates the peer; it is closed at cleanup.
func newBrowser(t testing.TB) *browser { return newPeer(t, false) }

// newQuietBrowser is a browser for benchmarks: it runs no interceptors and
// reads what it receives into one buffer, keeping nothing, so that the
// allocations a benchmark counts are the leg's and pion's, not the peer's.
func newQuietBrowser(t testing.TB) *browser { return newPeer(t, true) }

func newPeer(t testing.TB, quiet bool) *browser {
	t.Helper()
	m := &pion.MediaEngine{}
	for _, c := range []pion.RTPCodecParameters{
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTypeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-15"}, PayloadType: 126},
	} {
		if err := m.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var s pion.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	opts := []func(*pion.API){pion.WithMediaEngine(m), pion.WithSettingEngine(s)}
	if quiet {
		opts = append(opts, pion.WithInterceptorRegistry(&interceptor.Registry{}))
	}
	pc, err := pion.NewAPI(opts...).NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{pc: pc, track: &audioTrack{id: "mic", streamID: "browser"}, received: make(chan rtpPacket, 1000)}
	if _, err := pc.AddTransceiverFromTrack(b.track, pion.RTPTransceiverInit{Direction: pion.RTPTransceiverDirectionSendrecv}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		wg.Go(func() {
			if quiet {
				buf := make([]byte, 1500)
				for {
					if _, _, err := tr.Read(buf); err != nil {
						return
					}
				}
			}
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				select {
				case b.received <- rtpPacket{hdr: p.Header, payload: p.Payload}:
				default:
				}
			}
		})
	})
	t.Cleanup(func() {
		pc.GracefulClose()
		wg.Wait()
	})
	return b
}

// offer creates the browser's offer with all its candidates.
func (b *browser) offer(t testing.TB) string {
	t.Helper()
	offer, err := b.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := pion.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return b.pc.LocalDescription().SDP
}

// connect negotiates a new leg with the browser and waits until both are
// connected. The leg is closed at cleanup.
func connect(t testing.TB, b *browser) *Leg {
	t.Helper()
	leg, err := NewLeg(Config{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leg.Close("test over") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := leg.Answer(ctx, b.offer(t))
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := b.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("browser: set answer: %v", err)
	}
	select {
	case <-leg.Connected():
	case <-leg.Done():
		t.Fatalf("leg ended before connecting: %s", leg.Reason())
	case <-ctx.Done():
		t.Fatal("leg did not connect within 10 s")
	}
	return leg
}

// sendAudio writes μ-law payload to the leg as 20 ms packets paced in real
// time, starting a talkspurt, until payload is used up or ctx ends.
func (b *browser) sendAudio(ctx context.Context, payload []byte) error {
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	var seq uint16 = 1000
	var ts uint32 = 5000
	for i := 0; i+media.FrameSamples <= len(payload); i += media.FrameSamples {
		bd := b.track.binding()
		if bd.writer != nil {
			h := rtp.Header{Version: 2, PayloadType: bd.audioPT, SequenceNumber: seq, Timestamp: ts, Marker: i == 0}
			if err := bd.writeRTP(&h, payload[i:i+media.FrameSamples]); err != nil {
				return err
			}
		}
		seq++
		ts += uint32(media.FrameSamples)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// testSignal is n samples of a non-repeating, never silent waveform, so a
// match of it cannot be luck.
func testSignal(n int) []int16 {
	out := make([]int16, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = int16(int32(x>>16)%8000) + 300
	}
	return out
}

// rtpHeader returns a header for the browser to send.
func rtpHeader(pt uint8, marker bool, seq uint16, ts uint32) rtp.Header {
	return rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: seq, Timestamp: ts}
}
