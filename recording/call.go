package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Options configures a whole-call recording.
type Options struct {
	// Channels is 1 (default): both directions mixed to mono, or 2: a
	// two-channel WAV, the caller on the left and the gateway on the right.
	Channels int
	// Track is TrackBoth (default), TrackInbound or TrackOutbound.
	Track string
	// Trim removes leading and trailing silence when the recording ends.
	Trim bool
	// StatusCallback is the URL told about the recording's events, with
	// StatusCallbackMethod (default POST), by CallConfig.Notify.
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

// normalize fills in defaults and checks o.
func (o *Options) normalize() error {
	switch o.Channels {
	case 0:
		o.Channels = 1
	case 1, 2:
	default:
		return fmt.Errorf("recording: channels %d: want 1 or 2", o.Channels)
	}
	switch o.Track {
	case "":
		o.Track = TrackBoth
	case TrackBoth, TrackInbound, TrackOutbound:
	default:
		return fmt.Errorf("recording: track %q: want both, inbound or outbound", o.Track)
	}
	if o.Source == "" {
		o.Source = SourceStartCallRecordingAPI
	}
	return nil
}

// State is the state of a whole-call recording, as the REST API shows it.
type State struct {
	SID       string
	CallSID   string
	Status    string // in-progress, paused, stopped (as the REST update answers), completed, absent
	StartTime time.Time
	Duration  time.Duration // once ended
	Channels  int
	Source    string
	Track     string
}

// Notifier sends a recording status callback, params to the URL target
// (as the application gave it: relative to the call's voice URL, maybe)
// with method, in the background once the one before it has been sent
// (after is closed; nil: at once). It returns a channel closed once the
// callback has been delivered or given up on.
type Notifier func(target, method string, params url.Values, after <-chan struct{}) <-chan struct{}

// CallConfig describes the call a Call records.
type CallConfig struct {
	CallSID string
	// Tap is the call's leg, with its tap: the recordings hear what the
	// caller sends and everything played to the caller through it.
	Tap *media.Tap
	// Notify sends the recordings' status callbacks.
	Notify Notifier
	Logger *slog.Logger
}

// Call is one call's whole-call recordings (Twilio's "Call Recordings":
// REST Calls.create Record=true, POST Calls/{Sid}/Recordings.json, Studio's
// record-call). Each recording forks the call's audio from its Tap, both
// directions into a clocked Mixer: mono sums them, dual interleaves a
// two-channel WAV with the caller on the left and the gateway on the
// right; the mixer fills gaps in which neither side sent anything (a
// <Pause> while the caller's phone sends no RTP) with silence, so a
// recording keeps real time. A recording ends, at the latest, when the
// call ends (Finish): the file is saved, trimmed when asked, the store is
// told and the RecordingStatusCallback is sent.
type Call struct {
	r   *Recorder
	cfg CallConfig

	mu       sync.Mutex
	answered bool             // the call has been answered: recordings begin at once
	recs     []*callRecording // every recording started, oldest first
	closed   bool             // the call is ending: no new recordings
}

// NewCall returns the recordings of a call, none started yet.
func (r *Recorder) NewCall(cfg CallConfig) *Call {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Call{r: r, cfg: cfg}
}

// Answered notes that the call has been answered and begins the
// recordings that waited for it.
func (c *Call) Answered() {
	c.mu.Lock()
	if c.answered {
		c.mu.Unlock()
		return
	}
	c.answered = true
	waiting := slices.Clone(c.recs)
	c.mu.Unlock()
	for _, r := range waiting {
		r.begin()
	}
}

// Start starts a recording of the call: at once when it has been
// answered, else when it is (with o.OnAnswer; without it a ringing call
// is ErrNotInProgress).
func (c *Call) Start(o Options) (State, error) {
	if err := o.normalize(); err != nil {
		return State{}, err
	}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered && !o.OnAnswer {
		return State{}, fmt.Errorf("%w: %s", ErrNotInProgress, c.cfg.CallSID)
	}
	f, err := c.r.Create(o.Channels, 0)
	if err != nil {
		return State{}, fmt.Errorf("recording: start call recording: %w", err)
	}
	r := &callRecording{
		c: c, log: c.cfg.Logger.With("recording_sid", f.SID), opts: o, file: f,
		mix: NewMixer(f, o.Channels == 2, c.r.cfg.Clock), status: StatusInProgress,
	}
	r.mu.Lock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		r.mu.Unlock()
		f.Discard()
		return State{}, fmt.Errorf("%w: %s", ErrNotInProgress, c.cfg.CallSID)
	}
	c.recs = append(c.recs, r)
	answered = c.answered // else Answered begins it
	c.mu.Unlock()
	r.log.Info("recording: call recording started", "source", o.Source, "channels", o.Channels, "track", o.Track, "waits_for_answer", !answered)
	r.report(StatusInProgress, 0, "", true)
	snap := r.snapshot()
	r.mu.Unlock()
	if answered {
		r.begin()
	}
	return snap, nil
}

// Update pauses (status StatusPaused), resumes (StatusInProgress) or
// stops (StatusStopped) recording recSID, which may be Current. A pause
// skips the paused time in the file, unless pauseSilence asks for it to
// be recorded as silence. Stopping saves the recording before it returns;
// the result's status is then StatusStopped.
func (c *Call) Update(recSID, status string, pauseSilence bool) (State, error) {
	r := c.find(recSID)
	if r == nil {
		return State{}, fmt.Errorf("%w: %s", ErrNoSuchRecording, recSID)
	}
	switch status {
	case StatusPaused:
		return r.pause(pauseSilence)
	case StatusInProgress:
		return r.resume()
	case StatusStopped:
		res, err := r.finish()
		if err != nil {
			return res, err
		}
		res.Status = StatusStopped
		return res, nil
	}
	return State{}, fmt.Errorf("recording: status %q: want paused, in-progress or stopped", status)
}

// Received returns how many frames recording recSID (or Current) has had
// from the caller and from the gateway.
func (c *Call) Received(recSID string) (caller, gateway int, ok bool) {
	r := c.find(recSID)
	if r == nil {
		return 0, 0, false
	}
	caller, gateway = r.mix.Received()
	return caller, gateway, true
}

// find returns the recording with recSID (or the current one).
func (c *Call) find(recSID string) *callRecording {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.recs) - 1; i >= 0; i-- {
		r := c.recs[i]
		if recSID == Current && !r.ended.Load() || r.file.SID == recSID {
			return r
		}
	}
	return nil
}

// Finish ends every recording of the call as it ends and returns those
// it ended (not those stopped before).
func (c *Call) Finish() []State {
	c.mu.Lock()
	c.closed = true
	recs := slices.Clone(c.recs)
	c.mu.Unlock()
	var out []State
	for _, r := range recs {
		res, err := r.finish()
		if errors.Is(err, ErrEnded) {
			continue // stopped earlier
		}
		out = append(out, res)
	}
	return out
}
