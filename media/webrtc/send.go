package webrtc

import (
	"context"
	"time"

	"github.com/pion/rtp"

	"github.com/voxgate/voxgate/media"
)

// sendState is the send loop's state. Only the send loop touches it.
type sendState struct {
	seq     uint16 // sequence number of the next packet
	marker  bool   // the next audio packet starts a talkspurt
	hdr     rtp.Header
	pcm     [media.FrameSamples]int16
	payload [media.FrameSamples]byte // one μ-law frame (events need 4 bytes)
	failing bool                     // the last write failed (log once per run)
}

// sendLoop paces the leg's packets, one per 20 ms, until the leg ends.
func (l *Leg) sendLoop() {
	clock := pacer{start: time.Now(), interval: media.FrameDuration}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-l.ending.Done():
			return
		case <-timer.C:
		}
		frame, skipped := clock.tick(time.Now())
		l.sendTick(frame, skipped)
		timer.Reset(time.Until(clock.deadline()))
	}
}

// sendTick builds and sends frame's packet: telephone-event, Play audio or
// silence. gap says frames before it were skipped.
func (l *Leg) sendTick(frame int64, gap bool) {
	tx := &l.tx
	if gap {
		tx.marker = true
	}
	b := l.track.binding()
	pt, marker, ts, payload := l.nextPayload(l.tsBase+uint32(frame)*uint32(media.FrameSamples), b)
	if b.writer == nil {
		return // not bound yet (or any more): the frame's time passes unsent
	}
	tx.hdr = rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: tx.seq,
		Timestamp:      ts,
	}
	tx.seq++
	if err := b.writeRTP(&tx.hdr, payload); err != nil {
		if !tx.failing && !l.closed() {
			l.log.Warn("webrtc send failed", "err", err)
		}
		tx.failing = true
		return
	}
	tx.failing = false
}

// nextPayload fills the payload buffer for the frame with timestamp
// frameTS and returns it with its payload type, marker bit and timestamp
// (the event's start for telephone-event packets). It advances the running
// SendDTMF or Play job.
func (l *Leg) nextPayload(frameTS uint32, b binding) (pt uint8, marker bool, ts uint32, payload []byte) {
	tx := &l.tx
	body := tx.payload[:0]
	pcm := tx.pcm[:]
	if payload, marker, ts, isEvent := l.jobs.NextFrame(frameTS, b.eventPT, body, pcm); isEvent {
		tx.marker = true // audio after a digit starts a new talkspurt
		return b.eventPT, marker, ts, payload
	}
	marker, tx.marker = tx.marker, false
	return b.audioPT, marker, frameTS, media.PCMU.Encode(body, pcm)
}

// Play sends src to the browser in real time, one frame per 20 ms, and
// blocks until src returns io.EOF and its last frame has gone out (nil),
// ctx is cancelled (ctx.Err(); the next packet is silence) or the leg ends
// (media.ErrLegClosed). A failing source ends Play with its error. Calls
// are served one at a time. Frames are only consumed once the connection
// is up: a Play started before that waits. Once Play returns, the leg no
// longer uses src.
func (l *Leg) Play(ctx context.Context, src media.Source) error {
	return l.jobs.Play(ctx, src)
}

// readRTCP drains the RTCP the browser sends about our stream, so pion's
// interceptors see it, until the PeerConnection closes.
func (l *Leg) readRTCP() {
	buf := make([]byte, 1500)
	for {
		if _, _, err := l.sender.Read(buf); err != nil {
			return
		}
	}
}
