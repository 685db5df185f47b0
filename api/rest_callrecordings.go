package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// recordingStatusCallbackEvents are the values RecordingStatusCallbackEvent
// accepts.
var recordingStatusCallbackEvents = map[string]bool{"in-progress": true, "completed": true, "absent": true}

// parseRecordingParams reads the Recording* parameters and Trim shared by
// Calls.create and POST Calls/{Sid}/Recordings.json. trimDefault is what
// an absent Trim means (trim-silence for Calls.create, do-not-trim for a
// recording started on a live call, as on Twilio).
func parseRecordingParams(form url.Values, trimDefault bool) (RecordingParams, error) {
	p := RecordingParams{Channels: 1, Track: "both", Trim: trimDefault, StatusCallback: form.Get("RecordingStatusCallback")}
	switch form.Get("RecordingChannels") {
	case "", "mono":
	case "dual":
		p.Channels = 2
	default:
		return p, badRequest(codeCallsResource, "RecordingChannels must be mono or dual, not %q", form.Get("RecordingChannels"))
	}
	switch v := form.Get("RecordingTrack"); v {
	case "":
	case "both", "inbound", "outbound":
		p.Track = v
	default:
		return p, badRequest(codeCallsResource, "RecordingTrack must be inbound, outbound or both, not %q", v)
	}
	switch v := form.Get("Trim"); v {
	case "":
	case "trim-silence":
		p.Trim = true
	case "do-not-trim":
		p.Trim = false
	default:
		return p, badRequest(codeCallsResource, "Trim must be trim-silence or do-not-trim, not %q", v)
	}
	if p.StatusCallback != "" {
		if err := absoluteURL("RecordingStatusCallback", p.StatusCallback); err != nil {
			return p, err
		}
	}
	var err error
	if p.StatusCallbackMethod, err = httpMethod("RecordingStatusCallbackMethod", form.Get("RecordingStatusCallbackMethod")); err != nil {
		return p, err
	}
	for _, v := range form["RecordingStatusCallbackEvent"] {
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
			if !recordingStatusCallbackEvents[e] {
				return p, badRequest(codeCallsResource, "RecordingStatusCallbackEvent %q is not one of in-progress, completed, absent", e)
			}
			if !slices.Contains(p.StatusCallbackEvents, e) {
				p.StatusCallbackEvents = append(p.StatusCallbackEvents, e)
			}
		}
	}
	if len(p.StatusCallbackEvents) == 0 {
		p.StatusCallbackEvents = []string{"completed"}
	}
	return p, nil
}

// callRecordingJSON renders a recording a CallControl reported: the
// store's record when it has one (the controller writes it), with the
// controller's status ("stopped" right after a stop, as Twilio answers).
func (a *restAPI) callRecordingJSON(r *http.Request, rec CallRecording) recordingJSON {
	stored, err := a.opts.Store.GetRecording(r.Context(), rec.SID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("api: reading a call recording", "recording", rec.SID, "error", err)
		}
		stored = store.Recording{SID: rec.SID, AccountSID: a.opts.AccountSID, CallSID: rec.CallSID, Source: rec.Source,
			Channels: rec.Channels, StartTime: rec.StartTime, DateCreated: rec.StartTime, DateUpdated: rec.StartTime,
			Duration: int(rec.Duration.Seconds() + 0.5)}
	}
	stored.Status = store.RecordingStatus(rec.Status)
	out := a.toRecordingJSON(r, stored)
	if rec.Status == string(store.RecordingStopped) {
		out.Duration = strconv.Itoa(int(rec.Duration.Seconds() + 0.5))
	}
	return out
}

// liveCall loads the call of a call-recording request and checks it can
// be recorded: 404 for an unknown call, 21220 for one not in progress,
// 501 without a call controller.
func (a *restAPI) liveCall(r *http.Request, callSID string) (store.Call, error) {
	c, err := a.getCall(r, callSID)
	if err != nil {
		return c, err
	}
	if a.opts.Calls == nil {
		return c, errUnavailable("call recording")
	}
	if c.Status != store.CallInProgress {
		return c, recordingNotInProgress(c.SID)
	}
	return c, nil
}

// recordingNotInProgress is Twilio's 21220 for recording a call that is
// not live.
func recordingNotInProgress(callSID string) *Error {
	return badRequest(codeNotInProgress, "Call is not in-progress. Cannot record call %s.", callSID)
}

