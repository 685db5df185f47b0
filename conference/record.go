package conference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/recording"
)

// Conference recordings: a WAV file of what the room says, written by the
// room's owner as it mixes (no other goroutine touches the recorder), and
// saved, told to the store and to the recordingStatusCallback on the
// room's callback goroutine, so that a long recording's trim never holds
// up the mix.
//
// Mono (1 channel) is the room: everyone audible, the beeps and the room's
// announcements; not hold or wait music, not coaches, not announcements to
// one participant. Dual (2 channels) splits that sum in two around one
// participant, as Twilio's dual call recordings split a call: channel 1 is
// what that participant says (nothing while it is muted, on hold or has
// left), channel 2 is what it hears from the room (everyone else audible,
// the beeps and announcements). Channel 1's participant is the one who
// asked for the recording (the room's first participant for
// record-from-start), or the one RecordOptions.ChannelOne names.

// Recording statuses (Twilio's RecordingStatus).
const (
	RecordingInProgress = "in-progress"
	RecordingPaused     = "paused"
	RecordingStopped    = "stopped" // what stopping answers; then completed or absent
	RecordingCompleted  = "completed"
	RecordingAbsent     = "absent" // nothing was recorded (or the file failed)
)

// RecordingSource values (Twilio's RecordingSource).
const (
	// SourceConference: record-from-start, or a participant joining with
	// record (the Participants API's ConferenceRecord).
	SourceConference = "Conference"
	// SourceAPI: POST Conferences/{Sid}/Recordings.json.
	SourceAPI = "StartConferenceRecordingAPI"
)

// CurrentRecording names a room's recording in progress (Twilio.CURRENT).
const CurrentRecording = "Twilio.CURRENT"

// Recording errors.
var (
	// ErrRecording: the room is already being recorded (one at a time).
	ErrRecording = errors.New("conference: the conference is already being recorded")
	// ErrNoRecording: the room has no such recording in progress.
	ErrNoRecording = errors.New("conference: no such recording in progress")
	// ErrNoRecordingsDir: Options.RecordingsDir is not set.
	ErrNoRecordingsDir = errors.New("conference: no recordings directory is configured")
)

// Recording is a conference recording: its state while it runs, and once
// it has ended.
type Recording struct {
	SID, AccountSID, ConferenceSID string
	// CallSID is the participant who asked for it: the room's first
	// participant for record-from-start; channel 1 of a dual recording.
	// "" for a recording started through the API of a room then empty.
	CallSID  string
	Path     string // the WAV file, once saved
	Start    time.Time
	Duration time.Duration
	Channels int    // 1 mono, 2 dual
	Status   string // RecordingInProgress, RecordingPaused, …
	Source   string // SourceConference or SourceAPI
	// ErrorCode is set on an absent recording whose file failed.
	ErrorCode int
}

// RecordOptions say how to record a room.
type RecordOptions struct {
	// Channels is 1 (mono, the default) or 2 (dual).
	Channels int
	// ChannelOne is the CallSid or label of the participant on channel 1
	// of a dual recording; "" = the one who asked (JoinOptions.Record),
	// else the room's first participant.
	ChannelOne string
	// Trim drops the silence before the first and after the last sound
	// (trim-silence).
	Trim bool
	// Callback is the recordingStatusCallback; its events are in-progress,
	// completed and absent (none = completed).
	Callback Callback
	// Source is the RecordingSource (default SourceConference).
	Source string
}

// recordOptions are the recording settings a participant joined with.
func (o JoinOptions) recordOptions() RecordOptions {
	return RecordOptions{Channels: o.RecordingChannels, Trim: o.RecordingTrim, Callback: o.RecordingCallback, Source: SourceConference}
}

// recorder writes a room's recording while the conference runs (owner
// only).
type recorder struct {
	rec    Recording
	file   *recording.File
	opts   RecordOptions
	ch1    *Participant // dual: channel 1's participant; nil once it has left
	paused bool
	skip   bool // paused with PauseBehavior skip: nothing is written
	buf    [2 * frame]int16
	fail   error
}

