package webrtc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/dtmf"
)

// recvBufferSize is the receive loop's one read buffer, above any MTU.
const recvBufferSize = 1500

// The RFC 4733 receiver forgets past presses after a quiet spell, so the
// same key pressed twice counts twice even if a sender reuses timestamps
// (see media.RTPLeg).
const (
	eventForgetAfterEnd = 300 * time.Millisecond
	eventForgetAfter    = time.Second
)

// recvState is the receive loop's state. Only the receive loop (or a
// benchmark standing in for it) touches it.
type recvState struct {
	buf     [recvBufferSize]byte
	hdr     rtp.Header
	frame   [media.FrameSamples]int16 // decoded samples waiting to fill a frame
	pending int                       // how many of frame are filled
	audioPT uint8
	eventPT uint8 // 0: telephone-event not negotiated
	events  dtmf.Receiver

	lastEventAt    time.Time // zero before the first telephone-event packet
	lastEventEnded bool
}

// recordJob is a Record call's sink, handed to the receive loop.
type recordJob struct {
	sink media.Sink
	done chan error // buffered; receives the sink's error
}

// trackArrived starts the receive loop for the browser's audio track.
func (l *Leg) trackArrived(track *pion.TrackRemote, _ *pion.RTPReceiver) {
	if track.Kind() != pion.RTPCodecTypeAudio {
		return
	}
	l.rx.audioPT, l.rx.eventPT = l.negotiatedPayloadTypes(uint8(track.PayloadType()))
	l.log.Debug("webrtc remote track", "codec", track.Codec().MimeType, "pt", l.rx.audioPT, "event_pt", l.rx.eventPT)
	l.startLoop(func() { l.recvLoop(track) })
}

// negotiatedPayloadTypes returns the payload types negotiated for PCMU
// (fallback when none is found) and for telephone-event/8000 (0 if none).
func (l *Leg) negotiatedPayloadTypes(fallback uint8) (audioPT, eventPT uint8) {
	audioPT = fallback
	for _, tr := range l.pc.GetTransceivers() {
		for _, c := range tr.Receiver().GetParameters().Codecs {
			switch {
			case strings.EqualFold(c.MimeType, pion.MimeTypePCMU):
				audioPT = uint8(c.PayloadType)
			case strings.EqualFold(c.MimeType, mimeTypeTelephoneEvent) && c.ClockRate == 8000:
				eventPT = uint8(c.PayloadType)
			}
		}
	}
	return audioPT, eventPT
}

// recvLoop reads the track until the PeerConnection closes.
func (l *Leg) recvLoop(track *pion.TrackRemote) {
	for {
		n, _, err := track.Read(l.rx.buf[:])
		if err != nil {
			if !l.closed() {
				l.log.Debug("webrtc track ended", "err", err)
			}
			return
		}
		l.handlePacket(l.rx.buf[:n], time.Now())
	}
}

// handlePacket decodes one RTP packet from the browser.
func (l *Leg) handlePacket(b []byte, now time.Time) {
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
	switch pt := rx.hdr.PayloadType; {
	case rx.eventPT != 0 && pt == rx.eventPT:
		rx.expireEvents(payload, now)
		if key, ok := rx.events.Packet(rx.hdr.SSRC, rx.hdr.Timestamp, rx.hdr.Marker, payload); ok {
			l.pushDigit(key, media.ViaRFC4733, now)
		}
	case pt == rx.audioPT:
		l.decodeAudio(payload)
	}
}

// expireEvents resets the RFC 4733 receiver when the packet with payload,
// arriving at now, follows a quiet spell, and notes its arrival.
func (rx *recvState) expireEvents(payload []byte, now time.Time) {
	if !rx.lastEventAt.IsZero() {
		quiet := now.Sub(rx.lastEventAt)
		if quiet >= eventForgetAfter || (rx.lastEventEnded && quiet >= eventForgetAfterEnd) {
			rx.events.Reset()
		}
	}
	rx.lastEventAt = now
	rx.lastEventEnded = len(payload) >= dtmf.EventSize && payload[1]&0x80 != 0 // the E bit
}

// decodeAudio decodes a μ-law payload of any length into 20 ms frames,
// carrying a partial frame over to the next packet, and delivers each
// complete frame.
func (l *Leg) decodeAudio(payload []byte) {
	rx := &l.rx
	for len(payload) > 0 {
		take := min(len(payload), media.FrameSamples-rx.pending)
		media.PCMU.Decode(rx.frame[rx.pending:rx.pending], payload[:take])
		rx.pending += take
		payload = payload[take:]
		if rx.pending == media.FrameSamples {
			rx.pending = 0
			l.deliverFrame(rx.frame[:])
		}
	}
}

// deliverFrame hands a decoded frame to every Record sink. A sink that
// fails is dropped and its Record returns the error.
func (l *Leg) deliverFrame(frame []int16) {
	l.sinkMu.Lock()
	defer l.sinkMu.Unlock()
	for i := 0; i < len(l.sinks); {
		job := l.sinks[i]
		if err := job.sink.WriteFrame(frame); err != nil {
			job.done <- fmt.Errorf("webrtc: record sink: %w", err)
			l.removeSink(i)
			continue
		}
		i++
	}
}

// removeSink drops sinks[i], keeping the order. The caller holds sinkMu.
func (l *Leg) removeSink(i int) {
	copy(l.sinks[i:], l.sinks[i+1:])
	l.sinks[len(l.sinks)-1] = nil
	l.sinks = l.sinks[:len(l.sinks)-1]
}

// Record hands every frame received from now on to sink, in order, until
// ctx is cancelled (nil), sink fails (its error) or the leg ends
// (media.ErrLegClosed). Several Records may run at once; each sink gets
// every frame. Once Record returns, the leg no longer uses sink.
func (l *Leg) Record(ctx context.Context, sink media.Sink) error {
	if sink == nil {
		return errors.New("webrtc: record: nil sink")
	}
	if l.closed() {
		return media.ErrLegClosed
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
		return l.detachSink(job, media.ErrLegClosed)
	}
}

// detachSink takes job away from the receive loop and returns why Record
// ends: the sink's error if it failed meanwhile, else cause.
func (l *Leg) detachSink(job *recordJob, cause error) error {
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
