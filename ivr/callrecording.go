package ivr

// Whole-call recordings (Twilio's "Call Recordings": REST Calls.create
// Record=true, POST Calls/{Sid}/Recordings.json, Studio's record-call).
//
// Design. A session does not drive the call's leg directly: Run and
// RunOutbound wrap the call in a tapCall whose leg (tapLeg) passes every
// call through but wraps Play's source in a teeSource. Every frame the
// gateway sends the caller — <Say>, <Play>, hold music, ringback, the
// other party of a <Dial> or queue bridge (the bridge Plays on the same
// wrapped leg) — is read through the tee, which hands it to the call's
// active recordings (an atomically swapped slice: no lock and no
// allocation per frame). What the caller says comes from a Record on the
// leg that each recording runs for its lifetime. The two directions meet
// in a clocked mixer (mixrec.go): mono sums them, dual interleaves a
// two-channel WAV with the caller on the left and the gateway on the
// right. The mixer fills gaps in which neither side sent anything (a
// <Pause> while the caller's phone sends no RTP) with silence, so a
// recording keeps real time.
//
// A recording is started, paused, resumed and stopped through the Engine
// by call SID; it ends, at the latest, when the call ends: the file is
// completed (renamed from its temporary name, trimmed when asked), the
// store is told through Config.RecordingSaved (as for <Record>), and the
// RecordingStatusCallback is sent.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/sid"
)

// RecordingSource values of whole-call recordings.
const (
	SourceStartCallRecordingAPI   = "StartCallRecordingAPI"
	SourceOutboundAPI             = "OutboundAPI"
	SourceStartCallRecordingTwiML = "StartCallRecordingTwiML"
)

// CurrentRecording names a call's most recently started recording that
// has not ended (Twilio.CURRENT in the REST API).
const CurrentRecording = "Twilio.CURRENT"

// Recording tracks: what a whole-call recording hears.
const (
	TrackBoth     = "both"     // the caller and the gateway (default)
	TrackInbound  = "inbound"  // only what the caller sends
	TrackOutbound = "outbound" // only what the gateway sends the caller
)

// Statuses of a whole-call recording.
const (
	RecordingInProgress = "in-progress"
	RecordingPaused     = "paused"
	RecordingStopped    = "stopped"
	RecordingCompleted  = "completed"
	RecordingAbsent     = "absent"
)

var (
	// ErrNotInProgress means the call cannot be recorded: it has not been
	// answered yet, or it is ending.
	ErrNotInProgress = errors.New("ivr: call is not in progress")
	// ErrNoSuchRecording means the call has no recording with that SID
	// (or, for CurrentRecording, none that is still going).
	ErrNoSuchRecording = errors.New("ivr: no such recording on the call")
	// ErrRecordingEnded means the recording is over and cannot change.
	ErrRecordingEnded = errors.New("ivr: the recording has ended")
	// ErrNoRecordingsDir means Config.RecordingsDir is not set.
	ErrNoRecordingsDir = errors.New("ivr: no recordings directory configured")
)

// CallRecordingOptions configures a whole-call recording.
type CallRecordingOptions struct {
	// Channels is 1 (default): both directions mixed to mono, or 2: a
	// two-channel WAV, the caller on the left and the gateway on the right.
	Channels int
	// Track is TrackBoth (default), TrackInbound or TrackOutbound.
	Track string
	// Trim removes leading and trailing silence when the recording ends.
	Trim bool
	// StatusCallback is the absolute URL told about the recording's
	// events, with StatusCallbackMethod (default POST).
	StatusCallback       string
	StatusCallbackMethod string
	// StatusCallbackEvents are in-progress, completed and absent
	// (default: completed).
	StatusCallbackEvents []string
	// Source is the RecordingSource reported (default
	// SourceStartCallRecordingAPI).
	Source string
	// OnAnswer lets the recording be started while the call still rings:
	// it then begins when the call is answered (Studio's record-call
	// widget, which may run before the flow's first TwiML answers the
	// call). Without it a ringing call is ErrNotInProgress.
	OnAnswer bool
}

// CallRecording is the state of a whole-call recording.
type CallRecording struct {
	SID       string
	CallSID   string
	Status    string // in-progress, paused, stopped (as the REST update answers), completed, absent
	StartTime time.Time
	Duration  time.Duration // once ended
	Channels  int
	Source    string
	Track     string
}

