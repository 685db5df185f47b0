package conference

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/sid"
)

// Recording is a finished conference recording: a mono WAV of what the
// room said (everyone audible, the beeps and announcements; not hold or
// wait music, not coaches).
type Recording struct {
	SID, AccountSID, ConferenceSID string
	CallSID                        string // the first participant's call
	Path                           string
	Start                          time.Time
	Duration                       time.Duration
	Channels                       int // 1
}

// recorder writes a room's mix while the conference runs (owner only).
type recorder struct {
	rec  Recording
	f    *os.File
	w    *audio.WAVWriter
	cb   Callback // recordingStatusCallback
	buf  [frame]int16
	fail error
}

// startRecording begins recording the room into the recordings directory
// (owner only), as its first participant asked (record-from-start).
func (r *Room) startRecording(first *Participant) {
	dir := r.m.opts.RecordingsDir
	if dir == "" {
		r.log.Warn("conference: record asked for but no recordings directory is configured")
		return
	}
	recSID := sid.New(sid.Recording)
	path := filepath.Join(dir, recSID+".wav")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.log.Error("conference: cannot record", "error", err)
		return
	}
	f, err := os.Create(path)
	if err != nil {
		r.log.Error("conference: cannot record", "error", err)
		return
	}
	w, err := audio.NewWAVWriter(f, media.SampleRate)
	if err != nil {
		f.Close()
		r.log.Error("conference: cannot record", "error", err)
		return
	}
	r.rec = &recorder{
		rec: Recording{SID: recSID, AccountSID: r.account, ConferenceSID: r.sid, CallSID: first.callSID,
			Path: path, Start: time.Now(), Channels: 1},
		f: f, w: w, cb: first.opts.RecordingCallback,
	}
	r.log.Info("conference: recording", "recording_sid", recSID)
}

// write adds one mixed frame: the room's sum and extras (owner only). It
// allocates nothing.
func (c *recorder) write(sum, extra *[frame]int32) {
	if c.fail != nil {
		return
	}
	var acc [frame]int32
	for i := range acc {
		acc[i] = sum[i] + extra[i]
	}
	saturate(&acc, &c.buf)
	c.fail = c.w.WriteFrame(c.buf[:])
}

// stopRecording finishes the recording and queues its record and its
// status callback (owner only).
func (r *Room) stopRecording() {
	c := r.rec
	if c == nil {
		return
	}
	r.rec = nil
	c.rec.Duration = time.Duration(c.w.Samples()) * time.Second / media.SampleRate
	err := c.w.Close()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.fail
	}
	if err != nil {
		r.log.Error("conference: recording failed", "recording_sid", c.rec.SID, "error", err)
		return
	}
	r.log.Info("conference: recording saved", "recording_sid", c.rec.SID, "duration", c.rec.Duration.Round(time.Second).String())
	rec := c.rec
	if r.m.opts.RecordingSaved != nil {
		r.notify.enqueue(callbackReq{run: func(ctx context.Context) { r.m.opts.RecordingSaved(ctx, rec) }})
	}
	events := c.cb.Events
	if len(events) == 0 {
		events = []string{"completed"}
	}
	if c.cb.URL == "" || !slices.Contains(events, "completed") {
		return
	}
	v := url.Values{}
	v.Set("AccountSid", r.account)
	v.Set("ConferenceSid", r.sid)
	v.Set("CallSid", rec.CallSID)
	v.Set("RecordingSid", rec.SID)
	if r.m.opts.RecordingURL != nil {
		v.Set("RecordingUrl", r.m.opts.RecordingURL(rec.SID))
	}
	v.Set("RecordingStatus", "completed")
	v.Set("RecordingDuration", strconv.Itoa(int(rec.Duration.Round(time.Second)/time.Second)))
	v.Set("RecordingChannels", "1")
	v.Set("RecordingSource", "Conference")
	v.Set("RecordingStartTime", rec.Start.UTC().Format(time.RFC1123Z))
	r.notify.enqueue(callbackReq{url: c.cb.URL, method: c.cb.Method, params: v})
}

// recordingName is for logs and errors.
func (c *recorder) String() string { return fmt.Sprintf("recording %s", c.rec.SID) }
