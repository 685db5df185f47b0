package webrtc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/dtmf"
)

// eventJob is a SendDTMF call's RFC 4733 packet plan, handed to the send
// loop.
type eventJob struct {
	sender *dtmf.Sender
	ts     uint32     // RTP timestamp of the event being sent
	done   chan error // buffered; receives the end of the plan
}

// errEventPTGone ends a SendDTMF whose telephone-event binding went away.
var errEventPTGone = errors.New("webrtc: send dtmf: telephone-event not negotiated")

// DTMF returns the channel of digits pressed by the agent: keys from the
// page's keypad (InjectDigit) and RFC 4733 telephone-event packets. It
// holds up to 32 digits; when the reader falls behind further, digits are
// dropped and logged. The channel is never closed: select on Done as well.
func (l *Leg) DTMF() <-chan media.Digit { return l.digits }

// InjectDigit adds a key the page sent over the signalling channel to the
// DTMF channel. It is reported with Via media.ViaSIPInfo, the out-of-band
// signalling kind. Bytes that are not keys (0-9 * # A-D, a-d accepted) are
// ignored.
func (l *Leg) InjectDigit(key byte) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	if _, ok := dtmf.KeyToCode(key); !ok {
		l.log.Debug("ignoring injected non-DTMF key", "key", key)
		return
	}
	l.pushDigit(key, media.ViaSIPInfo, time.Now())
}

// pushDigit delivers a digit without ever blocking the caller.
func (l *Leg) pushDigit(key byte, via media.DigitVia, at time.Time) {
	select {
	case l.digits <- media.Digit{Key: key, Via: via, At: at}:
		l.log.Debug("dtmf digit", "key", string(rune(key)), "via", via)
	default:
		l.log.Warn("dtmf channel full, digit dropped", "key", string(rune(key)), "via", via)
	}
}

// SendDTMF sends digits (0-9 * # A-D; w = 0.5 s pause, W = 1 s) to the
// browser and blocks until they are sent, ctx is cancelled or the leg
// ends. With telephone-event negotiated it sends RFC 4733 packets,
// pausing Play audio while each digit is sent; otherwise it plays the
// digits as tones, as a Play would. Calls are served one at a time.
func (l *Leg) SendDTMF(ctx context.Context, digits string) error {
	if err := l.acquire(ctx, l.dtmfSlot); err != nil {
		return err
	}
	defer func() { <-l.dtmfSlot }()

	if l.track.binding().eventPT == 0 {
		src, err := dtmf.NewToneSource(digits)
		if err != nil {
			return fmt.Errorf("webrtc: send dtmf: %w", err)
		}
		return l.Play(ctx, src)
	}
	sender, err := dtmf.NewSender(digits)
	if err != nil {
		return fmt.Errorf("webrtc: send dtmf: %w", err)
	}
	job := &eventJob{sender: sender, done: make(chan error, 1)}
	l.jobMu.Lock()
	l.event = job
	l.jobMu.Unlock()

	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return l.detachEvent(job, ctx.Err())
	case <-l.done:
		return l.detachEvent(job, media.ErrLegClosed)
	}
}

// detachEvent takes job away from the send loop and returns why SendDTMF
// ends: the job's own result if it finished meanwhile, else cause.
func (l *Leg) detachEvent(job *eventJob, cause error) error {
	l.jobMu.Lock()
	if l.event == job {
		l.event = nil
	}
	l.jobMu.Unlock()
	select {
	case err := <-job.done:
		return err
	default:
		return cause
	}
}

// nextEventPayload advances job by one tick. When the plan has a packet
// for this tick it writes the telephone-event payload into body and
// returns it with the marker bit and the event's timestamp. The caller
// holds jobMu.
func (l *Leg) nextEventPayload(job *eventJob, frameTS uint32, eventPT uint8, body []byte) (payload []byte, marker bool, ts uint32, ok bool) {
	if eventPT == 0 {
		l.event = nil
		job.done <- errEventPTGone
		return nil, false, 0, false
	}
	pkt, send, done := job.sender.Next()
	if done {
		l.event = nil
		job.done <- nil
	}
	if !send {
		return nil, false, 0, false
	}
	if pkt.NewTimestamp {
		job.ts = frameTS
	}
	return pkt.Event.AppendTo(body), pkt.Marker, job.ts, true
}
