package main

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/store"
)

// newConferences makes the conference rooms behind <Dial><Conference> and
// the Conferences API. engine is read when a hold or announce URL is
// fetched: it is set once the engine exists (the engine needs the rooms).
func newConferences(authToken, userAgent string, db store.Store, engine **ivr.Engine, log *slog.Logger) *conference.Manager {
	callbacks := webhook.NewClient(webhook.Options{AuthToken: authToken, UserAgent: userAgent, Logger: log})
	return conference.NewManager(conference.Options{
		Notify: func(ctx context.Context, target, method string, params url.Values) {
			_ = callbacks.Notify(ctx, webhook.Request{URL: target, Method: method, Params: params}) // logged by the client
		},
		Resolve: func(ctx context.Context, target, method string) ([]int16, error) {
			return (*engine).ConferenceAudio(ctx, target, method)
		},
		HoldMusic: ivr.HoldMusic(),
		Saved:     saveConference(db, log),
		Logger:    log,
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
