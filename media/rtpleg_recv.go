package media

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/voxgate/voxgate/media/dtmf"
)

// recvBufferSize is the receive loop's one read buffer: larger than any
// RTP packet a G.711 peer sends (60 ms is 492 bytes), below jumbo frames.
const recvBufferSize = 2048

// The RFC 4733 receiver remembers presses by (SSRC, timestamp, code) to
// drop retransmits and the repeated end packets. Some senders (SIPp
// replaying a pcap, for one) send the very same packets again for a second
// press of the same key, so the leg makes the receiver forget once the far
// end has been quiet: a press's retransmits and its end packets arrive
// within tens of milliseconds, while a person presses keys hundreds of
// milliseconds apart. A telephone-event packet arriving at least
// eventForgetAfterEnd after an end packet, or at least eventForgetAfter
// after any telephone-event packet, starts with an empty memory. The price:
// a stray end packet delayed by more than that counts as a new press.
const (
	eventForgetAfterEnd = 300 * time.Millisecond
	eventForgetAfter    = time.Second
)

// rtpRecvState is the receive loop's state. Only the receive loop (or a
// benchmark standing in for it) touches it.
type rtpRecvState struct {
	buf      [recvBufferSize]byte
	hdr      rtp.Header
	frame    [FrameSamples]int16 // decoded samples waiting to fill a frame
	pending  int                 // how many of frame are filled
	events   dtmf.Receiver
	detector *dtmf.Detector
	sock     sockRecv  // reading from a scheduler worker (Linux)
	loggedPT [128]bool // payload types already logged as ignored

	// The last telephone-event packet: when it arrived (since the leg's
	// epoch) and whether it was an end packet; see eventForgetAfter.
	eventSeen      bool
	lastEventAt    time.Duration
	lastEventEnded bool
}

// recordJob is a Record call's sink, handed to the receive loop.
type recordJob struct {
	sink Sink
	done chan error // buffered; receives the sink's error
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
	hdrLen, err := rx.hdr.Unmarshal(b)
	if err != nil {
		return
	}
	payload := b[hdrLen:]
	if rx.hdr.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	pt := rx.hdr.PayloadType

	from = unmapAddrPort(from)
	l.mu.Lock()
	eventPT := l.eventPT
	isEvent := eventPT != 0 && pt == eventPT
	isAudio := !isEvent && (pt == PCMU.PayloadType || pt == PCMA.PayloadType)
	if l.latched && from != l.remote {
		l.mu.Unlock()
		return // not the source we latched on
	}
	if !l.latched && (isAudio || isEvent) {
		l.latched = true
		if from != l.remote {
			l.log.Info("rtp source latched", "sdp_remote", l.remote, "remote", from)
			l.remote = from
		}
	}
	l.mu.Unlock()

	l.lastRecv.Store(int64(now.Sub(l.epoch)))
	advances := l.countReceived(isAudio, isEvent, len(payload), now)

	switch {
	case isEvent:
		rx.expireEvents(payload, now.Sub(l.epoch))
		if key, ok := rx.events.Packet(rx.hdr.SSRC, rx.hdr.Timestamp, rx.hdr.Marker, payload); ok {
			l.pushDigit(key, ViaRFC4733, now)
		}
	case isAudio:
		if !advances {
			return // duplicate or late: its place in the audio has passed
		}
		codec := PCMU
		if pt == PCMA.PayloadType {
			codec = PCMA
		}
		l.decodeAudio(codec, payload, eventPT == 0, now)
	default:
		if !rx.loggedPT[pt] {
			rx.loggedPT[pt] = true
			l.log.Debug("ignoring rtp payload type", "pt", pt, "remote", from)
		}
	}
}

// expireEvents resets the RFC 4733 receiver when the telephone-event
// packet with payload, arriving at at, follows a quiet spell (see
// eventForgetAfter), and notes the packet's arrival.
func (rx *rtpRecvState) expireEvents(payload []byte, at time.Duration) {
	if rx.eventSeen {
		quiet := at - rx.lastEventAt
		if quiet >= eventForgetAfter || (rx.lastEventEnded && quiet >= eventForgetAfterEnd) {
			rx.events.Reset()
		}
	}
	rx.eventSeen = true
	rx.lastEventAt = at
	rx.lastEventEnded = len(payload) >= dtmf.EventSize && payload[1]&0x80 != 0 // the E bit
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

// decodeAudio decodes a G.711 payload of any length into 20 ms frames,
// carrying a partial frame over to the next packet, and delivers each
// complete frame.
func (l *RTPLeg) decodeAudio(codec Codec, payload []byte, inBand bool, now time.Time) {
	rx := &l.rx
	for len(payload) > 0 {
		take := min(len(payload), FrameSamples-rx.pending)
		codec.Decode(rx.frame[rx.pending:rx.pending], payload[:take])
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
		if key, ok := l.rx.detector.Frame(frame); ok {
			l.pushDigit(key, ViaInBand, now)
		}
	}
	l.sinkMu.Lock()
	defer l.sinkMu.Unlock()
	for i := 0; i < len(l.sinks); {
		job := l.sinks[i]
		if err := job.sink.WriteFrame(frame); err != nil {
			job.done <- fmt.Errorf("media: record sink: %w", err)
			l.removeSink(i)
			continue
		}
		i++
	}
}

// removeSink drops sinks[i], keeping the order. The caller holds sinkMu.
func (l *RTPLeg) removeSink(i int) {
	copy(l.sinks[i:], l.sinks[i+1:])
	l.sinks[len(l.sinks)-1] = nil
	l.sinks = l.sinks[:len(l.sinks)-1]
}

// Record hands every frame received from now on to sink, in order, until
// ctx is cancelled (nil), sink fails (its error) or the leg ends
// (ErrLegClosed). Several Records may run at once; each sink gets every
// frame. Once Record returns, the leg no longer uses sink.
func (l *RTPLeg) Record(ctx context.Context, sink Sink) error {
	if sink == nil {
		return errors.New("media: record: nil sink")
	}
	if l.closed() {
		return ErrLegClosed
	}
	if ctx.Err() != nil {
		return nil
	}
	job := &recordJob{sink: sink, done: make(chan error, 1)}
	l.sinkMu.Lock()
	l.sinks = append(l.sinks, job)
	l.sinkMu.Unlock()

	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return l.detachSink(job, nil)
	case <-l.done:
		return l.detachSink(job, ErrLegClosed)
	}
}

// detachSink takes job away from the receive loop and returns why Record
// ends: the sink's error if it failed meanwhile, else cause.
func (l *RTPLeg) detachSink(job *recordJob, cause error) error {
	l.sinkMu.Lock()
	for i, j := range l.sinks {
		if j == job {
			l.removeSink(i)
			break
		}
	}
	l.sinkMu.Unlock()
	select {
	case err := <-job.done:
		return err
	default:
		return cause
	}
}
