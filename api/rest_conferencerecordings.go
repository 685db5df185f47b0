package api

// Conference recordings (twiml-voice.md §4.4, §4.5): Twilio's
// Conferences/{CF}/Recordings resource — list, fetch, update (Status
// paused, in-progress or stopped) and delete — and, as a Voxgate
// extension mirroring Calls/{CA}/Recordings.json, POST to start recording
// a live conference.

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// conferenceRecordingPath is a conference recording's uri.
func (a *restAPI) conferenceRecordingPath(confSID, recSID string) string {
	return a.accountPath() + "/Conferences/" + confSID + "/Recordings/" + recSID + ".json"
}

// confRecordingJSON renders a conference recording: the store's record
// when it has one, with the live state of a recording still going (or
// just stopped) laid over it.
func (a *restAPI) confRecordingJSON(r *http.Request, live conference.Recording) recordingJSON {
	stored, err := store.Recording{}, error(store.ErrNotFound)
	if a.opts.Store != nil {
		stored, err = a.opts.Store.GetRecording(r.Context(), live.SID)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("api: reading a conference recording", "recording", live.SID, "error", err)
		}
		stored = store.Recording{SID: live.SID, AccountSID: live.AccountSID, CallSID: live.CallSID, ConferenceSID: live.ConferenceSID,
			Source: live.Source, Channels: live.Channels, StartTime: live.Start, DateCreated: live.Start, DateUpdated: time.Now()}
	}
	stored.Status = store.RecordingStatus(live.Status)
	if live.Status == conference.RecordingStopped {
		stored.Duration = int(live.Duration.Seconds() + 0.5)
	}
	out := a.toRecordingJSON(r, stored)
	out.URI = a.conferenceRecordingPath(live.ConferenceSID, live.SID)
	return out
}

// liveRoomRecording returns the conference's recording recSID while it
// is going, if the room is known.
func (a *restAPI) liveRoomRecording(confSID, recSID string) (conference.Recording, bool) {
	if a.opts.Conferences == nil {
		return conference.Recording{}, false
	}
	room, ok := a.opts.Conferences.Room(confSID)
	if !ok || room.Info().AccountSID != a.opts.AccountSID {
		return conference.Recording{}, false
	}
	rec, ok := room.LiveRecording()
	return rec, ok && rec.SID == recSID
}

// startConferenceRecording serves POST Conferences/{Sid}/Recordings.json
// (a Voxgate extension): record the live conference from now on, with
// RecordingChannels (mono, or dual with RecordingChannelOne — a CallSid
// or label, default the first participant — on channel 1), Trim (default
// do-not-trim) and RecordingStatusCallback, Method and Event. 201 with
// the recording, status in-progress.
func (a *restAPI) startConferenceRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if err := rejectUnsupported(form, []string{"RecordingConfigurationId"}); err != nil {
		return err
	}
	if v := form.Get("RecordingTrack"); v != "" && v != "both" {
		return badRequest(codeUnsupportedParam, "RecordingTrack %q: a conference recording has the room's audio", v)
	}
	p, err := parseRecordingParams(form, false)
	if err != nil {
		return err
	}
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	if room.Info().Status == conference.StatusCompleted {
		return conferenceNotInProgress(ids[0])
	}
	rec, err := room.StartRecording(conference.RecordOptions{
		Channels: p.Channels, ChannelOne: form.Get("RecordingChannelOne"), Trim: p.Trim, Source: conference.SourceAPI,
		Callback: conference.Callback{URL: p.StatusCallback, Method: p.StatusCallbackMethod, Events: p.StatusCallbackEvents},
	})
	switch {
	case errors.Is(err, conference.ErrEnded):
		return conferenceNotInProgress(ids[0])
	case errors.Is(err, conference.ErrRecording):
		return badRequest(codeConflict, "Conference %s is already being recorded (%s)", ids[0], rec.SID)
	case errors.Is(err, conference.ErrNotFound):
		return badRequest(codeUnsupportedParam, "RecordingChannelOne %q is not a participant of conference %s", form.Get("RecordingChannelOne"), ids[0])
	case errors.Is(err, conference.ErrNoRecordingsDir):
		return errUnavailable("conference recording")
	case err != nil:
		return fmt.Errorf("record conference %s: %w", ids[0], err)
	}
	writeJSON(w, http.StatusCreated, a.confRecordingJSON(r, rec))
	return nil
}

