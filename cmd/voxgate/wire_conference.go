package main

import (
	"context"
	"fmt"
	"github.com/voxgate/voxgate/config"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/store"
)

// newConferences makes the conference rooms behind <Dial><Conference> and
// the Conferences API. engine is read when a hold or announce URL is
// fetched: it is set once the engine exists (the engine needs the rooms).
func newConferences(cfg *config.Config, userAgent, recordingsDir string, db store.Store, httpClient *http.Client, engine **ivr.Engine, log *slog.Logger) *conference.Manager {
	authToken := cfg.Account.AuthToken
	callbacks := webhook.NewClient(webhook.Options{AuthToken: authToken, UserAgent: userAgent, HTTPClient: httpClient, Logger: log})
	return conference.NewManager(conference.Options{
		Notify: func(ctx context.Context, target, method string, params url.Values) {
			_ = callbacks.Notify(ctx, webhook.Request{URL: target, Method: method, Params: params}) // logged by the client
		},
		Resolve: func(ctx context.Context, target, method string) ([]int16, error) {
			return (*engine).ConferenceAudio(ctx, target, method)
		},
		HoldMusic:      ivr.HoldMusic(),
		Saved:          saveConference(db, log),
		RecordingsDir:  recordingsDir,
		RecordingSaved: saveConferenceRecording(db, log),
		RecordingURL: func(recSID string) string {
			return fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s", strings.TrimRight(cfg.HTTP.PublicURL, "/"), cfg.Account.SID, recSID)
		},
		Logger: log,
	})
}

// saveConference keeps a room's record in the store.
func saveConference(db store.Store, log *slog.Logger) func(context.Context, conference.Info) {
	return func(ctx context.Context, c conference.Info) {
		_, err := db.PutConference(ctx, store.Conference{
			SID: c.SID, AccountSID: c.AccountSID, FriendlyName: c.FriendlyName, Status: c.Status,
			ReasonEnded: c.ReasonEnded, CallSIDEnding: c.CallSIDEnding, DateCreated: c.Created, DateUpdated: c.Updated,
		})
		if err != nil {
			log.Error("conference: saving the record failed", "conference_sid", c.SID, "error", err)
		}
	}
}

// saveConferenceRecording keeps a conference recording in the store: as
// it starts, pauses and resumes, and once it has ended.
func saveConferenceRecording(db store.Store, log *slog.Logger) func(context.Context, conference.Recording) {
	return func(ctx context.Context, r conference.Recording) {
		status := store.RecordingStatus(r.Status)
		if r.Status == "" {
			status = store.RecordingCompleted
		}
		_, err := db.PutRecording(ctx, store.Recording{
			SID: r.SID, AccountSID: r.AccountSID, CallSID: r.CallSID, ConferenceSID: r.ConferenceSID,
			Status: status, Source: r.Source, Channels: r.Channels, ErrorCode: r.ErrorCode,
			Duration: int(r.Duration.Round(time.Second) / time.Second), StartTime: r.Start, Path: r.Path,
		})
		if err != nil {
			log.Error("conference: saving the recording failed", "conference_sid", r.ConferenceSID, "recording_sid", r.SID, "error", err)
		}
	}
}