// record starts recording the room (owner only); asker is the
// participant who asked for it (nil for the API).
func (r *Room) record(o RecordOptions, asker *Participant) (Recording, error) {
	if r.ending {
		return Recording{}, ErrEnded
	}
	if r.rec != nil {
		return r.rec.rec, ErrRecording
	}
	dir := r.m.opts.RecordingsDir
	if dir == "" {
		return Recording{}, ErrNoRecordingsDir
	}
	if o.Channels != 2 {
		o.Channels = 1
	}
	if o.Source == "" {
		o.Source = SourceConference
	}
	ch1 := asker
	if o.ChannelOne != "" {
		if ch1 = r.find(o.ChannelOne); ch1 == nil {
			return Recording{}, fmt.Errorf("%w: participant %s", ErrNotFound, o.ChannelOne)
		}
	}
	if ch1 == nil && len(r.parts) > 0 {
		ch1 = r.parts[0]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Recording{}, fmt.Errorf("conference: recording: %w", err)
	}
	f, err := recording.New(recording.Config{Dir: dir}).Create(o.Channels, 0)
	if err != nil {
		return Recording{}, fmt.Errorf("conference: recording: %w", err)
	}
	c := &recorder{file: f, opts: o, ch1: ch1, rec: Recording{
		SID: f.SID, AccountSID: r.account, ConferenceSID: r.sid, Start: f.Start,
		Channels: o.Channels, Status: RecordingInProgress, Source: o.Source,
	}}
	if ch1 != nil {
		c.rec.CallSID = ch1.callSID
	}
	r.rec, r.recorded = c, true
	r.log.Info("conference: recording", "recording_sid", f.SID, "channels", o.Channels, "call_sid", c.rec.CallSID)
	r.recordingReport(c.rec, c.opts.Callback)
	return c.rec, nil
}

// write adds one frame of the room (owner only): the sum of everyone
// audible and the extras (beep, announcement). It allocates nothing.
func (c *recorder) write(sum, extra *[frame]int32) {
	if c.fail != nil || (c.paused && c.skip) {
		return
	}
	n := frame * c.rec.Channels
	out := c.buf[:n]
	switch {
	case c.paused:
		clear(out)
	case c.rec.Channels == 1:
		for i := range frame {
			out[i] = clamp16(sum[i] + extra[i])
		}
	default:
		var own *[frame]int16
		if p := c.ch1; p != nil && p.audible && !p.coaching {
			own = &p.got
		}
		for i := range frame {
			var one int32
			if own != nil {
				one = int32(own[i])
			}
			out[2*i] = clamp16(one)
			out[2*i+1] = clamp16(sum[i] - one + extra[i])
		}
	}
	c.fail = c.file.WriteFrame(out)
}

// clamp16 saturates v to a 16-bit sample.
func clamp16(v int32) int16 { return int16(max(math.MinInt16, min(math.MaxInt16, v))) }

// forget drops p from the recording (owner only): it has left.
func (c *recorder) forget(p *Participant) {
	if c != nil && c.ch1 == p {
		c.ch1 = nil
	}
}

// live returns the room's recording in progress called recSID (or
// CurrentRecording); owner only.
func (r *Room) live(recSID string) (*recorder, error) {
	if r.rec == nil || (recSID != CurrentRecording && recSID != r.rec.rec.SID) {
		return nil, ErrNoRecording
	}
	return r.rec, nil
}

// pauseRecording pauses (skip: leaves the pause out of the file; else
// silence) or resumes the recording (owner only).
func (r *Room) pauseRecording(c *recorder, pause, skip bool) {
	if c.paused == pause {
		return
	}
	c.paused, c.skip = pause, skip
	c.rec.Status = RecordingInProgress
	if pause {
		c.rec.Status = RecordingPaused
	}
	r.log.Info("conference: recording "+c.rec.Status, "recording_sid", c.rec.SID, "skip", skip)
	r.recordingReport(c.rec, Callback{}) // the store; no callback event for pause and resume
}

// stopRecording ends the room's recording, if any (owner only), and
// returns its state (status stopped). The file is saved, reported to the
// store and to the recordingStatusCallback on the callbacks' goroutine.
func (r *Room) stopRecording() (Recording, bool) {
	c := r.rec
	if c == nil {
		return Recording{}, false
	}
	r.rec = nil
	frames, err := c.file.Close() // flushes; the owner writes no more
	err = errors.Join(c.fail, err)
	stopped := c.rec
	stopped.Status = RecordingStopped
	stopped.Duration = time.Duration(frames) * media.FrameDuration
	rec, file, trim, cb, log := c.rec, c.file, c.opts.Trim, c.opts.Callback, r.log
	r.notify.must(callbackReq{run: func(ctx context.Context) {
		switch {
		case err != nil:
			file.Discard()
			log.Error("conference: recording failed", "recording_sid", rec.SID, "error", err)
			rec.Status, rec.ErrorCode = RecordingAbsent, errorCodeRecording
		case frames == 0:
			file.Discard()
			log.Info("conference: recording: no audio; nothing saved", "recording_sid", rec.SID)
			rec.Status = RecordingAbsent
		default:
			rec.Path, rec.Duration, err = file.Save(trim)
			if err != nil {
				log.Error("conference: saving the recording failed", "recording_sid", rec.SID, "error", err)
				rec.Status, rec.ErrorCode, rec.Path, rec.Duration = RecordingAbsent, errorCodeRecording, "", 0
			} else {
				rec.Status = RecordingCompleted
				log.Info("conference: recording saved", "recording_sid", rec.SID, "duration", rec.Duration.String(), "trim", trim)
			}
		}
		r.sendRecording(ctx, rec, cb)
	}})
	return stopped, true
}

