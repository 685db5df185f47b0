package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/voxgate/voxgate/sid"
)

// twilioError writes Twilio's error JSON.
func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

// recordingMedia serves recording audio like Twilio: .../Recordings/RE…
// and .../Recordings/RE….wav as audio/x-wav. As on Twilio by default,
// media URLs need no credentials: the 128-bit SID is the secret.
func (h *handler) recordingMedia(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("account") != h.opts.AccountSID {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	name := r.PathValue("file")
	recSID, ext, _ := strings.Cut(name, ".")
	if !sid.Valid(sid.Recording, recSID) {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	switch ext {
	case "", "wav":
	case "mp3":
		twilioError(w, http.StatusNotFound, 20404, "MP3 is not available on this gateway: request "+recSID+".wav")
		return
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	f, err := os.Open(filepath.Join(h.opts.RecordingsDir, recSID+".wav"))
	if err != nil {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		twilioError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "audio/x-wav")
	http.ServeContent(w, r, recSID+".wav", st.ModTime(), f)
}
