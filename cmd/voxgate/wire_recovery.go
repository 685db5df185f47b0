package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/recovery"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// executionEndedReason is what an execution ended by recovery records.
const executionEndedReason = "the gateway stopped during the call"

// recoverAtStart takes the storage directory and ends what a previous
// process left unfinished (package recovery): its calls, their recordings
// and Studio executions, and sends the status callbacks that were due. It
// returns the function that, at shutdown, stops keeping the directory's
// alive file, waits for those callbacks and lets the directory go. When
// another process holds the directory, nothing is recovered (its calls
// are live) and the gateway runs on with a warning.
func recoverAtStart(ctx context.Context, cfg config.Config, db *store.SQLite, recordingsDir string, flows *studio.Executor, journal *callbackJournal, httpClient *http.Client, log *slog.Logger) func() {
	dir := cfg.Storage.Dir
	unlock, err := recovery.Lock(dir)
	if err != nil {
		log.Warn("recovery: skipped: another voxgate uses storage.dir; its calls are not this one's to end", "dir", dir, "error", err)
		return func() {}
	}
	cb := &recoveryCallbacks{cfg: cfg, log: log, journal: journal, client: webhook.NewClient(webhook.Options{
		AuthToken: cfg.Account.AuthToken, Timeout: cfg.WebhookTimeout.D(),
		UserAgent: "Voxgate/" + version, Logger: log, HTTPClient: httpClient, // the outbound HTTP policy applies
	})}
	res, err := recovery.Run(ctx, recovery.Options{
		Store: db, RecordingsDir: recordingsDir, StoppedAt: recovery.LastAlive(dir), Logger: log,
		CallEnded: func(ctx context.Context, before, after store.Call) {
			if err := flows.EndCall(ctx, after.SID, executionEndedReason); err != nil {
				log.Error("recovery: ending the call's Studio execution", "call_sid", after.SID, "error", err)
			}
			cb.send(before, after)
			journal.forgetNow(after.SID) // in a cluster, the shared journal's row
		},
	})
	if err != nil {
		log.Error("recovery: some records left unfinished could not be put right", "error", err)
	}
	journal.clear() // the old process's calls are all over now
	if res.Calls+res.RecordingsSaved+res.RecordingsAbsent > 0 {
		log.Warn("recovery: the previous process stopped without ending its calls", "calls_ended", res.Calls,
			"recordings_saved", res.RecordingsSaved, "recordings_absent", res.RecordingsAbsent)
	}
	aliveCtx, stop := context.WithCancel(context.Background())
	aliveDone := make(chan struct{})
	go func() {
		defer close(aliveDone)
		recovery.KeepAlive(aliveCtx, dir)
	}()
	return func() {
		stop()
		<-aliveDone
		cb.wg.Wait()
		unlock()
	}
}

// recoveryCallbacks sends the final status callbacks of calls ended by
// recovery: an inbound call's is its number's in the config, a REST
// call's the one its create asked for (kept in the callback journal).
// Calls that Studio flows placed, and <Dial> legs, get none (their
// callbacks went to the flow or the parent call, both over).
type recoveryCallbacks struct {
	cfg     config.Config
	log     *slog.Logger
	journal *callbackJournal
	client  *webhook.Client
	wg      sync.WaitGroup // callbacks on their way
}

// send delivers, in the background, the "completed" callback of a call
// that recovery ended, when the call's callback subscribes to it.
func (r *recoveryCallbacks) send(before, after store.Call) {
	var cb journaledCallback
	switch before.Direction {
	case ivr.Inbound:
		app, ok := r.cfg.AppFor(before.To)
		if !ok || app.StatusCallback == "" {
			return
		}
		cb = journaledCallback{URL: app.StatusCallback, Method: app.StatusCallbackMethod, Events: app.StatusCallbackEvents}
		if abs, err := webhook.ResolveURL(expandLocal(app.VoiceURL, r.cfg.HTTP.PublicURL), expandLocal(cb.URL, r.cfg.HTTP.PublicURL)); err == nil {
			cb.URL = abs
		}
	case ivr.OutboundAPI:
		var ok bool
		if cb, ok = r.journal.get(before.SID); !ok {
			return
		}
	default:
		return
	}
	if !subscribed(cb.Events, "completed") {
		return
	}
	req := webhook.Request{URL: cb.URL, Method: cb.Method, Params: completedParams(r.cfg.Account.SID, before, after, cb.Events)}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.WebhookTimeout.D()+time.Second)
		defer cancel()
		if err := r.client.Notify(ctx, req); err == nil {
			r.log.Info("recovery: completed status callback sent", "call_sid", after.SID, "status", after.Status)
		}
	}()
}

// completedParams are the parameters of the final call-progress callback
// of a call recovery ended, as the engine would have sent them. Its
// SequenceNumber follows the callbacks the call had reached: initiated
// and ringing, and answered if it was in progress, counting those the
// app subscribes to.
func completedParams(accountSID string, before, after store.Call, events []string) url.Values {
	reached := []string{"initiated", "ringing"}
	if before.Status == store.CallInProgress {
		reached = append(reached, "answered")
	}
	seq := 0
	for _, e := range reached {
		if subscribed(events, e) {
			seq++
		}
	}
	p := url.Values{}
	for k, v := range map[string]string{
		"CallSid": after.SID, "AccountSid": accountSID, "From": after.From, "To": after.To,
		"Caller": after.From, "Called": after.To, "CallStatus": string(after.Status),
		"ApiVersion": ivr.APIVersion, "Direction": after.Direction,
		"CallbackSource": "call-progress-events", "SequenceNumber": strconv.Itoa(seq),
		"Timestamp":    time.Now().UTC().Format(time.RFC1123Z),
		"CallDuration": strconv.Itoa(after.Duration), "Duration": strconv.Itoa((after.Duration + 59) / 60),
	} {
		p.Set(k, v)
	}
	if after.SIPCallID != "" {
		p.Set("SipCallId", after.SIPCallID)
	}
	return p
}

// subscribed reports whether a status callback with events (none means
// completed only) is sent for event.
func subscribed(events []string, event string) bool {
	if len(events) == 0 {
		return event == "completed"
	}
	for _, e := range events {
		for _, f := range strings.FieldsFunc(e, func(r rune) bool { return r == ' ' || r == ',' }) {
			if strings.EqualFold(f, event) {
				return true
			}
		}
	}
	return false
}
