package media

// Leg jobs
//
// RTPLeg and webrtc.Leg differ in transport, packetisation and clock, but
// not in how Play, SendDTMF and Record reach the loops that do the work.
// Each of those calls hands a job (a Source, a DTMF packet plan, a Sink)
// to the loop that owns the work, under a small mutex, and waits for the
// job to finish, for its context, or for the leg to end. Because a loop
// uses a job only while holding that mutex, a caller that detaches its job
// knows the loop is done with it. LegJobs is that hand-off and LegEnd the
// leg's one-time end (its Done channel and reason); a leg holds one of
// each. legdigits.go has the shared parts of digit reception.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/voxgate/voxgate/media/dtmf"
)

// errEventPTGone ends a SendDTMF whose telephone-event payload type went
// away (a re-INVITE removed it) while it ran.
var errEventPTGone = errors.New("media: send dtmf: telephone-event no longer negotiated")

// LegEnd is how a leg ends: once, for a reason, closing its Done channel.
// Init it before use; it must not be copied after.
type LegEnd struct {
	once   sync.Once
	done   chan struct{}
	mu     sync.Mutex // guards reason
	reason string
}

// Init prepares e for a leg that has not ended.
func (e *LegEnd) Init() { e.done = make(chan struct{}) }

// End ends the leg on the first call: it records reason, closes Done and
// then runs cleanup (which may be nil) before returning. Later calls do
// nothing.
func (e *LegEnd) End(reason string, cleanup func()) {
	e.once.Do(func() {
		e.mu.Lock()
		e.reason = reason
		e.mu.Unlock()
		close(e.done)
		if cleanup != nil {
			cleanup()
		}
	})
}

// Done is closed when the leg has ended.
func (e *LegEnd) Done() <-chan struct{} { return e.done }

// Ended reports whether the leg has ended.
func (e *LegEnd) Ended() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Reason is the reason given to the first End; empty before it.
func (e *LegEnd) Reason() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reason
}

// playJob is a Play call's source, handed to the send loop.
type playJob struct {
	src  Source
	done chan error // buffered; receives the end of src
}

// eventJob is a SendDTMF call's RFC 4733 packet plan, handed to the send
// loop.
type eventJob struct {
	sender *dtmf.Sender
	ts     uint32     // RTP timestamp of the event being sent
	done   chan error // buffered; receives the end of the plan
}

// recordJob is a Record call's sink, handed to the receive loop.
type recordJob struct {
	sink Sink
	done chan error // buffered; receives the sink's error
}

// LegJobs hands a leg's Play, SendDTMF and Record calls to its send and
// receive loops. The leg's Play, SendDTMF and Record call the methods of
// the same names and block in them; its send loop calls NextFrame once per
// frame and its receive loop DeliverFrame once per decoded frame. Neither
// loop method allocates. Init it before use; it must not be copied after.
type LegJobs struct {
	done   <-chan struct{} // the leg's: closed when it ends
	prefix string          // starts error messages ("media", "webrtc")

	playSlot chan struct{} // held by the one running Play (or in-band SendDTMF)
	dtmfSlot chan struct{} // held by the one running SendDTMF

	jobMu sync.Mutex // held by the send loop while it uses the jobs below
	play  *playJob
	event *eventJob

	sinkMu sync.Mutex // held by the receive loop while it delivers to sinks
	sinks  []*recordJob
}

// Init prepares j for a leg whose done channel closes when it ends; errors
// j returns start with errPrefix ("media", "webrtc").
func (j *LegJobs) Init(done <-chan struct{}, errPrefix string) {
	j.done = done
	j.prefix = errPrefix
	j.playSlot = make(chan struct{}, 1)
	j.dtmfSlot = make(chan struct{}, 1)
}

// closed reports whether the leg has ended.
func (j *LegJobs) closed() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// acquire takes slot (a one-element semaphore) unless ctx ends or the leg
// ends first.
func (j *LegJobs) acquire(ctx context.Context, slot chan struct{}) error {
	if j.closed() {
		return ErrLegClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-j.done:
		return ErrLegClosed
	}
}

// Play hands src to the send loop and blocks until src returns io.EOF and
// its last frame has been taken (nil), ctx is cancelled (ctx.Err()) or the
// leg ends (ErrLegClosed). A failing source ends Play with its error.
// Calls are served one at a time; once Play returns, NextFrame no longer
// uses src.
func (j *LegJobs) Play(ctx context.Context, src Source) error {
	if src == nil {
		return fmt.Errorf("%s: play: nil source", j.prefix)
	}
	if err := j.acquire(ctx, j.playSlot); err != nil {
		return err
	}
	defer func() { <-j.playSlot }()

	job := &playJob{src: src, done: make(chan error, 1)}
	return runSendJob(ctx, j, &j.play, job, job.done)
}

// SendDTMF sends digits (0-9 * # A-D; w = 0.5 s pause, W = 1 s) and blocks
// until they are sent, ctx is cancelled or the leg ends. Calls are served
// one at a time. Once it has its turn it asks eventPT for the negotiated
// telephone-event payload type: with one, it hands an RFC 4733 packet
// plan to the send loop (NextFrame); with none (0), it plays the digits as
// tones through Play, after any running Play.
func (j *LegJobs) SendDTMF(ctx context.Context, digits string, eventPT func() uint8) error {
	if err := j.acquire(ctx, j.dtmfSlot); err != nil {
		return err
	}
	defer func() { <-j.dtmfSlot }()

	if eventPT() == 0 {
		src, err := dtmf.NewToneSource(digits)
		if err != nil {
			return fmt.Errorf("%s: send dtmf: %w", j.prefix, err)
		}
		return j.Play(ctx, src)
	}
	sender, err := dtmf.NewSender(digits)
	if err != nil {
		return fmt.Errorf("%s: send dtmf: %w", j.prefix, err)
	}
	job := &eventJob{sender: sender, done: make(chan error, 1)}
	return runSendJob(ctx, j, &j.event, job, job.done)
}