// startCallRecording serves POST Calls/{Sid}/Recordings.json: record the
// live call from now on (201, the recording with status in-progress).
func (a *restAPI) startCallRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if err := rejectUnsupported(form, []string{"RecordingConfigurationId"}); err != nil {
		return err
	}
	p, err := parseRecordingParams(form, false)
	if err != nil {
		return err
	}
	c, err := a.liveCall(r, ids[0])
	if err != nil {
		return err
	}
	rec, err := a.opts.Calls.StartRecording(r.Context(), c.SID, p)
	if errors.Is(err, ErrNotLive) {
		return recordingNotInProgress(c.SID)
	}
	if err != nil {
		return fmt.Errorf("record call %s: %w", c.SID, err)
	}
	writeJSON(w, http.StatusCreated, a.callRecordingJSON(r, rec))
	return nil
}

// callRecordingSID checks a recording path id: a recording SID or
// Twilio.CURRENT.
func callRecordingSID(r *http.Request, id string) (string, error) {
	if id == CurrentRecording || sid.Valid(sid.Recording, id) {
		return id, nil
	}
	return "", notFound(r)
}

// updateCallRecording serves POST Calls/{Sid}/Recordings/{Sid}.json with
// Status paused, in-progress or stopped (and PauseBehavior skip or
// silence, default silence). The recording may be Twilio.CURRENT.
func (a *restAPI) updateCallRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	recSID, err := callRecordingSID(r, ids[1])
	if err != nil {
		return err
	}
	status := form.Get("Status")
	switch status {
	case "paused", "in-progress", "stopped":
	case "":
		return badRequest(codeUnsupportedParam, "Status is required: paused, in-progress or stopped")
	default:
		return badRequest(codeUnsupportedParam, "Status must be paused, in-progress or stopped, not %q", status)
	}
	behavior := form.Get("PauseBehavior")
	switch behavior {
	case "":
		behavior = "silence"
	case "skip", "silence":
	default:
		return badRequest(codeUnsupportedParam, "PauseBehavior must be skip or silence, not %q", behavior)
	}
	c, err := a.getCall(r, ids[0])
	if err != nil {
		return err
	}
	if recSID != CurrentRecording {
		// A finished recording of this call is known to the store.
		if stored, err := a.opts.Store.GetRecording(r.Context(), recSID); err == nil && stored.CallSID == c.SID &&
			stored.AccountSID == a.opts.AccountSID && stored.Status != store.RecordingInProgress && stored.Status != store.RecordingPaused {
			return recordingEnded(recSID, string(stored.Status))
		}
	}
	if a.opts.Calls == nil {
		return errUnavailable("call recording")
	}
	if c.Status.Ended() {
		return recordingNotInProgress(c.SID)
	}
	rec, err := a.opts.Calls.UpdateRecording(r.Context(), c.SID, recSID, status, behavior)
	switch {
	case errors.Is(err, ErrNotLive):
		return recordingNotInProgress(c.SID)
	case errors.Is(err, ErrNoRecording):
		return notFound(r)
	case errors.Is(err, ErrRecordingEnded):
		return recordingEnded(recSID, rec.Status)
	case err != nil:
		return fmt.Errorf("update recording %s of call %s: %w", recSID, c.SID, err)
	}
	writeJSON(w, http.StatusOK, a.callRecordingJSON(r, rec))
	return nil
}

// recordingEnded is the answer to changing a recording that is over.
func recordingEnded(recSID, status string) *Error {
	if status == "" {
		status = "over"
	}
	return badRequest(codeNotInProgress, "Recording %s is %s: it can no longer be paused, resumed or stopped", recSID, status)
}

// callRecording loads a recording of the call named in the path: 404
// when it is not that call's.
func (a *restAPI) callRecording(r *http.Request, ids []string) (store.Recording, error) {
	c, err := a.getCall(r, ids[0])
	if err != nil {
		return store.Recording{}, err
	}
	rec, err := a.getRecording(r, ids[1])
	if err != nil {
		return rec, err
	}
	if rec.CallSID != c.SID {
		return rec, notFound(r)
	}
	return rec, nil
}

// fetchCallRecording serves GET Calls/{Sid}/Recordings/{Sid}.json.
func (a *restAPI) fetchCallRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	rec, err := a.callRecording(r, ids)
	if err == nil {
		err = hideDeleted(r, rec)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toRecordingJSON(r, rec))
	return nil
}

// deleteCallRecording serves DELETE Calls/{Sid}/Recordings/{Sid}.json.
func (a *restAPI) deleteCallRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	if _, err := a.callRecording(r, ids); err != nil {
		return err
	}
	return a.deleteRecording(w, r, ids[1:])
}
