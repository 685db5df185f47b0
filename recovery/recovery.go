// Package recovery puts right, at start-up, what a gateway that stopped
// without warning (kill -9, a crash, the power) left unfinished: calls the
// store still shows queued, ringing or in progress, and recordings still
// in progress or paused, whose audio sits in a temporary file.
//
// [Run] ends each such call — "completed" with its duration up to the
// moment the old process was last seen alive if it had been answered,
// "canceled" if not — and tells the caller (who ends its Studio execution
// and sends the status callback that was due). It finishes each recording
// from its temporary file ([FinishRecording]) as "completed", or marks it
// "absent" when no audio was left. [Lock] keeps a second gateway on the
// same directory from taking the first one's live calls for leftovers;
// [KeepAlive] and [LastAlive] say when the old process stopped.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/voxgate/voxgate/store"
)

// Store is what recovery needs of the store.
type Store interface {
	UnfinishedCalls(ctx context.Context) ([]store.Call, error)
	UnfinishedRecordings(ctx context.Context) ([]store.Recording, error)
	PutCall(ctx context.Context, c store.Call) (store.Call, error)
	PutRecording(ctx context.Context, r store.Recording) (store.Recording, error)
}

// Options configures Run.
type Options struct {
	Store         Store
	RecordingsDir string
	// StoppedAt is when the old process was last seen running (LastAlive);
	// zero means unknown, and each record's last update is used instead.
	StoppedAt time.Time
	// CallEnded, when set, is told about each call Run ended: before is
	// the record as the old process left it, after as Run stored it.
	CallEnded func(ctx context.Context, before, after store.Call)
	Logger    *slog.Logger
}

// Result counts what Run put right.
type Result struct {
	Calls            int // calls ended
	RecordingsSaved  int // recordings finished from their temporary files
	RecordingsAbsent int // recordings that left no audio
	RecordingsFailed int // recordings whose file could not be finished (left as they were)
	CallsFailed      int // calls whose record could not be written (left as they were)
	// OrphanFiles are temporary recording files no unfinished recording
	// record names (a <Record> or <Dial record> cut short: those are stored
	// only when they end). They are left in place for the operator.
	OrphanFiles []string
}

// Run ends the calls and recordings a previous process left unfinished.
// Call it once at start-up, holding the directory's Lock, before taking
// calls. It goes on past a record it cannot fix and returns the errors
// joined.
func Run(ctx context.Context, o Options) (Result, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var res Result
	var errs []error
	recs, err := o.Store.UnfinishedRecordings(ctx)
	if err != nil {
		return res, err
	}
	for _, r := range recs {
		if err := finishRecording(ctx, o, r, &res, log); err != nil {
			errs = append(errs, err)
		}
	}
	calls, err := o.Store.UnfinishedCalls(ctx)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	if res.OrphanFiles, err = filepath.Glob(TempPattern(o.RecordingsDir, "RE*")); err != nil {
		errs = append(errs, err)
	}
	res.OrphanFiles = saveTakenOver(ctx, o, res.OrphanFiles, &res, log)
	for _, f := range res.OrphanFiles {
		log.Warn("recovery: temporary recording file with no recording record left by the previous process; kept", "path", f)
	}
	for _, c := range calls {
		ended := EndedCall(c, o.StoppedAt)
		stored, changed, err := endCall(ctx, o.Store, ended)
		if err != nil {
			res.CallsFailed++
			errs = append(errs, fmt.Errorf("recovery: end call %s: %w", c.SID, err))
			continue
		}
		if !changed {
			continue // another node of the cluster ended it meanwhile, and told its callbacks
		}
		res.Calls++
		log.Warn("recovery: call left unfinished by the previous process ended",
			"call_sid", c.SID, "was", c.Status, "status", stored.Status, "duration", stored.Duration)
		if o.CallEnded != nil {
			o.CallEnded(ctx, c, stored)
		}
	}
	return res, errors.Join(errs...)
}

