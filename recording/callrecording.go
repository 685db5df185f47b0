package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/media"
)

// callRecording is one whole-call recording.
type callRecording struct {
	c    *Call
	log  *slog.Logger
	opts Options
	file *File
	mix  *Mixer

	paused atomic.Bool // frames are dropped
	ended  atomic.Bool // finished: frames are dropped

	mu        sync.Mutex // serialises state changes and their reports
	status    string
	begun     bool // receiving audio (the call has been answered)
	pauseSkip bool
	stopFork  func() error // ends the tap's fork (nil before begin)
	result    State
	// lastCallback closes when the latest status callback has been sent.
	lastCallback <-chan struct{}
}

// side is the sink of one direction: 0 the caller, 1 the gateway.
type side struct {
	r *callRecording
	n int
}

// WriteFrame implements media.Sink.
func (s *side) WriteFrame(p []int16) error {
	if s.r.paused.Load() || s.r.ended.Load() {
		return nil
	}
	_ = s.r.mix.Write(s.n, p) // the mixer keeps its first error for finish
	return nil                // a failed recording is reported when it ends; the call goes on
}

// begin starts receiving the call's audio from the tap.
func (r *callRecording) begin() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.begun || r.ended.Load() {
		return
	}
	r.begun = true
	r.mix.Rebase(r.c.r.cfg.Clock.Now()) // the recording's time starts now
	var in, out media.Sink
	if r.opts.Track != TrackOutbound {
		in = &side{r, 0}
	}
	if r.opts.Track != TrackInbound {
		out = &side{r, 1}
	}
	r.stopFork = r.c.cfg.Tap.Fork(in, out)
}

// snapshot is the recording's state. The caller holds mu.
func (r *callRecording) snapshot() State {
	if r.ended.Load() {
		return r.result
	}
	return State{SID: r.file.SID, CallSID: r.c.cfg.CallSID, Status: r.status, StartTime: r.file.Start,
		Channels: r.opts.Channels, Source: r.opts.Source, Track: r.opts.Track}
}

// report tells the store about the recording's state and, when notify is
// set, sends the status callback for it if subscribed. The caller holds mu.
func (r *callRecording) report(status string, dur time.Duration, path string, notify bool) {
	rec := Recording{SID: r.file.SID, CallSID: r.c.cfg.CallSID, Path: path, Duration: dur, StartTime: r.file.Start,
		Source: r.opts.Source, Channels: r.opts.Channels, Status: status}
	r.c.r.Report(rec)
	if !notify || r.opts.StatusCallback == "" || !Subscribed(r.opts.StatusCallbackEvents, status) || r.c.cfg.Notify == nil {
		return
	}
	// In order: a short recording's completed must not overtake its
	// in-progress.
	r.lastCallback = r.c.cfg.Notify(r.opts.StatusCallback, r.opts.StatusCallbackMethod, r.c.r.Params(rec, status), r.lastCallback)
}

// pause stops recording until resume.
func (r *callRecording) pause(silence bool) (State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrEnded
	}
	if r.status == StatusPaused {
		return r.snapshot(), nil
	}
	r.pauseSkip = !silence
	r.paused.Store(true)
	r.status = StatusPaused
	behavior := "skip"
	if silence {
		behavior = "silence"
	}
	r.log.Info("recording: call recording paused", "pause_behavior", behavior)
	r.report(StatusPaused, 0, "", false)
	return r.snapshot(), nil
}

// resume records again after pause.
func (r *callRecording) resume() (State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrEnded
	}
	if r.status == StatusInProgress {
		return r.snapshot(), nil
	}
	if r.pauseSkip {
		r.mix.Rebase(r.c.r.cfg.Clock.Now()) // the paused time is left out
	}
	r.paused.Store(false)
	r.status = StatusInProgress
	r.log.Info("recording: call recording resumed")
	r.report(StatusInProgress, 0, "", false)
	return r.snapshot(), nil
}

// finish ends the recording: the file is saved (or, with no audio at all,
// dropped as absent) and reported.
func (r *callRecording) finish() (State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrEnded
	}
	r.ended.Store(true)
	if r.stopFork != nil {
		if err := r.stopFork(); err != nil && !errors.Is(err, media.ErrLegClosed) {
			r.log.Warn("recording: call recording: receiving the caller's audio failed", "error", err)
		}
	}
	_, mixErr := r.mix.Finish(!r.paused.Load() || !r.pauseSkip)
	frames, err := r.file.Close()
	err = errors.Join(mixErr, err)
	res := State{SID: r.file.SID, CallSID: r.c.cfg.CallSID, StartTime: r.file.Start,
		Channels: r.opts.Channels, Source: r.opts.Source, Track: r.opts.Track}
	if err == nil && frames == 0 {
		r.log.Info("recording: call recording: no audio; nothing saved")
		return r.absent(res, nil)
	}
	var path string
	if err == nil {
		path, res.Duration, err = r.file.Save(r.opts.Trim)
	}
	if err != nil {
		r.log.Error("recording: call recording failed", "error", err)
		res.Duration = 0
		return r.absent(res, fmt.Errorf("recording: call recording %s: %w", r.file.SID, err))
	}
	res.Status = StatusCompleted
	r.result = res
	caller, gateway := r.mix.Received()
	r.log.Info("recording: call recording saved", "duration", res.Duration.String(), "path", path,
		"caller_frames", caller, "gateway_frames", gateway)
	r.report(StatusCompleted, res.Duration, path, true)
	return res, nil
}

// absent ends a recording that saved nothing.
func (r *callRecording) absent(res State, err error) (State, error) {
	r.file.Discard()
	res.Status = StatusAbsent
	r.result = res
	r.report(StatusAbsent, 0, "", true)
	return res, err
}