// StartCallRecording starts recording the live, answered call. It fails
// with ErrNoSuchCall when the call is not running here and with
// ErrNotInProgress when it is not answered (or is ending).
func (e *Engine) StartCallRecording(callSID string, o CallRecordingOptions) (CallRecording, error) {
	s, err := e.live.get(callSID)
	if err != nil {
		return CallRecording{}, err
	}
	return s.startCallRecording(o)
}

// UpdateCallRecording pauses (status "paused"), resumes ("in-progress")
// or stops ("stopped") a recording of the live call; recSID may be
// CurrentRecording. A pause skips the paused time in the file, unless
// pauseSilence asks for it to be recorded as silence. Stopping saves the
// recording before it returns; the result's status is then "stopped".
func (e *Engine) UpdateCallRecording(callSID, recSID, status string, pauseSilence bool) (CallRecording, error) {
	s, err := e.live.get(callSID)
	if err != nil {
		return CallRecording{}, err
	}
	t := s.tapped()
	if t == nil {
		return CallRecording{}, fmt.Errorf("%w: %s", ErrNoSuchRecording, recSID)
	}
	r := t.find(recSID)
	if r == nil {
		return CallRecording{}, fmt.Errorf("%w: %s", ErrNoSuchRecording, recSID)
	}
	switch status {
	case RecordingPaused:
		return r.pause(pauseSilence)
	case RecordingInProgress:
		return r.resume()
	case RecordingStopped:
		res, err := r.finish()
		if err != nil {
			return res, err
		}
		res.Status = RecordingStopped
		return res, nil
	}
	return CallRecording{}, fmt.Errorf("ivr: recording status %q: want paused, in-progress or stopped", status)
}

// tapCall is the call as a session sees it: its leg tees what the gateway
// sends into the call's recordings, which it keeps.
type tapCall struct {
	Call
	leg tapLeg

	mu       sync.Mutex
	answered bool             // the call has been answered: recordings begin at once
	recs     []*callRecording // every recording started, oldest first
	closed   bool             // the call is ending: no new recordings
}

func newTapCall(c Call) *tapCall {
	t := &tapCall{Call: c}
	t.leg.Leg = c.Leg()
	return t
}

// Leg implements Call.
func (t *tapCall) Leg() media.Leg { return &t.leg }

// find returns the recording with recSID (or the current one).
func (t *tapCall) find(recSID string) *callRecording {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.recs) - 1; i >= 0; i-- {
		r := t.recs[i]
		if recSID == CurrentRecording && !r.ended.Load() || r.sid == recSID {
			return r
		}
	}
	return nil
}

// tapLeg is a leg whose Play also feeds the call's recordings.
type tapLeg struct {
	media.Leg
	listeners atomic.Pointer[[]*callRecording] // recordings of what is sent; replaced, never changed
	sinks     atomic.Pointer[[]media.Sink]     // other listeners (media streams, see forkAudio); replaced, never changed
	mu        sync.Mutex                       // serialises changes of listeners and sinks
}

// Play implements media.Leg: src is played through a tee.
func (l *tapLeg) Play(ctx context.Context, src media.Source) error {
	return l.Leg.Play(ctx, &teeSource{src: src, leg: l})
}

// listen adds (on) or removes r from the recordings of sent audio.
func (l *tapLeg) listen(r *callRecording, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var next []*callRecording
	if cur := l.listeners.Load(); cur != nil {
		for _, x := range *cur {
			if x != r {
				next = append(next, x)
			}
		}
	}
	if on {
		next = append(next, r)
	}
	l.listeners.Store(&next)
}

// teeSource hands each frame its source gives to the call's recordings.
// It runs on the leg's pacer: no locks of its own and no allocations.
type teeSource struct {
	src media.Source
	leg *tapLeg
}

// ReadFrame implements media.Source.
func (t *teeSource) ReadFrame(p []int16) (int, error) {
	n, err := t.src.ReadFrame(p)
	if n > 0 {
		if rs := t.leg.listeners.Load(); rs != nil && len(*rs) > 0 {
			if n < len(p) {
				clear(p[n:]) // the leg pads a short frame with silence too
			}
			for _, r := range *rs {
				r.write(1, p)
			}
		}
		if ss := t.leg.sinks.Load(); ss != nil && len(*ss) > 0 {
			if n < len(p) {
				clear(p[n:])
			}
			for _, sink := range *ss {
				_ = sink.WriteFrame(p)
			}
		}
	}
	return n, err
}

// tapped returns the session's tapped call (nil before an outbound call
// is answered).
func (s *session) tapped() *tapCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tap
}

// markInProgress notes that the call has been answered.
func (s *session) markInProgress() {
	if t, ok := s.call.(*tapCall); ok {
		t.answer()
	}
}

