package webrtc

import (
	"context"
	"strings"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
)

// recvBufferSize is the receive loop's one read buffer, above any MTU.
const recvBufferSize = 1500

// recvState is the receive loop's state. Only the receive loop (or a
// benchmark standing in for it) touches it.
type recvState struct {
	buf     [recvBufferSize]byte
	hdr     rtp.Header
	frame   [media.FrameSamples]int16 // decoded samples waiting to fill a frame
	pending int                       // how many of frame are filled
	audioPT uint8
	eventPT uint8 // 0: telephone-event not negotiated
	events  media.EventReceiver
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
	payload, ok := media.ParseRTP(&rx.hdr, b)
	if !ok {
		return
	}
	switch pt := rx.hdr.PayloadType; {
	case rx.eventPT != 0 && pt == rx.eventPT:
		if key, ok := rx.events.Packet(rx.hdr.SSRC, rx.hdr.Timestamp, rx.hdr.Marker, payload, now); ok {
			l.digits.Push(key, media.ViaRFC4733, now)
		}
	case pt == rx.audioPT:
		l.decodeAudio(payload)
	}
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
			l.jobs.DeliverFrame(rx.frame[:])
		}
	}
}

// Record hands every frame received from now on to sink, in order, until
// ctx is cancelled (nil), sink fails (its error) or the leg ends
// (media.ErrLegClosed). Several Records may run at once; each sink gets
// every frame. Once Record returns, the leg no longer uses sink.
func (l *Leg) Record(ctx context.Context, sink media.Sink) error {
	return l.jobs.Record(ctx, sink)
}
