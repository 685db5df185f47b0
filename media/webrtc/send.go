package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// playJob is a Play call's source, handed to the send loop.
type playJob struct {
	src  media.Source
	done chan error // buffered; receives the end of src
}

// sendLoop paces the leg's packets, one per 20 ms, until the leg ends.
func (l *Leg) sendLoop() {
	clock := pacer{start: time.Now(), interval: media.FrameDuration}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-l.done:
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
	l.jobMu.Lock()
	defer l.jobMu.Unlock()

	if job := l.event; job != nil {
		if payload, marker, ts, ok := l.nextEventPayload(job, frameTS, b.eventPT, body); ok {
			tx.marker = true // audio after a digit starts a new talkspurt
			return b.eventPT, marker, ts, payload
		}
	}
	pcm := tx.pcm[:]
	if !l.readPlayFrame(pcm) {
		clear(pcm)
	}
	marker, tx.marker = tx.marker, false
	return b.audioPT, marker, frameTS, media.PCMU.Encode(body, pcm)
}

// readPlayFrame fills pcm from the running Play's source and reports
// whether it holds audio; when the source ends it completes the job. The
// caller holds jobMu.
func (l *Leg) readPlayFrame(pcm []int16) bool {
	job := l.play
	if job == nil {
		return false
	}
	n, err := job.src.ReadFrame(pcm)
	n = max(0, min(n, len(pcm)))
	clear(pcm[n:])
	if err != nil {
		l.play = nil
		if errors.Is(err, io.EOF) {
			job.done <- nil
		} else {
			job.done <- fmt.Errorf("webrtc: play source: %w", err)
		}
	}
	return n > 0
}

// Play sends src to the browser in real time, one frame per 20 ms, and
// blocks until src returns io.EOF and its last frame has gone out (nil),
// ctx is cancelled (ctx.Err(); the next packet is silence) or the leg ends
// (media.ErrLegClosed). A failing source ends Play with its error. Calls
// are served one at a time. Frames are only consumed once the connection
// is up: a Play started before that waits. Once Play returns, the leg no
// longer uses src.
func (l *Leg) Play(ctx context.Context, src media.Source) error {
	if src == nil {
		return errors.New("webrtc: play: nil source")
	}
	if err := l.acquire(ctx, l.playSlot); err != nil {
		return err
	}
	defer func() { <-l.playSlot }()

	job := &playJob{src: src, done: make(chan error, 1)}
	l.jobMu.Lock()
	l.play = job
	l.jobMu.Unlock()

	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return l.detachPlay(job, ctx.Err())
	case <-l.done:
		return l.detachPlay(job, media.ErrLegClosed)
	}
}

// detachPlay takes job away from the send loop and returns why Play ends:
// the job's own result if it finished meanwhile, else cause.
func (l *Leg) detachPlay(job *playJob, cause error) error {
	l.jobMu.Lock()
	if l.play == job {
		l.play = nil
	}
	l.jobMu.Unlock()
	select {
	case err := <-job.done:
		return err
	default:
		return cause
	}
}

// acquire takes slot (a one-element semaphore) unless ctx or the leg ends
// first.
func (l *Leg) acquire(ctx context.Context, slot chan struct{}) error {
	if l.closed() {
		return media.ErrLegClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.done:
		return media.ErrLegClosed
	}
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