// answer marks the call answered and begins the recordings that waited
// for it.
func (t *tapCall) answer() {
	t.mu.Lock()
	if t.answered {
		t.mu.Unlock()
		return
	}
	t.answered = true
	waiting := slices.Clone(t.recs)
	t.mu.Unlock()
	for _, r := range waiting {
		r.begin()
	}
}

// callRecording is one whole-call recording.
type callRecording struct {
	s     *session // the call's main session: only its fixed fields are used
	log   *slog.Logger
	opts  CallRecordingOptions
	sid   string
	start time.Time
	tmp   string
	sink  *recordSink
	mix   *mixer
	tap   *tapCall

	paused atomic.Bool // frames are dropped
	ended  atomic.Bool // finished: frames are dropped

	mu        sync.Mutex // serialises state changes and their reports
	status    string
	begun     bool // receiving audio (the call has been answered)
	pauseSkip bool
	stopRec   context.CancelFunc
	recDone   chan error // the leg Record's result (nil: not recording the caller)
	result    CallRecording
	// lastCallback closes when the latest status callback has been sent.
	lastCallback <-chan struct{}
}

// inboundSide is the sink of what the caller sends.
type inboundSide struct{ r *callRecording }

func (s inboundSide) WriteFrame(p []int16) error {
	s.r.write(0, p)
	return nil // a failed recording is reported when it ends; the call goes on
}

// write hands one frame of side (0 caller, 1 gateway) to the mixer.
func (r *callRecording) write(side int, p []int16) {
	if r.paused.Load() || r.ended.Load() {
		return
	}
	_ = r.mix.write(side, p) // the mixer keeps its first error for finish
}

// normalize fills in defaults and checks o.
func (o *CallRecordingOptions) normalize() error {
	switch o.Channels {
	case 0:
		o.Channels = 1
	case 1, 2:
	default:
		return fmt.Errorf("ivr: recording channels %d: want 1 or 2", o.Channels)
	}
	switch o.Track {
	case "":
		o.Track = TrackBoth
	case TrackBoth, TrackInbound, TrackOutbound:
	default:
		return fmt.Errorf("ivr: recording track %q: want both, inbound or outbound", o.Track)
	}
	if o.Source == "" {
		o.Source = SourceStartCallRecordingAPI
	}
	return nil
}

// startCallRecording starts a recording of the session's call.
func (s *session) startCallRecording(o CallRecordingOptions) (CallRecording, error) {
	if err := o.normalize(); err != nil {
		return CallRecording{}, err
	}
	t := s.tapped()
	if t == nil {
		return CallRecording{}, fmt.Errorf("%w: %s", ErrNotInProgress, s.info.SID)
	}
	if t.mu.Lock(); !t.answered && !o.OnAnswer {
		t.mu.Unlock()
		return CallRecording{}, fmt.Errorf("%w: %s", ErrNotInProgress, s.info.SID)
	}
	t.mu.Unlock()
	dir := s.e.cfg.RecordingsDir
	if dir == "" {
		return CallRecording{}, ErrNoRecordingsDir
	}
	recSID := sid.New(sid.Recording)
	f, err := os.CreateTemp(dir, ".rec-"+recSID+"-*.wav")
	if err != nil {
		return CallRecording{}, fmt.Errorf("ivr: start call recording: %w", err)
	}
	sink, err := newRecordSink(f, 0)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return CallRecording{}, fmt.Errorf("ivr: start call recording: %w", err)
	}
	now := s.e.cfg.Clock.Now()
	r := &callRecording{
		s: s, log: s.log.With("recording_sid", recSID), opts: o, sid: recSID, start: now, tmp: f.Name(),
		sink: sink, mix: newCallMixer(sink, o.Channels == 2, s.e.cfg.Clock), tap: t,
		status: RecordingInProgress,
	}
	r.mu.Lock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		r.mu.Unlock()
		_, _, _ = sink.finish()
		os.Remove(f.Name())
		return CallRecording{}, fmt.Errorf("%w: %s", ErrNotInProgress, s.info.SID)
	}
	t.recs = append(t.recs, r)
	answered := t.answered // else tapCall.answer begins it
	t.mu.Unlock()
	r.log.Info("ivr: call recording started", "source", o.Source, "channels", o.Channels, "track", o.Track, "waits_for_answer", !answered)
	r.report(RecordingInProgress, 0, "", true)
	snap := r.snapshot()
	r.mu.Unlock()
	if answered {
		r.begin()
	}
	return snap, nil
}

