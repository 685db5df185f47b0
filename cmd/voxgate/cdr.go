package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/store"
)

// cdrWriter keeps call detail records in the store as the engine reports
// call progress, and recordings as they are saved. Writes the store fails
// are retried (see retryWriter): a final record is never dropped.
type cdrWriter struct {
	store      store.Store
	accountSID string
	log        *slog.Logger
	writes     *retryWriter
	behind     *callWriteBehind // call records' group commit; nil: each through writes
	journal    *callbackJournal // forgets a REST call's status callback as it ends; may be nil

	mu    sync.Mutex
	calls map[string]store.Call // calls not yet ended
}

// newCDRWriter returns a writer for s; Close stops its retries.
func newCDRWriter(s store.Store, accountSID string, log *slog.Logger) *cdrWriter {
	w := &cdrWriter{store: s, accountSID: accountSID, log: log, writes: newRetryWriter(log), calls: map[string]store.Call{}}
	if b, ok := s.(callBatchStore); ok {
		w.behind = newCallWriteBehind(log, b.PutCalls, w.writes, w.putCall)
		w.behind.committed = w.committed
	}
	return w
}

// Close writes what is queued, gives the writes still failing a last
// chance, then gives up on them (calls left unfinished are ended at the
// next start).
func (w *cdrWriter) Close() {
	if w.behind != nil {
		w.behind.Close() // and w.writes
		return
	}
	w.writes.Close()
}

// putCall is the write of one call record (and, once an ended call's
// record is stored, the forgetting of its journaled callback).
func (w *cdrWriter) putCall(c store.Call) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := w.store.PutCall(ctx, c)
		if err == nil && c.Status.Ended() && w.journal != nil {
			err = w.journal.forget(ctx, c.SID) // in a cluster: the shared journal's row
		}
		return err
	}
}

// committed follows a call record the write-behind queue has committed:
// an ended call's journaled callback is forgotten (in a cluster, the
// shared journal's row), with the retry writer's retries.
func (w *cdrWriter) committed(c store.Call) {
	if !c.Status.Ended() || w.journal == nil || w.journal.db == nil {
		return // one node: its journal's file went as the call ended
	}
	w.writes.Write(c.SID+"/callback", func(ctx context.Context) error { return w.journal.forget(ctx, c.SID) })
}

// live reports whether the call with sid is running here or its record is
// still being written.
func (w *cdrWriter) live(sid string) bool {
	w.mu.Lock()
	_, ok := w.calls[sid]
	w.mu.Unlock()
	return ok || w.writes.Pending(sid) || (w.behind != nil && w.behind.Pending(sid))
}

// endExecution ends the Studio execution of a call that has ended, with
// the same retries as the call's record.
func (w *cdrWriter) endExecution(callSID string, end func(ctx context.Context) error) {
	w.writes.Write(callSID+"/execution", end)
}

// event records one progress event of a call.
func (w *cdrWriter) event(ev ivr.Event) {
	status := store.CallStatus(ev.Status)
	if ev.Status == "initiated" {
		status = store.CallQueued
	}
	if !status.Valid() {
		return
	}
	w.mu.Lock()
	c, ok := w.calls[ev.Info.SID]
	if !ok {
		c = store.Call{
			SID:           ev.Info.SID,
			AccountSID:    w.accountSID,
			ParentCallSID: ev.Info.ParentSID,
			From:          ev.Info.From,
			To:            ev.Info.To,
			FromFormatted: ev.Info.From,
			ToFormatted:   ev.Info.To,
			Direction:     ev.Info.Direction,
			ForwardedFrom: ev.Info.ForwardedFrom,
			SIPCallID:     ev.Info.SIPCallID,
		}
	}
	c.Status = status
	if status == store.CallInProgress && c.StartTime.IsZero() {
		c.StartTime = ev.At
	}
	if status.Ended() {
		c.EndTime = ev.At
		c.Duration = int(ev.Duration.Round(time.Second) / time.Second)
		if c.StartTime.IsZero() {
			c.StartTime = ev.At
		}
		delete(w.calls, ev.Info.SID)
		if w.journal != nil {
			w.journal.done(ev.Info.SID)
		}
	} else {
		w.calls[ev.Info.SID] = c
	}
	w.mu.Unlock()
	if w.behind != nil {
		w.behind.Write(c)
		return
	}
	w.writes.Write(c.SID, w.putCall(c))
}

// recording stores a recording's metadata: a finished recording, or a
// whole-call recording as it starts, pauses and resumes.
func (w *cdrWriter) recording(r recording.Recording) {
	status := store.RecordingStatus(r.Status)
	if status == "" {
		status = store.RecordingCompleted
	}
	rec := store.Recording{
		SID:        r.SID,
		AccountSID: w.accountSID,
		CallSID:    r.CallSID,
		Status:     status,
		Source:     r.Source,
		Channels:   r.Channels,
		Duration:   int(r.Duration.Round(time.Second) / time.Second),
		StartTime:  r.StartTime,
		Path:       r.Path,
	}
	w.writes.Write(r.SID, func(ctx context.Context) error {
		_, err := w.store.PutRecording(ctx, rec)
		return err
	})
}
