package media

import (
	"context"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/voxgate/voxgate/media/dtmf"
)

// recvBufferSize is the receive loop's one read buffer: larger than any
// RTP packet a G.711 peer sends (60 ms is 492 bytes), below jumbo frames.
const recvBufferSize = 2048

// ParseRTP unmarshals the RTP packet b into h, reusing h's storage, and
// returns its payload without padding; ok is false for a malformed
// packet. The payload shares b's memory.
func ParseRTP(h *rtp.Header, b []byte) (payload []byte, ok bool) {
	hdrLen, err := h.Unmarshal(b)
	if err != nil {
		return nil, false
	}
	payload = b[hdrLen:]
	if h.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return nil, false
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	return payload, true
}

// rtpRecvState is the receive loop's state. Only the receive loop (or a
// benchmark standing in for it) touches it.
type rtpRecvState struct {
	buf      [recvBufferSize]byte
	hdr      rtp.Header
	frame    [FrameSamples]int16 // decoded samples waiting to fill a frame
	pending  int                 // how many of frame are filled
	events   EventReceiver
	detector *dtmf.Detector // made by the first frame with in-band detection on
	sock     sockRecv       // reading from a scheduler worker (Linux)
	loggedPT [128]bool      // payload types already logged as ignored
	srtp     *srtpState     // nil: plain RTP
	srtpOld  srtpFallback
	codec    CodecState // the decoder (G.722 keeps state)
}

// recvLoop reads packets until the socket is closed.
func (l *RTPLeg) recvLoop() {
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(l.rx.buf[:])
		if err != nil {
			if l.closed() {
				return // Close closed the socket
			}
			l.log.Error("rtp receive failed, ending leg", "err", err)
			l.end("socket-error: " + err.Error())
			return
		}
		l.handlePacket(l.rx.buf[:n], from, time.Now())
	}
}

// handlePacket processes one datagram from the socket. Anything that is
// not a valid RTP packet from the far end is dropped without a trace.
func (l *RTPLeg) handlePacket(b []byte, from netip.AddrPort, now time.Time) {
	if len(b) < rtpHeaderSize || b[0]>>6 != rtpVersion {
		return // not RTP (STUN, garbage)
	}
	if pt := b[1] & 0x7f; pt >= 72 && pt <= 76 {
		return // RTCP sent to the RTP port (SR, RR, SDES, BYE, APP)
	}
	rx := &l.rx
	l.adoptRxKey(now)
	if rx.srtp != nil {
		plain, err := rx.unprotectSRTP(b, now)
		if err != nil {
			return // not authentic (or replayed): never latched on, never played
		}
		b = plain
	}
	payload, ok := ParseRTP(&rx.hdr, b)
	if !ok {
		return
	}
	pt := rx.hdr.PayloadType

	from = unmapAddrPort(from)
	l.mu.Lock()
	eventPT := l.eventPT
	isEvent := eventPT != 0 && pt == eventPT
	isAudio := !isEvent && (pt == PCMU.PayloadType || pt == PCMA.PayloadType || pt == G722.PayloadType)
	if l.latched && from != l.remote {
		l.mu.Unlock()
		return // not the source we latched on
	}
	if !l.latched && (isAudio || isEvent) && !l.latch(from) {
		l.mu.Unlock()
		return // not (yet) a source we may send to
	}
	l.mu.Unlock()

	l.lastRecv.Store(int64(now.Sub(l.epoch)))
	advances := l.countReceived(isAudio, isEvent, len(payload), now)

	switch {
	case isEvent:
		if key, ok := rx.events.Packet(rx.hdr.SSRC, rx.hdr.Timestamp, rx.hdr.Marker, payload, now); ok {
			l.digits.Push(key, ViaRFC4733, now)
		}
	case isAudio:
		if !advances {
			return // duplicate or late: its place in the audio has passed
		}
		codec := PCMU
		switch pt {
		case PCMA.PayloadType:
			codec = PCMA
		case G722.PayloadType:
			codec = G722
		}
		l.decodeAudio(codec, payload, eventPT == 0, now)
	default:
		if !rx.loggedPT[pt] {
			rx.loggedPT[pt] = true
			l.log.Debug("ignoring rtp payload type", "pt", pt, "remote", from)
		}
	}
}

// latchPackets is how many packets of one stream, in sequence, a source
// other than the SDP address must send before the leg latches on it.
const latchPackets = 3

