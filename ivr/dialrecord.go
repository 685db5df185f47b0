package ivr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/twiml"
)

// dialRecording is a <Dial record> in progress: both parties mixed into
// one WAV file.
type dialRecording struct {
	sid   string
	tmp   string
	sink  *recordSink
	mix   *mixer
	start time.Time
}

func (s *session) startDialRecording() (*dialRecording, error) {
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
	return &dialRecording{sid: recSID, tmp: f.Name(), sink: sink, mix: newMixer(sink), start: s.e.cfg.Clock.Now()}, nil
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
	if d.Trim == twiml.TrimSilence && voiced.first >= 0 {
		err = trimWAV(r.tmp, final, voiced.first, voiced.last+1)
		frames = voiced.last + 1 - voiced.first
	} else {
		err = os.Rename(r.tmp, final)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("save %s: %w", final, err)
	}
	rec := Recording{SID: r.sid, CallSID: s.info.SID, Path: final, Duration: time.Duration(frames) * 20 * time.Millisecond,
		StartTime: r.start, Source: "DialVerb", Channels: 1}
	s.log.Info("ivr: dial recording saved", "recording_sid", r.sid, "duration", rec.Duration.String())
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