// conferenceNotInProgress is the answer to recording an ended conference.
func conferenceNotInProgress(confSID string) *Error {
	return badRequest(codeNotInProgress, "Conference %s is not in-progress. Cannot record it.", confSID)
}

// conferenceRecording loads a recording of the conference named in the
// path: 404 when it is not that conference's. A recording started a
// moment ago may not be in the store yet: its live state answers.
func (a *restAPI) conferenceRecording(r *http.Request, ids []string) (store.Recording, error) {
	if !sid.Valid(conference.SIDPrefix, ids[0]) {
		return store.Recording{}, notFound(r)
	}
	rec, err := a.getRecording(r, ids[1])
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		if live, ok := a.liveRoomRecording(ids[0], ids[1]); ok {
			return store.Recording{SID: live.SID, AccountSID: live.AccountSID, CallSID: live.CallSID, ConferenceSID: live.ConferenceSID,
				Status: store.RecordingStatus(live.Status), Source: live.Source, Channels: live.Channels,
				StartTime: live.Start, DateCreated: live.Start, DateUpdated: time.Now()}, nil
		}
	}
	if err != nil {
		return rec, err
	}
	if rec.ConferenceSID != ids[0] {
		return rec, notFound(r)
	}
	return rec, nil
}

// fetchConferenceRecording serves GET Conferences/{Sid}/Recordings/{Sid}.json.
func (a *restAPI) fetchConferenceRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	rec, err := a.conferenceRecording(r, ids)
	if err == nil {
		err = hideDeleted(r, rec)
	}
	if err != nil {
		return err
	}
	if live, ok := a.liveRoomRecording(ids[0], rec.SID); ok {
		rec.Status = store.RecordingStatus(live.Status)
	}
	out := a.toRecordingJSON(r, rec)
	out.URI = a.conferenceRecordingPath(ids[0], rec.SID)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// updateConferenceRecording serves POST Conferences/{Sid}/Recordings/{Sid}.json
// with Status paused, in-progress or stopped (and PauseBehavior skip or
// silence, default silence). The recording may be Twilio.CURRENT.
func (a *restAPI) updateConferenceRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	recSID := ids[1]
	if recSID != conference.CurrentRecording && !sid.Valid(sid.Recording, recSID) {
		return notFound(r)
	}
	status := form.Get("Status")
	switch status {
	case conference.RecordingPaused, conference.RecordingInProgress, conference.RecordingStopped:
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
	if !sid.Valid(conference.SIDPrefix, ids[0]) {
		return notFound(r)
	}
	var room *conference.Room
	if a.opts.Conferences != nil {
		if rm, ok := a.opts.Conferences.Room(ids[0]); ok && rm.Info().AccountSID == a.opts.AccountSID {
			room = rm
		}
	}
	var rec conference.Recording
	err = conference.ErrNoRecording
	if room != nil {
		rec, err = room.UpdateRecording(recSID, status, behavior)
	}
	if errors.Is(err, conference.ErrNoRecording) || errors.Is(err, conference.ErrEnded) {
		// Over, or never this conference's: the store knows which.
		if recSID != conference.CurrentRecording && a.opts.Store != nil {
			if stored, serr := a.opts.Store.GetRecording(r.Context(), recSID); serr == nil && stored.ConferenceSID == ids[0] &&
				stored.AccountSID == a.opts.AccountSID && !stored.Deleted {
				return recordingEnded(recSID, string(stored.Status))
			}
		}
		if room != nil && room.Info().Status == conference.StatusCompleted {
			return conferenceNotInProgress(ids[0])
		}
		return notFound(r)
	}
	if err != nil {
		return fmt.Errorf("update recording %s of conference %s: %w", recSID, ids[0], err)
	}
	writeJSON(w, http.StatusOK, a.confRecordingJSON(r, rec))
	return nil
}

// deleteConferenceRecording serves DELETE Conferences/{Sid}/Recordings/{Sid}.json.
func (a *restAPI) deleteConferenceRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	rec, err := a.conferenceRecording(r, ids)
	if err != nil {
		return err
	}
	if rec.Deleted {
		return notFound(r)
	}
	return a.deleteRecording(w, r, ids[1:])
}
