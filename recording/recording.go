// Package recording is the lifecycle of Voxgate's recordings: a WAV file
// written while a call runs (the <Record> verb's, a <Dial record>
// bridge's, or a whole call's, Twilio's "Call Recordings"), paused and
// resumed, trimmed and saved under its SID, told to the store and to the
// application's recordingStatusCallback.
//
// A Recorder holds what every recording shares (the directory, the URL the
// files are served at, the store). File is one WAV file being written
// from frames; Mixer joins the two directions of a call into one stream
// (mono or two channels); Mixed is a bridge's recording (<Dial record>);
// Call is a call's whole-call recordings, which hear the call through a
// media.Tap on its leg. The bytes of WAV files are media/audio's job.
package recording

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/clock"
)

// Recording describes a recording, for the store and the REST API.
type Recording struct {
	SID       string
	CallSID   string
	Path      string // the WAV file, once saved
	Duration  time.Duration
	StartTime time.Time
	Source    string // SourceRecordVerb, SourceDialVerb, SourceOutboundAPI, …
	Channels  int
	// Status is "" or StatusCompleted for a finished recording; whole-call
	// recordings are also reported as they start (StatusInProgress),
	// pause (StatusPaused) and resume, and as StatusAbsent when they heard
	// nothing.
	Status string
}

// RecordingSource values, as Twilio names them.
const (
	SourceRecordVerb              = "RecordVerb"
	SourceDialVerb                = "DialVerb"
	SourceStartCallRecordingAPI   = "StartCallRecordingAPI"
	SourceOutboundAPI             = "OutboundAPI"
	SourceStartCallRecordingTwiML = "StartCallRecordingTwiML"
)

// Statuses of a recording.
const (
	StatusInProgress = "in-progress"
	StatusPaused     = "paused"
	StatusStopped    = "stopped" // what a REST stop answers
	StatusCompleted  = "completed"
	StatusAbsent     = "absent"
)

// Current names a call's most recently started recording that has not
// ended (Twilio.CURRENT in the REST API).
const Current = "Twilio.CURRENT"

// Recording tracks: what a whole-call recording hears.
const (
	TrackBoth     = "both"     // the caller and the gateway (default)
	TrackInbound  = "inbound"  // only what the caller sends
	TrackOutbound = "outbound" // only what the gateway sends the caller
)

var (
	// ErrNotInProgress means the call cannot be recorded: it has not been
	// answered yet, or it is ending.
	ErrNotInProgress = errors.New("recording: call is not in progress")
	// ErrNoSuchRecording means the call has no recording with that SID
	// (or, for Current, none that is still going).
	ErrNoSuchRecording = errors.New("recording: no such recording on the call")
	// ErrEnded means the recording is over and cannot change.
	ErrEnded = errors.New("recording: the recording has ended")
	// ErrNoDir means Config.Dir is not set.
	ErrNoDir = errors.New("recording: no recordings directory configured")
)

// Config is what a Recorder needs.
type Config struct {
	// Dir is where recordings are written, each as SID.wav.
	Dir string
	// PublicURL is the gateway's HTTP base URL; RecordingUrl is built on
	// it, with AccountSID.
	PublicURL  string
	AccountSID string
	// Clock tells the time (default clock.Real).
	Clock clock.Clock
	// Saved, when set, is told about every finished recording, and about
	// whole-call recordings as they start, pause and resume. It runs
	// synchronously: once a REST start or update returns, the store has
	// the recording.
	Saved func(Recording)
}

// Recorder makes the gateway's recordings. It is safe for concurrent use.
type Recorder struct {
	cfg Config
}

// New returns a Recorder.
func New(cfg Config) *Recorder {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	return &Recorder{cfg: cfg}
}

// URL is where recording recSID is served (no extension = WAV).
func (r *Recorder) URL(recSID string) string {
	return fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s", strings.TrimRight(r.cfg.PublicURL, "/"), r.cfg.AccountSID, recSID)
}

// Params are the parameters of a recordingStatusCallback for event.
func (r *Recorder) Params(rec Recording, event string) url.Values {
	p := url.Values{}
	p.Set("AccountSid", r.cfg.AccountSID)
	p.Set("CallSid", rec.CallSID)
	p.Set("RecordingSid", rec.SID)
	p.Set("RecordingUrl", r.URL(rec.SID))
	p.Set("RecordingStatus", event)
	p.Set("RecordingDuration", strconv.Itoa(Seconds(rec.Duration)))
	p.Set("RecordingChannels", strconv.Itoa(max(1, rec.Channels)))
	p.Set("RecordingStartTime", rec.StartTime.UTC().Format(time.RFC1123Z))
	p.Set("RecordingSource", rec.Source)
	if event == StatusAbsent {
		p.Set("ErrorCode", "0")
	}
	return p
}

// Report tells the store about rec.
func (r *Recorder) Report(rec Recording) {
	if r.cfg.Saved != nil {
		r.cfg.Saved(rec)
	}
}

// Seconds is a duration in whole seconds, rounded, as Twilio reports them.
func Seconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

// Subscribed reports whether events (default: completed) include event.
func Subscribed(events []string, event string) bool {
	if len(events) == 0 {
		return event == StatusCompleted
	}
	for _, e := range events {
		if e == event {
			return true
		}
	}
	return false
}
