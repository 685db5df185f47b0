package ivr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/twiml"
)

// beep is the tone played before <Record>.
func beep() media.Source { return audio.NewTone([]float64{1000}, 0.5, 400*time.Millisecond) }

func init() { registerVerb(func(v *twiml.Record) verb { return &recordVerb{r: v} }) }

// recordVerb runs <Record> (twiml-voice.md §2.5): the caller's audio into
// a WAV file until silence, maxLength, a finishOnKey key or the hang-up,
// then the action with the recording.
type recordVerb struct {
	r      *twiml.Record
	file   *recording.File
	digits string // the key that ended the recording, or "hangup"
	hungUp bool
}

func (v *recordVerb) run(s *session) (next, error) {
	if err := v.begin(s); err != nil {
		return next{}, err
	}
	if err := v.capture(s); err != nil {
		v.file.Discard()
		return next{}, err
	}
	frames, err := v.file.Close()
	if err != nil {
		v.file.Discard()
		return next{}, &verbError{code: 12400, err: fmt.Errorf("<Record>: write: %w", err)}
	}
	if frames == 0 {
		// Nothing was received at all: fall through to the next verb (the
		// classic "I did not receive a recording" <Say>).
		v.file.Discard()
		s.log.Info("ivr: record: no audio received", "recording_sid", v.file.SID)
		v.status(s, recording.StatusAbsent, 0)
		if v.hungUp {
			return next{}, errHangup
		}
		return next{}, nil
	}
	if err := v.save(s); err != nil {
		return next{}, err
	}
	duration := time.Duration(frames) * media.FrameDuration
	extra := map[string]string{
		"RecordingUrl":      s.recorder().URL(v.file.SID),
		"RecordingDuration": strconv.Itoa(recording.Seconds(duration)),
		"RecordingSid":      v.file.SID,
		"Digits":            v.digits,
	}
	if v.hungUp {
		// The action is still requested (CallStatus=completed); its TwiML is ignored.
		s.informAction(v.r.Action, v.r.Method, extra)
		return next{}, errHangup
	}
	req, err := s.actionRequest(v.r.Action, v.r.Method, extra)
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// begin plays the beep and opens the file.
func (v *recordVerb) begin(s *session) error {
	if s.recorder() == nil {
		return &verbError{code: 12400, err: errors.New("<Record>: no recordings directory configured")}
	}
	if v.r.Transcribe {
		s.log.Warn(`ivr: <Record transcribe="true">: transcription is not supported; recording without it`)
	}
	s.drainDigits()
	if v.r.PlayBeep {
		if err := s.leg().Play(s.ctx, beep()); err != nil {
			return s.mediaErr(err)
		}
	}
	f, err := s.recorder().Create(1, time.Duration(v.r.Timeout)*time.Second)
	if err != nil {
		return &verbError{code: 12400, err: fmt.Errorf("<Record>: %w", err)}
	}
	v.file = f
	v.status(s, recording.StatusInProgress, 0)
	return nil
}

// capture records until silence, maxLength, a finishOnKey key or the
// hang-up. A live redirect abandons the recording (errInterrupted).
func (v *recordVerb) capture(s *session) error {
	recCtx, stopRec := context.WithCancel(s.ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- s.leg().Record(recCtx, v.file) }()
	defer sync.OnceFunc(func() { stopRec(); <-recDone })()
	maxLen := s.after(time.Duration(v.r.MaxLength) * time.Second)
	for {
		select {
		case <-s.ctx.Done():
			if !s.over() {
				return errInterrupted
			}
			v.hungUp, v.digits = true, "hangup"
			return nil
		case <-maxLen:
			return nil
		case <-v.file.Silence():
			return nil
		case d := <-s.leg().DTMF():
			if strings.IndexByte(v.r.FinishOnKey, d.Key) >= 0 {
				v.digits = string(d.Key)
				return nil
			}
		}
	}
}

// save keeps the recording (trimmed when asked) and reports it.
func (v *recordVerb) save(s *session) error {
	path, saved, err := v.file.Save(v.r.Trim == twiml.TrimSilence)
	if err != nil {
		return &verbError{code: 12400, err: fmt.Errorf("<Record>: %w", err)}
	}
	s.log.Info("ivr: recording saved", "recording_sid", v.file.SID, "duration", saved.String(), "digits", v.digits, "path", path)
	s.recorder().Report(recording.Recording{SID: v.file.SID, CallSID: s.info.SID, Path: path, Duration: saved,
		StartTime: v.file.Start, Source: recording.SourceRecordVerb, Channels: 1})
	v.status(s, recording.StatusCompleted, saved)
	return nil
}

// status sends recordingStatusCallback for event when subscribed.
func (v *recordVerb) status(s *session, event string, dur time.Duration) {
	r := v.r
	if r.RecordingStatusCallback == "" || !slices.Contains(r.RecordingStatusCallbackEvents, event) {
		return
	}
	target, err := s.resolve(r.RecordingStatusCallback)
	if err != nil {
		s.log.Warn("ivr: recordingStatusCallback URL", "error", err)
		return
	}
	p := s.recorder().Params(recording.Recording{SID: v.file.SID, CallSID: s.info.SID, Duration: dur,
		StartTime: v.file.Start, Source: recording.SourceRecordVerb}, event)
	s.e.sendCallback(s.web, webhook.Request{URL: target, Method: r.RecordingStatusCallbackMethod, Params: p})
}
