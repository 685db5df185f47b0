package api

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// recordingJSON is Twilio's recording resource.
type recordingJSON struct {
	SID               string            `json:"sid"`
	AccountSID        string            `json:"account_sid"`
	CallSID           *string           `json:"call_sid"`
	ConferenceSID     *string           `json:"conference_sid"`
	APIVersion        string            `json:"api_version"`
	DateCreated       *string           `json:"date_created"`
	DateUpdated       *string           `json:"date_updated"`
	StartTime         *string           `json:"start_time"`
	Duration          string            `json:"duration"`
	Channels          int               `json:"channels"`
	Status            string            `json:"status"`
	Source            *string           `json:"source"`
	ErrorCode         *int              `json:"error_code"`
	Price             *string           `json:"price"`
	PriceUnit         string            `json:"price_unit"`
	EncryptionDetails any               `json:"encryption_details"`
	MediaURL          string            `json:"media_url"`
	URI               string            `json:"uri"`
	SubresourceURIs   map[string]string `json:"subresource_uris"`
}

// toRecordingJSON renders rec; media_url is absolute and has no extension.
func (a *restAPI) toRecordingJSON(r *http.Request, rec store.Recording) recordingJSON {
	path := a.accountPath() + "/Recordings/" + rec.SID
	var code *int
	if rec.ErrorCode != 0 {
		code = &rec.ErrorCode
	}
	duration := strconv.Itoa(rec.Duration)
	if rec.Status == store.RecordingInProgress || rec.Status == store.RecordingPaused {
		duration = "-1" // Twilio's value while a recording is still going
	}
	return recordingJSON{
		SID:             rec.SID,
		AccountSID:      rec.AccountSID,
		CallSID:         nullable(rec.CallSID),
		ConferenceSID:   nullable(rec.ConferenceSID),
		APIVersion:      apiVersion,
		DateCreated:     rfc2822(rec.DateCreated),
		DateUpdated:     rfc2822(rec.DateUpdated),
		StartTime:       rfc2822(rec.StartTime),
		Duration:        duration,
		Channels:        rec.Channels,
		Status:          string(rec.Status),
		Source:          nullable(rec.Source),
		ErrorCode:       code,
		PriceUnit:       "USD",
		MediaURL:        a.baseURL(r) + path,
		URI:             path + ".json",
		SubresourceURIs: map[string]string{},
	}
}

// getRecording loads the recording named by a path id (see getOwned).
func (a *restAPI) getRecording(r *http.Request, recSID string) (store.Recording, error) {
	return getOwned(a, r, sid.Recording, recSID, "recording", store.Store.GetRecording)
}

// fetchRecording serves GET Recordings/{Sid}.json. A deleted recording is
// 404, as on Twilio, unless IncludeSoftDeleted=true asks for its metadata
// (status "deleted").
func (a *restAPI) fetchRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	rec, err := a.getRecording(r, ids[0])
	if err == nil {
		err = hideDeleted(r, rec)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toRecordingJSON(r, rec))
	return nil
}

// hideDeleted is 404 for a deleted recording unless the request has
// IncludeSoftDeleted=true.
func hideDeleted(r *http.Request, rec store.Recording) error {
	if !rec.Deleted {
		return nil
	}
	soft, err := parseBool("IncludeSoftDeleted", r.URL.Query().Get("IncludeSoftDeleted"), false)
	if err != nil {
		return err
	}
	if !soft {
		return notFound(r)
	}
	return nil
}

// deleteRecording serves DELETE Recordings/{Sid}.json: the recording is
// marked deleted and its audio file removed.
func (a *restAPI) deleteRecording(w http.ResponseWriter, r *http.Request, ids []string) error {
	rec, err := a.getRecording(r, ids[0])
	if err != nil {
		return err
	}
	if rec.Status == store.RecordingInProgress || rec.Status == store.RecordingPaused {
		return badRequest(codeNotInProgress, "Recording %s is %s: stop it before deleting it", rec.SID, rec.Status)
	}
	path, err := a.opts.Store.DeleteRecording(r.Context(), rec.SID)
	if err != nil {
		return storeError(r, "delete recording", err)
	}
	for _, p := range []string{path, a.defaultMediaPath(rec.SID)} {
		if p == "" {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.log.Warn("api: recording file not removed", "recording", rec.SID, "path", p, "error", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listRecordings serves GET Recordings.json.
func (a *restAPI) listRecordings(w http.ResponseWriter, r *http.Request, _ []string) error {
	return a.listRecordingsOf(w, r, "")
}

// listCallRecordings serves GET Calls/{CallSid}/Recordings.json.
func (a *restAPI) listCallRecordings(w http.ResponseWriter, r *http.Request, ids []string) error {
	if !sid.Valid(sid.Call, ids[0]) {
		return notFound(r)
	}
	return a.listRecordingsOf(w, r, ids[0])
}

// listRecordingsOf lists the account's recordings, of callSID when not
// empty, with the filters CallSid, ConferenceSid, DateCreated (and its
// < > forms) and IncludeSoftDeleted.
func (a *restAPI) listRecordingsOf(w http.ResponseWriter, r *http.Request, callSID string) error {
	return a.listRecordingsWith(w, r, callSID, func(rec store.Recording) recordingJSON { return a.toRecordingJSON(r, rec) })
}

// listRecordingsWith is listRecordingsOf with each recording rendered by
// render.
func (a *restAPI) listRecordingsWith(w http.ResponseWriter, r *http.Request, callSID string, render func(store.Recording) recordingJSON) error {
	q, p, err := a.listRequest(r)
	if err != nil {
		return err
	}
	f := store.RecordingFilter{
		AccountSID:    a.opts.AccountSID,
		CallSID:       q.Get("CallSid"),
		ConferenceSID: q.Get("ConferenceSid"),
	}
	if callSID != "" {
		if f.CallSID != "" && f.CallSID != callSID {
			return badRequest(codeUnsupportedParam, "CallSid %s contradicts the path's call %s", f.CallSID, callSID)
		}
		f.CallSID = callSID
	}
	if f.DateCreated, err = timeFilter(q, "DateCreated"); err != nil {
		return err
	}
	if f.IncludeDeleted, err = parseBool("IncludeSoftDeleted", q.Get("IncludeSoftDeleted"), false); err != nil {
		return err
	}
	return listOwned(w, r, p, "recordings", func(ctx context.Context, pg store.Page) ([]store.Recording, store.PageToken, error) {
		return a.opts.Store.ListRecordings(ctx, f, pg)
	}, render)
}