// begin starts receiving the call's audio: what the caller sends (a Record
// on the leg) and what the gateway sends (the tee).
func (r *callRecording) begin() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.begun || r.ended.Load() {
		return
	}
	r.begun = true
	now := r.s.e.cfg.Clock.Now()
	r.mix.rebase(now) // the recording's time starts now
	if r.opts.Track != TrackOutbound {
		ctx, cancel := context.WithCancel(context.Background()) // ended by finish, which the call's end runs
		r.stopRec, r.recDone = cancel, make(chan error, 1)
		leg := r.tap.leg.Leg
		go func() { r.recDone <- leg.Record(ctx, inboundSide{r}) }()
	}
	if r.opts.Track != TrackInbound {
		r.tap.leg.listen(r, true)
	}
}

// snapshot is the recording's state. The caller holds mu.
func (r *callRecording) snapshot() CallRecording {
	if r.ended.Load() {
		return r.result
	}
	return CallRecording{SID: r.sid, CallSID: r.s.info.SID, Status: r.status, StartTime: r.start,
		Channels: r.opts.Channels, Source: r.opts.Source, Track: r.opts.Track}
}

// report tells the store about the recording's state and, when notify is
// set, sends the status callback for it if subscribed. The caller holds mu.
func (r *callRecording) report(status string, dur time.Duration, path string, notify bool) {
	rec := Recording{SID: r.sid, CallSID: r.s.info.SID, Path: path, Duration: dur, StartTime: r.start,
		Source: r.opts.Source, Channels: r.opts.Channels, Status: status}
	if r.s.e.cfg.RecordingSaved != nil {
		r.s.e.cfg.RecordingSaved(rec)
	}
	if !notify || r.opts.StatusCallback == "" || !subscribedTo(r.opts.StatusCallbackEvents, status) {
		return
	}
	target, err := webhook.ResolveURL(r.s.app.VoiceURL, r.opts.StatusCallback)
	if err != nil {
		r.log.Warn("ivr: RecordingStatusCallback URL", "error", err)
		return
	}
	// In order: a short recording's completed must not overtake its
	// in-progress.
	r.lastCallback = r.s.e.sendCallbackAfter(r.s.web, webhook.Request{URL: target, Method: r.opts.StatusCallbackMethod,
		Params: r.s.recordingParams(rec, status)}, r.lastCallback)
}

// pause stops recording until resume.
func (r *callRecording) pause(silence bool) (CallRecording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrRecordingEnded
	}
	if r.status == RecordingPaused {
		return r.snapshot(), nil
	}
	r.pauseSkip = !silence
	r.paused.Store(true)
	r.status = RecordingPaused
	behavior := "skip"
	if silence {
		behavior = "silence"
	}
	r.log.Info("ivr: call recording paused", "pause_behavior", behavior)
	r.report(RecordingPaused, 0, "", false)
	return r.snapshot(), nil
}

// resume records again after pause.
func (r *callRecording) resume() (CallRecording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrRecordingEnded
	}
	if r.status == RecordingInProgress {
		return r.snapshot(), nil
	}
	if r.pauseSkip {
		r.mix.rebase(r.s.e.cfg.Clock.Now()) // the paused time is left out
	}
	r.paused.Store(false)
	r.status = RecordingInProgress
	r.log.Info("ivr: call recording resumed")
	r.report(RecordingInProgress, 0, "", false)
	return r.snapshot(), nil
}

// finish ends the recording: the file is saved (or, with no audio at all,
// dropped as absent) and reported.
func (r *callRecording) finish() (CallRecording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended.Load() {
		return r.result, ErrRecordingEnded
	}
	r.ended.Store(true)
	r.tap.leg.listen(r, false)
	if r.recDone != nil {
		r.stopRec()
		if err := <-r.recDone; err != nil && !errors.Is(err, media.ErrLegClosed) {
			r.log.Warn("ivr: call recording: receiving the caller's audio failed", "error", err)
		}
	}
	defer os.Remove(r.tmp) // gone once renamed; cleans up otherwise
	wasPaused := r.paused.Load()
	_, mixErr := r.mix.finish(!wasPaused || !r.pauseSkip)
	frames, voiced, err := r.sink.finish()
	err = errors.Join(mixErr, err)
	res := CallRecording{SID: r.sid, CallSID: r.s.info.SID, StartTime: r.start,
		Channels: r.opts.Channels, Source: r.opts.Source, Track: r.opts.Track}
	if err == nil && frames == 0 {
		r.log.Info("ivr: call recording: no audio; nothing saved")
		res.Status = RecordingAbsent
		r.result = res
		r.report(RecordingAbsent, 0, "", true)
		return res, nil
	}
	final := filepath.Join(r.s.e.cfg.RecordingsDir, r.sid+".wav")
	if err == nil {
		err = saveCallRecording(r.tmp, final, r.opts.Channels, r.opts.Trim, voiced)
	}
	if err != nil {
		r.log.Error("ivr: call recording failed", "error", err)
		res.Status = RecordingAbsent
		r.result = res
		r.report(RecordingAbsent, 0, "", true)
		return res, fmt.Errorf("ivr: call recording %s: %w", r.sid, err)
	}
	if r.opts.Trim && voiced.first >= 0 {
		frames = voiced.last + 1 - voiced.first
	}
	res.Status = RecordingCompleted
	res.Duration = time.Duration(frames) * media.FrameDuration
	r.result = res
	callerFrames, gatewayFrames := r.mix.received()
	r.log.Info("ivr: call recording saved", "duration", res.Duration.String(), "path", final,
		"caller_frames", callerFrames, "gateway_frames", gatewayFrames)
	r.report(RecordingCompleted, res.Duration, final, true)
	return res, nil
}

