package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/voxgate/voxgate/sid"
)

// callbackJournal keeps, while an outbound REST call runs, the status
// callback it asked for, in a small file (dir/<CallSid>.json), so that
// after a crash recovery can send the "completed" callback the killed
// process owed it. The file goes when the call ends.
type callbackJournal struct {
	dir string
	log *slog.Logger
}

// journaledCallback is a call's StatusCallback, StatusCallbackMethod and
// StatusCallbackEvent.
type journaledCallback struct {
	URL    string   `json:"url"`
	Method string   `json:"method,omitempty"`
	Events []string `json:"events,omitempty"`
}

// newCallbackJournal keeps its files in dir, made if needed.
func newCallbackJournal(dir string, log *slog.Logger) (*callbackJournal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return &callbackJournal{dir: dir, log: log}, nil
}

func (j *callbackJournal) path(callSID string) (string, bool) {
	if !sid.Valid(sid.Call, callSID) {
		return "", false
	}
	return filepath.Join(j.dir, callSID+".json"), true
}

// put records the callback of a call that starts.
func (j *callbackJournal) put(callSID string, cb journaledCallback) {
	path, ok := j.path(callSID)
	if !ok || cb.URL == "" {
		return
	}
	data, _ := json.Marshal(cb)
	if err := os.WriteFile(path, data, 0o640); err != nil {
		j.log.Warn("callback journal: not written; a crash during this call would lose its completed callback", "call_sid", callSID, "error", err)
	}
}

// get returns the callback recorded for callSID.
func (j *callbackJournal) get(callSID string) (journaledCallback, bool) {
	var cb journaledCallback
	path, ok := j.path(callSID)
	if !ok {
		return cb, false
	}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &cb) != nil || cb.URL == "" {
		return cb, false
	}
	return cb, true
}

// done forgets the callback of a call that has ended.
func (j *callbackJournal) done(callSID string) {
	if path, ok := j.path(callSID); ok {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			j.log.Warn("callback journal: not removed", "call_sid", callSID, "error", err)
		}
	}
}

// clear forgets every callback: after recovery no call of the old process
// is left.
func (j *callbackJournal) clear() {
	entries, _ := os.ReadDir(j.dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			os.Remove(filepath.Join(j.dir, e.Name()))
		}
	}
}
