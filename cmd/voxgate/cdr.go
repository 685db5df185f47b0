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
// call progress, and recordings as they are saved.
type cdrWriter struct {
	store      store.Store
	accountSID string
	log        *slog.Logger

	mu    sync.Mutex
	calls map[string]store.Call // calls not yet ended
}

func newCDRWriter(s store.Store, accountSID string, log *slog.Logger) *cdrWriter {
	return &cdrWriter{store: s, accountSID: accountSID, log: log, calls: map[string]store.Call{}}
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
	} else {
		w.calls[ev.Info.SID] = c
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.store.PutCall(ctx, c); err != nil {
		w.log.Error("cdr: store call", "call_sid", c.SID, "error", err)
	}
}

// recording stores a recording's metadata: a finished recording, or a
// whole-call recording as it starts, pauses and resumes.
func (w *cdrWriter) recording(r recording.Recording) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status := store.RecordingStatus(r.Status)
	if status == "" {
		status = store.RecordingCompleted
	}
	_, err := w.store.PutRecording(ctx, store.Recording{
		SID:        r.SID,
		AccountSID: w.accountSID,
		CallSID:    r.CallSID,
		Status:     status,
		Source:     r.Source,
		Channels:   r.Channels,
		Duration:   int(r.Duration.Round(time.Second) / time.Second),
		StartTime:  r.StartTime,
		Path:       r.Path,
	})
	if err != nil {
		w.log.Error("cdr: store recording", "call_sid", r.CallSID, "recording_sid", r.SID, "error", err)
	}
}
