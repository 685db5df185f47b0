package media

import (
	"net/netip"
	"time"
)

// RTPStats is a snapshot of an RTP leg's counters.
type RTPStats struct {
	LocalSSRC  uint32 // SSRC of the packets the leg sends
	RemoteSSRC uint32 // SSRC of the audio stream last received (0 before any)

	PacketsSent     uint64 // audio and telephone-event packets sent
	BytesSent       uint64 // payload octets sent (RFC 3550 sender octet count)
	PacketsReceived uint64 // valid RTP packets accepted from the far end
	BytesReceived   uint64 // payload octets of those packets

	// PacketsLost counts packets missing from the received audio stream's
	// sequence numbers (RFC 3550 A.3: expected minus received, never
	// negative), summed over every SSRC the far end has used.
	PacketsLost uint64
	// Jitter is the RFC 3550 interarrival jitter estimate of the received
	// audio stream.
	Jitter time.Duration

	FirstSent     time.Time // when the first packet was sent (zero if none)
	FirstReceived time.Time // when the first valid packet arrived (zero if none)

	Remote  netip.AddrPort // where the leg sends now
	Latched bool           // Remote was learned from the far end's packets (symmetric RTP)
}

// RTP sequence tracking constants from RFC 3550 appendix A.1.
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

// seqTracker follows one SSRC's sequence numbers to count packets expected
// and received (RFC 3550 A.1, without the probation period).
type seqTracker struct {
	started  bool
	maxSeq   uint16
	cycles   uint32 // count of sequence number wraps, times seqMod
	baseSeq  uint32
	badSeq   uint32 // the sequence number that would confirm a restart
	received uint64
}

// Update records sequence number seq. It reports whether the packet is new
// (advances the highest sequence number seen); reordered, duplicate and
// out-of-range packets return false.
func (s *seqTracker) Update(seq uint16) (advances bool) {
	if !s.started {
		s.restart(seq)
		return true
	}
	delta := seq - s.maxSeq
	switch {
	case delta == 0:
		s.received++ // duplicate
		return false
	case delta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += seqMod
		}
		s.maxSeq = seq
		s.received++
		return true
	case delta <= seqMod-maxMisorder:
		// A large jump: the sender restarted. Accept it once two
		// sequential packets confirm it.
		if uint32(seq) == s.badSeq {
			s.restart(seq)
			return true
		}
		s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
		return false
	default:
		s.received++ // reordered within maxMisorder
		return false
	}
}

func (s *seqTracker) restart(seq uint16) {
	*s = seqTracker{started: true, maxSeq: seq, baseSeq: uint32(seq), badSeq: seqMod + 1, received: 1}
}

// Lost is the number of packets expected but not received.
func (s *seqTracker) Lost() uint64 {
	if !s.started {
		return 0
	}
	expected := uint64(s.cycles) + uint64(s.maxSeq) - uint64(s.baseSeq) + 1
	if expected < s.received {
		return 0
	}
	return expected - s.received
}

// jitterEstimator computes RFC 3550 interarrival jitter (A.8) in timestamp
// units.
type jitterEstimator struct {
	started bool
	transit int64
	jitter  float64
}

// Update records a packet that arrived at arrival (in timestamp units on
// the receiver's clock) carrying RTP timestamp ts.
func (j *jitterEstimator) Update(arrival int64, ts uint32) {
	transit := arrival - int64(ts)
	if !j.started {
		j.started = true
		j.transit = transit
		return
	}
	d := transit - j.transit
	j.transit = transit
	// The RTP timestamp wraps at 2^32; so may transit. Fold d into range.
	d = int64(int32(d))
	if d < 0 {
		d = -d
	}
	j.jitter += (float64(d) - j.jitter) / 16
}

// Duration is the jitter estimate as a duration at 8 kHz.
func (j *jitterEstimator) Duration() time.Duration {
	return time.Duration(j.jitter * float64(time.Second) / SampleRate)
}
