package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// callbackJournal keeps, while an outbound REST call runs, the status
// callback it asked for, in a small file (dir/<CallSid>.json), so that
// after a crash recovery can send the "completed" callback the killed
// process owed it. The file goes when the call ends.
//
// In a cluster (storage.driver: postgres) the journal is the shared
// database's call_callbacks table instead, so that the survivor that ends
// the calls of a node that died finds their callbacks.
type callbackJournal struct {
	dir string
	log *slog.Logger
	db  *store.DB // set in a cluster: the journal is in the database
	// mine are the calls this process journaled in db, so that only their
	// end costs a delete.
	mine sync.Map
}

// journalWriteTimeout bounds a journal write to the database.
const journalWriteTimeout = 5 * time.Second

// shared keeps the journal in db (call_callbacks) from now on; call it
// before any call.
func (j *callbackJournal) shared(db *store.DB) { j.db = db }

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
	if j.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), journalWriteTimeout)
		defer cancel()
		err := j.db.PutCallCallback(ctx, store.CallCallback{CallSID: callSID, URL: cb.URL, Method: cb.Method, Events: cb.Events})
		if err != nil {
			j.log.Warn("callback journal: not written; a crash during this call would lose its completed callback", "call_sid", callSID, "error", err)
			return
		}
		j.mine.Store(callSID, true)
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
	if j.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), journalWriteTimeout)
		defer cancel()
		stored, err := j.db.GetCallCallback(ctx, callSID)
		if err != nil {
			return cb, false
		}
		return journaledCallback{URL: stored.URL, Method: stored.Method, Events: stored.Events}, true
	}
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &cb) != nil || cb.URL == "" {
		return cb, false
	}
	return cb, true
}

// done forgets the callback of a call that has ended (in a cluster,
// forget does, with the call's final record).
func (j *callbackJournal) done(callSID string) {
	if j.db != nil {
		return
	}
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

// forget deletes, in a cluster, the journaled callback of a call this
// process journaled and that has ended; it does nothing otherwise. The
// CDR writer calls it after storing the call's final record.
func (j *callbackJournal) forget(ctx context.Context, callSID string) error {
	if j.db == nil {
		return nil
	}
	if _, ok := j.mine.Load(callSID); !ok {
		return nil
	}
	if err := j.db.DeleteCallCallback(ctx, callSID); err != nil {
		return err
	}
	j.mine.Delete(callSID)
	return nil
}

// forgetNow deletes a journaled callback in the database (after a call
// ended elsewhere: recovery, a takeover); errors are logged.
func (j *callbackJournal) forgetNow(callSID string) {
	if j.db == nil {
		j.done(callSID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalWriteTimeout)
	defer cancel()
	if err := j.db.DeleteCallCallback(ctx, callSID); err != nil {
		j.log.Warn("callback journal: not removed", "call_sid", callSID, "error", err)
	}
}
