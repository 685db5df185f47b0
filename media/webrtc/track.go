package webrtc

import (
	"strings"
	"sync"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
)

// binding is what the PeerConnection told the outgoing track when it was
// bound: where to write and with which SSRC and payload types.
type binding struct {
	writer  pion.TrackLocalWriter
	ssrc    uint32
	audioPT uint8
	eventPT uint8 // 0: telephone-event not negotiated
}

// audioTrack is the leg's outgoing track. Unlike pion's static tracks it
// lets the send loop write RTP headers it built itself (its own sequence
// numbers and timestamps, audio and telephone-event payload types) to the
// one PeerConnection it is bound to, without copying or allocating.
type audioTrack struct {
	id, streamID string

	mu    sync.Mutex
	bound binding // zero until Bind
	ctxID string  // the binding's TrackLocalContext ID
}

// Bind accepts the negotiated codecs when they include PCMU.
func (t *audioTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	var audio *pion.RTPCodecParameters
	var eventPT uint8
	codecs := ctx.CodecParameters()
	for i := range codecs {
		c := &codecs[i]
		switch {
		case audio == nil && strings.EqualFold(c.MimeType, pion.MimeTypePCMU):
			audio = c
		case eventPT == 0 && strings.EqualFold(c.MimeType, mimeTypeTelephoneEvent) && c.ClockRate == 8000:
			eventPT = uint8(c.PayloadType)
		}
	}
	if audio == nil {
		return pion.RTPCodecParameters{}, pion.ErrUnsupportedCodec
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bound = binding{writer: ctx.WriteStream(), ssrc: uint32(ctx.SSRC()), audioPT: uint8(audio.PayloadType), eventPT: eventPT}
	t.ctxID = ctx.ID()
	return *audio, nil
}

// Unbind forgets the binding; writes are dropped until the next Bind.
func (t *audioTrack) Unbind(ctx pion.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctxID != ctx.ID() {
		return pion.ErrUnbindFailed
	}
	t.bound = binding{}
	t.ctxID = ""
	return nil
}

// binding returns the current binding; its writer is nil while unbound.
func (t *audioTrack) binding() binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bound
}

// writeRTP sends one packet through the binding b.
func (b binding) writeRTP(h *rtp.Header, payload []byte) error {
	h.SSRC = b.ssrc
	_, err := b.writer.WriteRTP(h, payload)
	return err
}

// ID is the track's id (the a=msid track part).
func (t *audioTrack) ID() string { return t.id }

// RID is empty: no simulcast.
func (t *audioTrack) RID() string { return "" }

// StreamID is the track's stream id (the a=msid stream part).
func (t *audioTrack) StreamID() string { return t.streamID }

// Kind is audio.
func (t *audioTrack) Kind() pion.RTPCodecType { return pion.RTPCodecTypeAudio }

// Interface check.
var _ pion.TrackLocal = (*audioTrack)(nil)