// latchCandidate follows the one source that may become the latched one:
// the last packet seen from it.
type latchCandidate struct {
	from netip.AddrPort
	ssrc uint32
	seq  uint16
	n    int // packets in sequence so far
}

// latch decides whether the RTP packet in l.rx.hdr from from latches the
// leg (see RTPLeg), and latches it when so. l.mu is held.
func (l *RTPLeg) latch(from netip.AddrPort) bool {
	if from == l.sdpRemote {
		l.latched = true
		return true
	}
	ip := from.Addr()
	if ip != l.sdpRemote.Addr() && (!l.sigAddr.IsValid() || ip != l.sigAddr) {
		return false // a third address: never
	}
	h := &l.rx.hdr
	c := &l.candidate
	if c.n > 0 && c.from == from && c.ssrc == h.SSRC && h.SequenceNumber == c.seq+1 {
		c.n++
	} else {
		*c = latchCandidate{from: from, ssrc: h.SSRC, n: 1}
	}
	c.seq = h.SequenceNumber
	if c.n < latchPackets {
		return false
	}
	l.latched = true
	l.remote = from
	l.log.Info("rtp source latched", "sdp_remote", l.sdpRemote, "remote", from)
	return true
}

// countReceived updates the receive statistics for the packet in rx.hdr
// and reports whether it advances its stream's sequence numbers. Audio
// packets define the stream followed for loss and jitter;
// telephone-event packets on that SSRC share its sequence numbers.
func (l *RTPLeg) countReceived(isAudio, isEvent bool, payloadLen int, now time.Time) (advances bool) {
	h := &l.rx.hdr
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	st := &l.rxStats
	if st.packets == 0 {
		st.first = now
	}
	st.packets++
	st.bytes += uint64(payloadLen)
	if isAudio && (!st.haveSSRC || h.SSRC != st.ssrc) {
		// A new audio stream: keep the old one's losses, follow the new.
		if st.haveSSRC {
			l.rx.pending = 0
			l.rx.codec.Reset()
		}
		st.lostBefore += st.seq.Lost()
		st.seq = seqTracker{}
		st.jitter = jitterEstimator{}
		st.ssrc = h.SSRC
		st.haveSSRC = true
	}
	if !st.haveSSRC || h.SSRC != st.ssrc || !(isAudio || isEvent) {
		return true
	}
	advances = st.seq.Update(h.SequenceNumber)
	if isAudio {
		arrival := int64(now.Sub(l.epoch)) * SampleRate / int64(time.Second)
		st.jitter.Update(arrival, h.Timestamp)
	}
	return advances
}

// decodeAudio decodes a G.711 or G.722 payload of any length into 20 ms
// frames, carrying a partial frame over to the next packet, and delivers
// each complete frame.
func (l *RTPLeg) decodeAudio(codec Codec, payload []byte, inBand bool, now time.Time) {
	rx := &l.rx
	for len(payload) > 0 {
		take := min(len(payload), FrameSamples-rx.pending)
		rx.codec.Decode(codec, rx.frame[rx.pending:rx.pending], payload[:take])
		rx.pending += take
		payload = payload[take:]
		if rx.pending == FrameSamples {
			rx.pending = 0
			l.deliverFrame(rx.frame[:], inBand, now)
		}
	}
}

// deliverFrame runs the in-band detector (when enabled) on a decoded frame
// and hands it to every Record sink. A sink that fails is dropped and its
// Record returns the error.
func (l *RTPLeg) deliverFrame(frame []int16, inBand bool, now time.Time) {
	if inBand {
		if l.rx.detector == nil {
			// About 2 KB: made only for a leg that listens for in-band tones.
			l.rx.detector = dtmf.NewDetector()
		}
		if key, ok := l.rx.detector.Frame(frame); ok {
			l.digits.Push(key, ViaInBand, now)
		}
	}
	l.jobs.DeliverFrame(frame)
}

// Record hands every frame received from now on to sink, in order, until
// ctx is cancelled (nil), sink fails (its error) or the leg ends
// (ErrLegClosed). Several Records may run at once; each sink gets every
// frame. Once Record returns, the leg no longer uses sink.
func (l *RTPLeg) Record(ctx context.Context, sink Sink) error {
	return l.jobs.Record(ctx, sink)
}