// finishCallRecordings ends every recording of the call as it ends and
// returns them.
func (s *session) finishCallRecordings() []CallRecording {
	t := s.tapped()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	t.closed = true
	recs := append([]*callRecording(nil), t.recs...)
	t.mu.Unlock()
	var out []CallRecording
	for _, r := range recs {
		res, err := r.finish()
		if errors.Is(err, ErrRecordingEnded) {
			continue // stopped earlier
		}
		out = append(out, res)
	}
	return out
}

// saveCallRecording completes the recording at tmp as final: the WAV
// header says how many channels it has, and trim keeps only the frames
// from the first to the last with sound.
func saveCallRecording(tmp, final string, channels int, trim bool, voiced voicedSpan) error {
	if channels == 2 {
		if err := setWAVChannels(tmp, 2); err != nil {
			return err
		}
	}
	if trim && voiced.first >= 0 {
		return trimWAVFrames(tmp, final, channels, voiced.first, voiced.last+1)
	}
	return os.Rename(tmp, final)
}

// WAV header fields (of the canonical 44-byte header audio.WAVWriter
// writes).
const (
	wavHeaderLen     = 44
	wavOffChannels   = 22
	wavOffByteRate   = 28
	wavOffBlockAlign = 32
	wavOffRIFFSize   = 4
	wavOffDataSize   = 40
)

// setWAVChannels rewrites a 16-bit WAV header written for mono as one of
// channels interleaved channels (the sample data is already interleaved).
func setWAVChannels(path string, channels int) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var h [wavHeaderLen]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		f.Close()
		return fmt.Errorf("read WAV header of %s: %w", path, err)
	}
	le := binary.LittleEndian
	rate := le.Uint32(h[24:])
	le.PutUint16(h[wavOffChannels:], uint16(channels))
	le.PutUint32(h[wavOffByteRate:], rate*2*uint32(channels))
	le.PutUint16(h[wavOffBlockAlign:], uint16(2*channels))
	_, err = f.WriteAt(h[:], 0)
	return errors.Join(err, f.Close())
}

// trimWAVFrames writes frames [from, to) of the 16-bit WAV at src, of
// channels interleaved channels, to dst.
func trimWAVFrames(src, dst string, channels, from, to int) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(data) < wavHeaderLen {
		return fmt.Errorf("trim %s: not a WAV file", src)
	}
	frame := media.FrameSamples * 2 * channels
	body := data[wavHeaderLen:]
	lo, hi := min(from*frame, len(body)), min(to*frame, len(body))
	out := make([]byte, 0, wavHeaderLen+hi-lo)
	out = append(out, data[:wavHeaderLen]...)
	out = append(out, body[lo:hi]...)
	le := binary.LittleEndian
	le.PutUint32(out[wavOffDataSize:], uint32(hi-lo))
	le.PutUint32(out[wavOffRIFFSize:], uint32(hi-lo+wavHeaderLen-8))
	return writeFileAtomic(dst, out)
}

// recordingExtras are the Recording* parameters a call's final status
// callback carries when REST Calls.create Record=true recorded it.
func (s *session) recordingExtras(recs []CallRecording) []string {
	for _, r := range recs {
		if r.Source == SourceOutboundAPI && r.Status == RecordingCompleted {
			return []string{"RecordingUrl", s.recordingURL(r.SID), "RecordingSid", r.SID,
				"RecordingDuration", strconv.Itoa(int(r.Duration.Round(time.Second) / time.Second))}
		}
	}
	return nil
}