// runSendJob hands job to the send loop in *slot (a field of j guarded by
// jobMu) and waits for its result on done, for ctx or for the leg to end.
// In the last two cases it takes job away again: once it returns, the send
// loop no longer uses job.
func runSendJob[J any](ctx context.Context, j *LegJobs, slot **J, job *J, done <-chan error) error {
	j.jobMu.Lock()
	*slot = job
	j.jobMu.Unlock()

	var cause error
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cause = ctx.Err()
	case <-j.done:
		cause = ErrLegClosed
	}
	j.jobMu.Lock()
	if *slot == job {
		*slot = nil
	}
	j.jobMu.Unlock()
	return result(done, cause) // the job's own result if it finished meanwhile
}

// result returns the error waiting in done, else cause.
func result(done <-chan error, cause error) error {
	select {
	case err := <-done:
		return err
	default:
		return cause
	}
}

// NextFrame advances the running SendDTMF and Play by one frame; the send
// loop calls it once per frame, with frameTS the frame's RTP timestamp and
// eventPT the telephone-event payload type negotiated now (0: none, which
// ends a running RFC 4733 SendDTMF). When SendDTMF has a telephone-event
// packet for this frame, NextFrame appends its payload to body and returns
// it with isEvent true, the marker bit and the event's timestamp (frameTS
// when the packet starts a new event). Otherwise it fills pcm with the
// Play source's next frame, silence where there is none, and returns
// isEvent false.
func (j *LegJobs) NextFrame(frameTS uint32, eventPT uint8, body []byte, pcm []int16) (payload []byte, marker bool, ts uint32, isEvent bool) {
	j.jobMu.Lock()
	defer j.jobMu.Unlock()
	if job := j.event; job != nil {
		if payload, marker, ts, ok := j.nextEventPayload(job, frameTS, eventPT, body); ok {
			return payload, marker, ts, true
		}
	}
	if !j.readPlayFrame(pcm) {
		clear(pcm)
	}
	return nil, false, 0, false
}

// nextEventPayload advances job by one tick. When the plan has a packet
// for this tick it appends the telephone-event payload to body and
// returns it with the marker bit and the event's timestamp. The caller
// holds jobMu.
func (j *LegJobs) nextEventPayload(job *eventJob, frameTS uint32, eventPT uint8, body []byte) (payload []byte, marker bool, ts uint32, ok bool) {
	if eventPT == 0 {
		j.event = nil
		job.done <- errEventPTGone
		return nil, false, 0, false
	}
	pkt, send, done := job.sender.Next()
	if done {
		j.event = nil
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

// readPlayFrame fills pcm from the running Play's source and reports
// whether it holds audio. When the source ends, it completes the job.
// The caller holds jobMu.
func (j *LegJobs) readPlayFrame(pcm []int16) bool {
	job := j.play
	if job == nil {
		return false
	}
	n, err := job.src.ReadFrame(pcm)
	n = max(0, min(n, len(pcm)))
	clear(pcm[n:])
	if err != nil {
		j.play = nil
		if errors.Is(err, io.EOF) {
			job.done <- nil
		} else {
			job.done <- fmt.Errorf("%s: play source: %w", j.prefix, err)
		}
	}
	return n > 0
}

// Record hands every frame DeliverFrame gets from now on to sink, in
// order, until ctx is cancelled (nil), sink fails (its error) or the leg
// ends (ErrLegClosed). Several Records may run at once; each sink gets
// every frame. Once Record returns, DeliverFrame no longer uses sink.
func (j *LegJobs) Record(ctx context.Context, sink Sink) error {
	if sink == nil {
		return fmt.Errorf("%s: record: nil sink", j.prefix)
	}
	if j.closed() {
		return ErrLegClosed
	}
	if ctx.Err() != nil {
		return nil
	}
	job := &recordJob{sink: sink, done: make(chan error, 1)}
	j.sinkMu.Lock()
	j.sinks = append(j.sinks, job)
	j.sinkMu.Unlock()

	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return j.detachSink(job, nil)
	case <-j.done:
		return j.detachSink(job, ErrLegClosed)
	}
}

// detachSink takes job away from the receive loop and returns why Record
// ends: the sink's error if it failed meanwhile, else cause.
func (j *LegJobs) detachSink(job *recordJob, cause error) error {
	j.sinkMu.Lock()
	for i, s := range j.sinks {
		if s == job {
			j.removeSink(i)
			break
		}
	}
	j.sinkMu.Unlock()
	return result(job.done, cause)
}

// DeliverFrame hands a decoded frame to every Record sink; the receive
// loop calls it. A sink that fails is dropped and its Record returns the
// error.
func (j *LegJobs) DeliverFrame(frame []int16) {
	j.sinkMu.Lock()
	defer j.sinkMu.Unlock()
	for i := 0; i < len(j.sinks); {
		job := j.sinks[i]
		if err := job.sink.WriteFrame(frame); err != nil {
			job.done <- fmt.Errorf("%s: record sink: %w", j.prefix, err)
			j.removeSink(i)
			continue
		}
		i++
	}
}

// removeSink drops sinks[i], keeping the order. The caller holds sinkMu.
func (j *LegJobs) removeSink(i int) {
	copy(j.sinks[i:], j.sinks[i+1:])
	j.sinks[len(j.sinks)-1] = nil
	j.sinks = j.sinks[:len(j.sinks)-1]
}
