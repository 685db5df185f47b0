package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/recording"
	"github.com/voxgate/voxgate/recovery"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// callControl places and steers calls for the REST API with the engine.
type callControl struct {
	ctx        context.Context // the server's: outbound calls end with it
	engine     *ivr.Engine
	store      store.Store
	cdr        *cdrWriter       // which calls are live here; nil in tests without one
	journal    *callbackJournal // status callbacks of REST calls, for recovery; may be nil
	accountSID string
	log        *slog.Logger
	wg         sync.WaitGroup // outbound calls running

	mu      sync.Mutex
	placing map[string]bool // outbound calls from create until the engine is done with them
}

// Create implements api.CallControl: it records the call as queued and
// starts dialling it in the background.
func (c *callControl) Create(ctx context.Context, p api.CreateCallParams) (store.Call, error) {
	return c.create(ctx, sid.New(sid.Call), p, true)
}

// create is Create for a call whose SID the caller chose. With journal
// set, the call's status callback is kept for recovery (not for the calls
// Studio flows place: their callback is the flow's own).
func (c *callControl) create(ctx context.Context, callSID string, p api.CreateCallParams, journal bool) (store.Call, error) {
	c.setPlacing(callSID, true) // from its first record: not stale
	rec, err := c.store.PutCall(ctx, store.Call{
		SID: callSID, AccountSID: c.accountSID, From: p.From, To: p.To,
		FromFormatted: p.From, ToFormatted: p.To,
		Direction: ivr.OutboundAPI, Status: store.CallQueued,
	})
	if err != nil {
		c.setPlacing(callSID, false)
		return store.Call{}, err
	}
	if journal && c.journal != nil && p.StatusCallback != "" {
		c.journal.put(callSID, journaledCallback{URL: p.StatusCallback, Method: p.StatusCallbackMethod, Events: p.StatusCallbackEvents})
	}
	var record *recording.Options
	if p.Record {
		o := recordingOptions(p.Recording)
		o.Source = recording.SourceOutboundAPI
		record = &o
	}
	c.log.Info("api: outbound call requested", "call_sid", callSID, "to", p.To, "from", p.From, "record", p.Record)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.setPlacing(callSID, false)
		c.engine.RunOutbound(c.ctx, ivr.OutboundCall{
			Info: ivr.CallInfo{SID: callSID, From: p.From, To: p.To},
			App: ivr.App{
				Twiml: p.TwiML, VoiceURL: p.URL, VoiceMethod: p.Method,
				FallbackURL: p.FallbackURL, FallbackMethod: p.FallbackMethod,
				StatusCallback: p.StatusCallback, StatusCallbackMethod: p.StatusCallbackMethod,
				StatusCallbackEvents: p.StatusCallbackEvents,
			},
			Timeout:    p.Timeout,
			SendDigits: p.SendDigits,
			Record:     record,
		})
	}()
	return rec, nil
}

func notLive(err error) error {
	if errors.Is(err, ivr.ErrNoSuchCall) {
		return api.ErrNotLive
	}
	return err
}

// Redirect implements api.CallControl.
func (c *callControl) Redirect(ctx context.Context, callSID, url, method string) error {
	return notLive(c.engine.Redirect(callSID, url, method))
}

// RedirectTwiML implements api.CallControl.
func (c *callControl) RedirectTwiML(ctx context.Context, callSID, twiml string) error {
	err := c.engine.RedirectTwiML(callSID, twiml)
	if err != nil && !errors.Is(err, ivr.ErrNoSuchCall) {
		return &api.Error{Status: 400, Code: 12100, Message: "Invalid TwiML: " + err.Error()}
	}
	return notLive(err)
}

// Hangup implements api.CallControl. A call the store shows unfinished
// that is not running here (its final record was lost) is ended in the
// store, so that it can be ended and deleted.
func (c *callControl) Hangup(ctx context.Context, callSID, status string) error {
	err := c.engine.Hangup(callSID)
	if errors.Is(err, ivr.ErrNoSuchCall) && c.stale(callSID) {
		return c.endStale(ctx, callSID)
	}
	return notLive(err)
}

func (c *callControl) setPlacing(callSID string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.placing == nil {
		c.placing = map[string]bool{}
	}
	if on {
		c.placing[callSID] = true
	} else {
		delete(c.placing, callSID)
	}
}

// stale reports whether nothing here runs the call or writes its record.
func (c *callControl) stale(callSID string) bool {
	c.mu.Lock()
	placing := c.placing[callSID]
	c.mu.Unlock()
	return !placing && c.cdr != nil && !c.cdr.live(callSID)
}

// endStale ends the record of a call nothing runs: completed if it was
// answered, canceled if not, at its last update.
func (c *callControl) endStale(ctx context.Context, callSID string) error {
	rec, err := c.store.GetCall(ctx, callSID)
	if err != nil {
		return err
	}
	if rec.Status.Ended() {
		return api.ErrNotLive
	}
	ended := recovery.EndedCall(rec, rec.DateUpdated)
	if _, err := c.store.PutCall(ctx, ended); err != nil {
		return fmt.Errorf("end stale call %s: %w", callSID, err)
	}
	c.log.Warn("api: call record left unfinished ended on request: no such call runs here", "call_sid", callSID, "was", rec.Status, "status", ended.Status)
	return nil
}

// recordingOptions maps the API's recording parameters to the engine's.
func recordingOptions(p api.RecordingParams) recording.Options {
	return recording.Options{
		Channels: p.Channels, Track: p.Track, Trim: p.Trim,
		StatusCallback: p.StatusCallback, StatusCallbackMethod: p.StatusCallbackMethod,
		StatusCallbackEvents: p.StatusCallbackEvents,
	}
}

// apiRecording maps the engine's view of a recording to the API's.
func apiRecording(r recording.State) api.CallRecording {
	return api.CallRecording{SID: r.SID, CallSID: r.CallSID, Status: r.Status, Source: r.Source,
		Channels: r.Channels, StartTime: r.StartTime, Duration: r.Duration}
}

// recordingError maps the engine's recording errors to the API's.
func recordingError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ivr.ErrNoSuchCall), errors.Is(err, recording.ErrNotInProgress):
		return api.ErrNotLive
	case errors.Is(err, recording.ErrNoSuchRecording):
		return api.ErrNoRecording
	case errors.Is(err, recording.ErrEnded):
		return api.ErrRecordingEnded
	}
	return err
}

// StartRecording implements api.CallControl.
func (c *callControl) StartRecording(ctx context.Context, callSID string, p api.RecordingParams) (api.CallRecording, error) {
	o := recordingOptions(p)
	o.Source = recording.SourceStartCallRecordingAPI
	rec, err := c.engine.StartCallRecording(callSID, o)
	return apiRecording(rec), recordingError(err)
}

// UpdateRecording implements api.CallControl.
func (c *callControl) UpdateRecording(ctx context.Context, callSID, recSID, status, pauseBehavior string) (api.CallRecording, error) {
	rec, err := c.engine.UpdateCallRecording(callSID, recSID, status, pauseBehavior != "skip")
	return apiRecording(rec), recordingError(err)
}

// wait waits for outbound calls to finish (after the server context ends).
func (c *callControl) wait() { c.wg.Wait() }
