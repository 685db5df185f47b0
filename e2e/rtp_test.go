package e2e

import (
	"math"
	"math/cmplx"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// rtpPacket is one packet the test peer received.
type rtpPacket struct {
	Header  rtp.Header
	Payload []byte
	At      time.Time
}

// rtpPeer is a UDP socket standing in for the caller's media port: the
// SIPp scenario announces it in its SDP, so the gateway's RTP lands here.
type rtpPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []rtpPacket
	from *net.UDPAddr // where the first packet came from
	done chan struct{}
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			p.mu.Lock()
			if p.from == nil {
				p.from = from
			}
			p.pkts = append(p.pkts, rtpPacket{Header: pkt.Header, Payload: append([]byte(nil), pkt.Payload...), At: time.Now()})
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-p.done })
	return p
}

// source is where the gateway's RTP comes from (nil before any arrives).
func (p *rtpPeer) source() *net.UDPAddr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.from
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *rtpPeer) packets() []rtpPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtpPacket(nil), p.pkts...)
}

// decode returns the audio of the packets with payload type pt, in
// sequence order (the packets arrive in order on loopback).
func decode(pkts []rtpPacket, pt uint8) []float64 {
	var out []float64
	for _, p := range pkts {
		if p.Header.PayloadType != pt {
			continue
		}
		for _, b := range p.Payload {
			var s int16
			if pt == 0 {
				s = g711.DecodeUlawFrame(b)
			} else {
				s = g711.DecodeAlawFrame(b)
			}
			out = append(out, float64(s)/32768)
		}
	}
	return out
}

// goertzelFraction is the share of x's energy at freq Hz (about 1 for a
// pure tone at that frequency).
func goertzelFraction(x []float64, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2, energy float64
	for _, v := range x {
		s0 := v + k*s1 - s2
		s2, s1 = s1, s0
		energy += v * v
	}
	power := (s1*s1 + s2*s2 - k*s1*s2) / (float64(len(x)) * float64(len(x)) / 4)
	return power / 2 / (energy / float64(len(x)))
}

func rms(x []float64) float64 {
	var e float64
	for _, v := range x {
		e += v * v
	}
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(e / float64(len(x)))
}

// xcorrPeak is the peak of the normalised cross-correlation of a and b
// (1 = b appears in a unchanged, at some lag) and that lag in samples.
func xcorrPeak(a, b []float64) (float64, int) {
	n := 1
	for n < len(a)+len(b) {
		n <<= 1
	}
	fa, fb := make([]complex128, n), make([]complex128, n)
	for i, v := range a {
		fa[i] = complex(v, 0)
	}
	for i, v := range b {
		fb[i] = complex(v, 0)
	}
	fft(fa, false)
	fft(fb, false)
	for i := range fa {
		fa[i] *= cmplx.Conj(fb[i])
	}
	fft(fa, true)
	best, lag := 0.0, 0
	for i, v := range fa {
		if r := math.Abs(real(v)) / float64(n); r > best {
			best, lag = r, i
		}
	}
	if lag >= n/2 {
		lag -= n
	}
	var ea, eb float64
	for _, v := range a {
		ea += v * v
	}
	for _, v := range b {
		eb += v * v
	}
	if ea == 0 || eb == 0 {
		return 0, 0
	}
	// The peak compares b with the overlapping part of a only.
	start, end := max(lag, 0), min(lag+len(b), len(a))
	var eo float64
	for i := start; i < end; i++ {
		eo += a[i] * a[i]
	}
	if eo == 0 {
		return 0, lag
	}
	return best / math.Sqrt(eo*eb), lag
}

// fft is an in-place radix-2 FFT (len(x) a power of two).
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		ang := 2 * math.Pi / float64(size)
		if !inverse {
			ang = -ang
		}
		w := cmplx.Rect(1, ang)
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}
