package media

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// testLogger discards logs unless VOXGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("VOXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// listenLoopback opens a UDP socket on 127.0.0.1 with a free port.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// checkNoLeaks fails the test if, once cleanup runs, the goroutine count
// does not come back to what it was when checkNoLeaks was called.
// Register it before anything that starts goroutines: cleanups run last
// in first out.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutines: %d before, %d after the leg closed\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// legPeer is a leg under test with a fake far end on 127.0.0.1.
type legPeer struct {
	leg  *RTPLeg
	peer *net.UDPConn // the far end: Remote of the leg
}

// newLegPeer starts a leg talking to a fresh peer socket. edit may change
// the config before the leg is created. The leg is closed at cleanup.
func newLegPeer(t *testing.T, edit func(*RTPConfig)) *legPeer {
	t.Helper()
	checkNoLeaks(t)
	peer := listenLoopback(t)
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg := RTPConfig{
		Conn:   conn,
		Remote: addrOf(peer),
		Codec:  PCMU,
		Logger: testLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	leg := NewRTPLeg(cfg)
	t.Cleanup(func() { leg.Close("test over") })
	leg.Start()
	return &legPeer{leg: leg, peer: peer}
}

// packet is one RTP packet as a peer received it.
type packet struct {
	rtp.Header
	Payload []byte
	At      time.Time
	From    netip.AddrPort
}

// readPacket reads the next valid RTP packet arriving at c within timeout.
func readPacket(c *net.UDPConn, timeout time.Duration) (packet, error) {
	buf := make([]byte, 2048)
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return packet{}, err
	}
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return packet{}, err
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		return packet{Header: p.Header, Payload: slices.Clone(p.Payload), At: time.Now(), From: from}, nil
	}
}

// collect gathers the packets arriving at c during d.
func collect(c *net.UDPConn, d time.Duration) []packet {
	var out []packet
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return out
		}
		p, err := readPacket(c, left)
		if err != nil {
			return out
		}
		out = append(out, p)
	}
}

// collectUntil gathers packets arriving at c until stop is closed, then
// returns them on the result channel.
func collectUntil(c *net.UDPConn, stop <-chan struct{}) <-chan []packet {
	res := make(chan []packet, 1)
	go func() {
		var out []packet
		for {
			select {
			case <-stop:
				res <- out
				return
			default:
			}
			p, err := readPacket(c, 50*time.Millisecond)
			if err == nil {
				out = append(out, p)
			}
		}
	}()
	return res
}

// sendRTP sends one RTP packet from c to to.
func sendRTP(t testing.TB, c *net.UDPConn, to netip.AddrPort, h rtp.Header, payload []byte) {
	t.Helper()
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// testSignal is a deterministic, never silent test signal: a sum of two
// sines with a slow level ramp.
func testSignal(samples int) []int16 {
	out := make([]int16, samples)
	for i := range out {
		level := 2000 + 6000*float64(i%4000)/4000
		t := float64(i) / SampleRate
		v := level * (math.Sin(2*math.Pi*440*t) + 0.5*math.Sin(2*math.Pi*1300*t))
		out[i] = int16(v)
	}
	return out
}

// roundTrip is pcm after a G.711 encode and decode with codec.
func roundTrip(codec Codec, pcm []int16) []int16 {
	return codec.Decode(nil, codec.Encode(nil, pcm))
}

// sliceSource plays samples and counts ReadFrame calls.
type sliceSource struct {
	mu      sync.Mutex
	samples []int16
	pos     int
	reads   int
	loop    bool // start over at the end instead of io.EOF
}

func (s *sliceSource) ReadFrame(p []int16) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.pos >= len(s.samples) {
		if !s.loop || len(s.samples) == 0 {
			return 0, io.EOF
		}
		s.pos = 0
	}
	n := copy(p, s.samples[s.pos:])
	s.pos += n
	return n, nil
}

func (s *sliceSource) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// frameSink collects received frames.
type frameSink struct {
	mu      sync.Mutex
	samples []int16
	frames  int
	badLen  int
	failAt  int // WriteFrame fails on this frame number (1-based); 0 never
}

var errSinkFull = errors.New("sink full")

func (s *frameSink) WriteFrame(p []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(p) != FrameSamples {
		s.badLen++
	}
	s.frames++
	if s.failAt != 0 && s.frames >= s.failAt {
		return errSinkFull
	}
	s.samples = append(s.samples, p...)
	return nil
}

func (s *frameSink) Snapshot() (samples []int16, frames, badLen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples), s.frames, s.badLen
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// silencePayload is the codec's encoding of one silent frame.
func silencePayload(c Codec) []byte {
	return c.Encode(nil, make([]int16, FrameSamples))
}

// rtpHeader is a version 2 RTP header.
func rtpHeader(pt uint8, seq uint16, ts, ssrc uint32) rtp.Header {
	return rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}
}
