package ivr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

// dialRecording is a <Dial record> in progress: both parties mixed into
// one mono WAV file, or, for the -dual values, a two-channel one with the
// caller (the parent call, the bridge's leg a) on the left and the called
// party on the right.
type dialRecording struct {
	sid      string
	tmp      string
	sink     *recordSink
	mix      *mixer
	channels int
	start    time.Time
}

// dialRecordChannels is how many channels a <Dial record> value records.
func dialRecordChannels(record string) int {
	if record == twiml.DialRecordFromAnswerDual || record == twiml.DialRecordFromRingingDual {
		return 2
	}
	return 1
}

func (s *session) startDialRecording(channels int) (*dialRecording, error) {
	dir := s.e.cfg.RecordingsDir
	if dir == "" {
		return nil, errors.New("no recordings directory configured")
	}
	recSID := sid.New(sid.Recording)
	f, err := os.CreateTemp(dir, ".rec-"+recSID+"-*.wav")
	if err != nil {
		return nil, err
	}
	sink, err := newRecordSink(f, 0)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	mix := newMixer(sink)
	mix.stereo = channels == 2
	return &dialRecording{sid: recSID, tmp: f.Name(), sink: sink, mix: mix, channels: channels, start: s.e.cfg.Clock.Now()}, nil
}

// finishDialRecording saves the file and reports it.
func (s *session) finishDialRecording(r *dialRecording, d *twiml.Dial) (Recording, error) {
	defer os.Remove(r.tmp) // gone once renamed
	flushErr := r.mix.flush()
	frames, voiced, err := r.sink.finish()
	if err = errors.Join(flushErr, err); err != nil {
		return Recording{}, err
	}
	final := filepath.Join(s.e.cfg.RecordingsDir, r.sid+".wav")
	trim := d.Trim == twiml.TrimSilence
	if err := saveCallRecording(r.tmp, final, r.channels, trim, voiced); err != nil {
		return Recording{}, fmt.Errorf("save %s: %w", final, err)
	}
	if trim && voiced.first >= 0 {
		frames = voiced.last + 1 - voiced.first
	}
	rec := Recording{SID: r.sid, CallSID: s.info.SID, Path: final, Duration: time.Duration(frames) * media.FrameDuration,
		StartTime: r.start, Source: "DialVerb", Channels: r.channels}
	s.log.Info("ivr: dial recording saved", "recording_sid", r.sid, "duration", rec.Duration.String(), "channels", r.channels)
	if s.e.cfg.RecordingSaved != nil {
		s.e.cfg.RecordingSaved(rec)
	}
	if d.RecordingStatusCallback != "" && subscribedTo(d.RecordingStatusCallbackEvents, "completed") {
		if target, err := s.resolve(d.RecordingStatusCallback); err == nil {
			p := s.recordingParams(rec, "completed")
			s.e.sendCallback(s.web, webhook.Request{URL: target, Method: d.RecordingStatusCallbackMethod, Params: p})
		}
	}
	return rec, nil
}

// subscribedTo reports whether events (default: completed) include event.
func subscribedTo(events []string, event string) bool {
	if len(events) == 0 {
		return event == "completed"
	}
	for _, e := range events {
		if e == event {
			return true
		}
	}
	return false
}
