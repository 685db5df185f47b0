package ivr

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/recording"
)

// tappedCall is a call whose leg is a media.Tap: what the session plays
// and what it receives can be forked to listeners (the call's recordings,
// media streams).
type tappedCall struct {
	Call
	tap *media.Tap
}

// Leg implements Call.
func (c *tappedCall) Leg() media.Leg { return c.tap }

// attach makes call the session's call, with a tap on its leg and its
// whole-call recordings.
func (s *session) attach(call Call) {
	tap := media.NewTap(call.Leg())
	s.mu.Lock()
	s.call, s.tap = &tappedCall{Call: call, tap: tap}, tap
	s.mu.Unlock()
	if s.cfg.Recorder == nil {
		return // no recordings
	}
	recs := s.cfg.Recorder.NewCall(recording.CallConfig{
		CallSID: s.info.SID, Tap: tap, Logger: s.log,
		Notify: func(target, method string, p url.Values, after <-chan struct{}) <-chan struct{} {
			abs, err := webhook.ResolveURL(s.app.VoiceURL, target)
			if err != nil {
				s.log.Warn("ivr: RecordingStatusCallback URL", "error", err)
				return after
			}
			return s.e.sendCallbackAfter(s.web, webhook.Request{URL: abs, Method: method, Params: p}, after)
		},
	})
	s.mu.Lock()
	s.recordings = recs
	s.mu.Unlock()
}

// callRecordings returns the call's whole-call recordings (nil before an
// outbound call is answered).
func (s *session) callRecordings() *recording.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recordings
}

// StartCallRecording starts recording the live, answered call. It fails
// with ErrNoSuchCall when the call is not running here and with
// recording.ErrNotInProgress when it is not answered (or is ending).
func (e *Engine) StartCallRecording(callSID string, o recording.Options) (recording.State, error) {
	s, err := e.live.get(callSID)
	if err != nil {
		return recording.State{}, err
	}
	if e.cfg.Recorder == nil {
		return recording.State{}, recording.ErrNoDir
	}
	recs := s.callRecordings()
	if recs == nil {
		return recording.State{}, fmt.Errorf("%w: %s", recording.ErrNotInProgress, callSID)
	}
	return recs.Start(o)
}

// UpdateCallRecording pauses, resumes or stops a recording of the live
// call (see recording.Call.Update); recSID may be recording.Current.
func (e *Engine) UpdateCallRecording(callSID, recSID, status string, pauseSilence bool) (recording.State, error) {
	s, err := e.live.get(callSID)
	if err != nil {
		return recording.State{}, err
	}
	recs := s.callRecordings()
	if recs == nil {
		return recording.State{}, fmt.Errorf("%w: %s", recording.ErrNoSuchRecording, recSID)
	}
	return recs.Update(recSID, status, pauseSilence)
}

// answeredRecordings begins the call's recordings that waited for the
// answer.
func (s *session) answeredRecordings() {
	if recs := s.callRecordings(); recs != nil {
		recs.Answered()
	}
}

// finishCallRecordings ends every recording of the call as it ends and
// returns the Recording* parameters of the final status callback: a
// REST Calls.create Record=true call's completed callback names it.
func (s *session) finishCallRecordings() []string {
	recs := s.callRecordings()
	if recs == nil {
		return nil
	}
	for _, r := range recs.Finish() {
		if r.Source == recording.SourceOutboundAPI && r.Status == recording.StatusCompleted {
			return []string{"RecordingUrl", s.cfg.Recorder.URL(r.SID), "RecordingSid", r.SID,
				"RecordingDuration", strconv.Itoa(recording.Seconds(r.Duration))}
		}
	}
	return nil
}