// EndedCall is c as it ends after whatever ran it stopped at stoppedAt
// (or at its last update or answer, if later): completed with its talk
// time when it had been answered, canceled when not.
func EndedCall(c store.Call, stoppedAt time.Time) store.Call {
	end := stoppedAt
	for _, t := range []time.Time{c.DateUpdated, c.StartTime} {
		if t.After(end) {
			end = t
		}
	}
	c.EndTime = end
	if c.Status == store.CallInProgress {
		c.Status = store.CallCompleted
		if !c.StartTime.IsZero() {
			c.Duration = int(end.Sub(c.StartTime).Round(time.Second) / time.Second)
		}
		return c
	}
	c.Status = store.CallCanceled
	c.Duration = 0
	if c.StartTime.IsZero() {
		c.StartTime = end
	}
	return c
}

// finishRecording completes r from its temporary file, or marks it absent.
func finishRecording(ctx context.Context, o Options, r store.Recording, res *Result, log *slog.Logger) error {
	log = log.With("call_sid", r.CallSID, "recording_sid", r.SID)
	path, dur, err := FinishRecording(o.RecordingsDir, r.SID, max(r.Channels, 1))
	switch {
	case errors.Is(err, ErrNoAudio):
		r.Status, r.Duration, r.Path = store.RecordingAbsent, 0, ""
	case err != nil:
		res.RecordingsFailed++
		log.Error("recovery: recording left unfinished could not be saved", "error", err)
		return err
	default:
		r.Status, r.Path = store.RecordingCompleted, path
		r.Duration = int(dur.Round(time.Second) / time.Second)
	}
	if _, err := o.Store.PutRecording(ctx, r); err != nil {
		res.RecordingsFailed++
		return fmt.Errorf("recovery: recording %s: %w", r.SID, err)
	}
	if r.Status == store.RecordingAbsent {
		res.RecordingsAbsent++
		log.Warn("recovery: recording left unfinished had no audio: absent")
		return nil
	}
	res.RecordingsSaved++
	log.Warn("recovery: recording left unfinished saved from its temporary file", "duration", dur.String(), "path", path)
	return nil
}

// recordingGetter is the store's GetRecording, for saveTakenOver.
type recordingGetter interface {
	GetRecording(ctx context.Context, sid string) (store.Recording, error)
}

// saveTakenOver finishes the temporary files of recordings that another
// node of the cluster ended "absent" while this one was down (package
// cluster: a survivor cannot reach this node's disk), now that their
// audio is reachable again: the record becomes "completed" with the
// audio's duration. It returns the files left with no record.
func saveTakenOver(ctx context.Context, o Options, files []string, res *Result, log *slog.Logger) []string {
	g, ok := o.Store.(recordingGetter)
	if !ok {
		return files
	}
	var left []string
	for _, f := range files {
		recSID, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), ".rec-"), "-")
		r, err := g.GetRecording(ctx, recSID)
		if err != nil || r.Status != store.RecordingAbsent || r.Path != "" || r.Deleted {
			left = append(left, f)
			continue
		}
		path, dur, err := FinishRecording(o.RecordingsDir, r.SID, max(r.Channels, 1))
		if err != nil {
			left = append(left, f)
			continue
		}
		r.Status, r.Path = store.RecordingCompleted, path
		r.Duration = int(dur.Round(time.Second) / time.Second)
		if _, err := o.Store.PutRecording(ctx, r); err != nil {
			res.RecordingsFailed++
			log.Error("recovery: recording ended by another node could not be saved", "recording_sid", r.SID, "error", err)
			continue
		}
		res.RecordingsSaved++
		log.Warn("recovery: recording another node ended absent while this one was down saved from its temporary file",
			"call_sid", r.CallSID, "recording_sid", r.SID, "duration", dur.String(), "path", path)
	}
	return left
}

// conditionalEnder is the store's EndUnfinishedCall (store.DB has it).
type conditionalEnder interface {
	EndUnfinishedCall(ctx context.Context, c store.Call) (bool, error)
}

// endCall stores an ended call. With a store that can, it does so only if
// the call is still unfinished there, so that when a surviving node of a
// cluster takes this node over while it starts again, the call is ended
// (and its callbacks sent) by one of them; changed reports whether this
// did it.
func endCall(ctx context.Context, st Store, ended store.Call) (stored store.Call, changed bool, err error) {
	if e, ok := st.(conditionalEnder); ok {
		changed, err = e.EndUnfinishedCall(ctx, ended)
		return ended, changed, err
	}
	stored, err = st.PutCall(ctx, ended)
	return stored, err == nil, err
}