// errorCodeRecording is the ErrorCode of a recording whose file failed
// (Twilio's 16105, "Recording: audio could not be processed").
const errorCodeRecording = 16105

// recordingReport queues rec's state for the store and, when cb
// subscribes to its status, the status callback (owner only).
func (r *Room) recordingReport(rec Recording, cb Callback) {
	r.notify.must(callbackReq{run: func(ctx context.Context) { r.sendRecording(ctx, rec, cb) }})
}

// sendRecording tells the store about rec and sends cb's status callback
// when it subscribes to rec's status (on the callbacks' goroutine).
func (r *Room) sendRecording(ctx context.Context, rec Recording, cb Callback) {
	if r.m.opts.RecordingSaved != nil {
		r.m.opts.RecordingSaved(ctx, rec)
	}
	events := cb.Events
	if len(events) == 0 {
		events = []string{RecordingCompleted}
	}
	if cb.URL == "" || !slices.Contains(events, rec.Status) || r.m.opts.Notify == nil {
		return
	}
	v := url.Values{}
	v.Set("AccountSid", r.account)
	v.Set("ConferenceSid", r.sid)
	if rec.CallSID != "" {
		v.Set("CallSid", rec.CallSID)
	}
	v.Set("RecordingSid", rec.SID)
	if r.m.opts.RecordingURL != nil {
		v.Set("RecordingUrl", r.m.opts.RecordingURL(rec.SID))
	}
	v.Set("RecordingStatus", rec.Status)
	v.Set("RecordingDuration", strconv.Itoa(int(rec.Duration.Round(time.Second)/time.Second)))
	v.Set("RecordingChannels", strconv.Itoa(rec.Channels))
	v.Set("RecordingSource", rec.Source)
	v.Set("RecordingStartTime", rec.Start.UTC().Format(time.RFC1123Z))
	if rec.Status == RecordingAbsent {
		v.Set("ErrorCode", strconv.Itoa(rec.ErrorCode))
	}
	r.m.opts.Notify(ctx, cb.URL, cb.Method, v)
}

// StartRecording records the room from now on (POST
// Conferences/{Sid}/Recordings.json); ErrRecording when it is already
// being recorded, ErrEnded once it is ending.
func (r *Room) StartRecording(o RecordOptions) (Recording, error) {
	var (
		rec Recording
		err error
	)
	if derr := r.do(func() { rec, err = r.record(o, nil) }); derr != nil {
		return Recording{}, derr
	}
	return rec, err
}

// LiveRecording returns the room's recording in progress (or paused).
func (r *Room) LiveRecording() (Recording, bool) {
	var (
		rec Recording
		ok  bool
	)
	_ = r.do(func() {
		if r.rec != nil {
			rec, ok = r.rec.rec, true
		}
	})
	return rec, ok
}

// UpdateRecording pauses (status paused; pauseBehavior skip or silence,
// the default), resumes (in-progress) or stops (stopped) the room's
// recording recSID (or CurrentRecording) and returns its state.
// ErrNoRecording when the room has no such recording in progress,
// ErrEnded when the room has ended.
func (r *Room) UpdateRecording(recSID, status, pauseBehavior string) (Recording, error) {
	switch status {
	case RecordingPaused, RecordingInProgress, RecordingStopped:
	default:
		return Recording{}, fmt.Errorf("conference: recording status %q: want paused, in-progress or stopped", status)
	}
	var (
		rec Recording
		err error
	)
	if derr := r.do(func() {
		var c *recorder
		if c, err = r.live(recSID); err != nil {
			return
		}
		switch status {
		case RecordingStopped:
			rec, _ = r.stopRecording()
			return
		case RecordingPaused:
			r.pauseRecording(c, true, pauseBehavior == "skip")
		default:
			r.pauseRecording(c, false, false)
		}
		rec = c.rec
	}); derr != nil {
		return Recording{}, derr
	}
	return rec, err
}
