package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

const (
	rtpVersion    = 2
	rtpHeaderSize = 12
	// maxSendPayload is the largest payload the send loop builds: one
	// 20 ms G.711 or G.722 frame (telephone-event payloads are 4 bytes).
	maxSendPayload = FrameSamples
)

// rtpSendState is the send loop's state. Only the send loop touches it.
type rtpSendState struct {
	clock   pacer  // the frame deadlines
	seq     uint16 // sequence number of the next packet sent
	marker  bool   // the next audio packet starts a talkspurt
	pcm     [FrameSamples]int16
	buf     [rtpHeaderSize + maxSendPayload]byte
	failing bool       // the last write failed (log once per run of failures)
	sock    sockSend   // how packets are written (rtpleg_send_linux.go)
	srtp    *srtpState // nil: plain RTP
	codec   CodecState // the encoder (G.722 keeps state)
}

// sendLoop paces the leg's packets until the leg ends (legs without a
// Scheduler).
func (l *RTPLeg) sendLoop() {
	l.tx.clock = newPacer(time.Now(), FrameDuration)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-l.ending.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		frame, skipped := l.tx.clock.Tick(now)
		l.sendTick(now, frame, skipped > 0)
		timer.Reset(time.Until(l.tx.clock.Deadline()))
	}
}

// sendDue runs the send tick for every frame due by now, as the send loop
// would have: overdue frames back to back, up to the pacer's catch-up
// limit. A Scheduler worker calls it when the leg's slot comes.
func (l *RTPLeg) sendDue(now time.Time) {
	for !now.Before(l.tx.clock.Deadline()) && !l.closed() {
		frame, skipped := l.tx.clock.Tick(now)
		l.sendTick(now, frame, skipped > 0)
	}
}

// sendTick does one 20 ms frame's work: check the inactivity timeout, then
// build frame's packet (telephone-event, Play audio or silence) and send
// it unless the call is on hold. gap says frames before this one were
// skipped.
func (l *RTPLeg) sendTick(now time.Time, frame int64, gap bool) {
	tx := &l.tx
	l.mu.Lock()
	remote, codec, eventPT, hold := l.remote, l.codec, l.eventPT, l.hold
	l.mu.Unlock()

	if !hold && l.inactivity > 0 {
		if silent := now.Sub(l.epoch) - time.Duration(l.lastRecv.Load()); silent > l.inactivity {
			l.log.Warn("no RTP received, ending leg", "timeout", l.inactivity)
			l.end("rtp-timeout")
			return
		}
	}
	if gap {
		tx.marker = true
	}

	pt, marker, ts, payload := l.nextPayload(l.tsBase+uint32(frame)*uint32(FrameSamples), codec, eventPT)
	if hold || !canSendTo(remote) {
		tx.marker = true // sending resumes with a new talkspurt
		return
	}
	pkt := buildPacket(tx.buf[:], pt, marker, tx.seq, ts, l.ssrc, payload)
	tx.seq++
	l.write(pkt, remote, len(payload), now)
}

// nextPayload writes the payload for the frame with timestamp frameTS into
// the packet buffer and returns it with its payload type, marker bit and
// timestamp: frameTS for audio, the event's start for telephone-event
// packets (RFC 4733). It advances the running SendDTMF or Play job.
func (l *RTPLeg) nextPayload(frameTS uint32, codec Codec, eventPT uint8) (pt uint8, marker bool, ts uint32, payload []byte) {
	tx := &l.tx
	body := tx.buf[rtpHeaderSize:rtpHeaderSize]
	pcm := tx.pcm[:]
	if payload, marker, ts, isEvent := l.jobs.NextFrame(frameTS, eventPT, body, pcm); isEvent {
		tx.marker = true // audio after a digit starts a new talkspurt
		return eventPT, marker, ts, payload
	}
	marker, tx.marker = tx.marker, false
	return codec.PayloadType, marker, frameTS, tx.codec.Encode(codec, body, pcm)
}

// canSendTo reports whether remote is an address to send RTP to: not
// missing, not 0.0.0.0 or :: (the old SDP way to put a call on hold), not
// port 0 (a rejected stream).
func canSendTo(remote netip.AddrPort) bool {
	return remote.IsValid() && !remote.Addr().IsUnspecified() && remote.Port() != 0
}

// buildPacket marshals an RTP packet into buf, whose payload area
// (buf[rtpHeaderSize:]) already holds payload, and returns the packet.
func buildPacket(buf []byte, pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	h := rtp.Header{
		Version:        rtpVersion,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: seq,
		Timestamp:      ts,
		SSRC:           ssrc,
	}
	if _, err := h.MarshalTo(buf[:rtpHeaderSize]); err != nil {
		panic("media: rtp header does not fit its buffer") // cannot happen: fixed 12-byte header
	}
	return buf[:rtpHeaderSize+len(payload)]
}

// write sends pkt to remote and counts it. Send errors do not end the leg
// (a firewall or a route may recover); the first of a run is logged. A
// socket closed behind the leg's back does end it, as a receive error
// would (a scheduler worker that receives for the leg sees no error when
// its socket is closed: the socket just leaves the epoll set).
func (l *RTPLeg) write(pkt []byte, remote netip.AddrPort, payloadLen int, now time.Time) {
	l.adoptTxKey()
	if l.tx.srtp != nil {
		protected, err := l.tx.srtp.protect(pkt)
		if err != nil {
			l.log.Warn("srtp protect failed", "err", err)
			return
		}
		pkt = protected
	}
	err := l.sendTo(pkt, remote)
	if err != nil {
		if errors.Is(err, net.ErrClosed) {
			if !l.closed() {
				l.log.Error("rtp socket closed, ending leg", "err", err)
				l.end("socket-error: " + err.Error())
			}
			return
		}
		if !l.tx.failing && !l.closed() {
			l.log.Warn("rtp send failed", "remote", remote, "err", err)
		}
		l.tx.failing = true
		return
	}
	l.tx.failing = false
	l.statsMu.Lock()
	if l.txStats.packets == 0 {
		l.txStats.first = now
	}
	l.txStats.packets++
	l.txStats.bytes += uint64(payloadLen)
	l.statsMu.Unlock()
}

// Play sends src to the far end in real time, one frame per 20 ms, and
// blocks until src returns io.EOF and its last frame has gone out (nil),
// ctx is cancelled (ctx.Err(); the next packet is silence), or the leg
// ends (ErrLegClosed). A failing source ends Play with its error. Calls
// are served one at a time, in no particular order; once Play returns,
// the leg no longer uses src.
func (l *RTPLeg) Play(ctx context.Context, src Source) error {
	return l.jobs.Play(ctx, src)
}
