package api

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// recordingMedia serves recording audio like Twilio: .../Recordings/RE…
// and .../Recordings/RE….wav as audio/x-wav. As on Twilio by default,
// media URLs need no credentials (the 128-bit SID is the secret) unless
// Options.RecordingsRequireAuth is set.
//
// The file is the one the store's record names; a recording the store does
// not know is looked for as RecordingsDir/RE….wav; a deleted one is gone.
func (a *restAPI) recordingMedia(w http.ResponseWriter, r *http.Request, ids []string) error {
	recSID, ext, _ := strings.Cut(ids[0], ".")
	if !sid.Valid(sid.Recording, recSID) {
		return notFound(r)
	}
	switch ext {
	case "", "wav":
	case "mp3":
		return &Error{Status: http.StatusNotFound, Code: 20404,
			Message: "MP3 is not available on this gateway: request " + recSID + ".wav"}
	default:
		return notFound(r)
	}
	path, err := a.mediaPath(r, recSID)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return notFound(r)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("recording %s: %w", recSID, err)
	}
	w.Header().Set("Content-Type", "audio/x-wav")
	http.ServeContent(w, r, recSID+".wav", st.ModTime(), f)
	return nil
}

// mediaPath finds the audio file of recSID.
func (a *restAPI) mediaPath(r *http.Request, recSID string) (string, error) {
	if a.opts.Store != nil {
		rec, err := a.opts.Store.GetRecording(r.Context(), recSID)
		switch {
		case err == nil && (rec.Deleted || rec.AccountSID != a.opts.AccountSID):
			return "", notFound(r)
		case err == nil && rec.Path != "":
			return rec.Path, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return "", fmt.Errorf("recording %s: %w", recSID, err)
		}
	}
	if p := a.defaultMediaPath(recSID); p != "" {
		return p, nil
	}
	return "", notFound(r)
}

// defaultMediaPath is RecordingsDir/RE….wav, or "" with no RecordingsDir.
func (a *restAPI) defaultMediaPath(recSID string) string {
	if a.opts.RecordingsDir == "" {
		return ""
	}
	return filepath.Join(a.opts.RecordingsDir, recSID+".wav")
}
