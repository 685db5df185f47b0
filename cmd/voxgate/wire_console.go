package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/console"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/store"
)

// callEventRetention is how long call timelines are kept.
const callEventRetention = 30 * 24 * time.Hour

// consoleWiring feeds the console's call timelines from the engine's
// existing hooks and serves /console.
type consoleWiring struct {
	rec *console.Recorder
}

// newConsoleWiring starts the call-event recorder (Close stops it) and
// drops timelines older than callEventRetention.
func newConsoleWiring(ctx context.Context, db *store.SQLite, log *slog.Logger) *consoleWiring {
	if n, err := db.DeleteCallEventsBefore(ctx, time.Now().Add(-callEventRetention)); err != nil {
		log.Warn("console: old call events not removed", "error", err)
	} else if n > 0 {
		log.Info("console: old call events removed", "count", n)
	}
	return &consoleWiring{rec: console.NewRecorder(db, log)}
}

// engine adds the recorder to the engine's config: its logger (warnings
// and errors with Twilio codes) and its webhook transport (each request
// and response). A nil c leaves cfg as it is.
func (c *consoleWiring) engine(cfg ivr.Config) ivr.Config {
	if c == nil {
		return cfg
	}
	if cfg.Logger != nil {
		cfg.Logger = slog.New(c.rec.LogHandler(cfg.Logger.Handler()))
	}
	var base http.RoundTripper
	if cfg.HTTPClient != nil {
		base = cfg.HTTPClient.Transport
	}
	cfg.HTTPClient = &http.Client{Transport: c.rec.Transport(base)}
	return cfg
}

// status records a call's status change (subscribed to the engine's call
// events).
func (c *consoleWiring) status(ev ivr.Event) { c.rec.Status(ev.Info.SID, ev.Status, ev.At) }

// mount serves the console at /console.
func (c *consoleWiring) mount(mux *http.ServeMux, cfg config.Config, db *store.SQLite, apiHandler http.Handler, queues *queue.Manager, log *slog.Logger) {
	h := console.NewHandler(console.Options{
		AccountSID: cfg.Account.SID, AuthToken: cfg.Account.AuthToken,
		API: apiHandler, Store: db, Queues: queues, PublicURL: cfg.HTTP.PublicURL, Logger: log,
		SessionTTL: cfg.Console.SessionTTL.D(), ServiceLevel: cfg.Console.ServiceLevel.D(),
	})
	mux.Handle("/console", h)
	mux.Handle("/console/", h)
}

// Close writes the events still queued.
func (c *consoleWiring) Close() { c.rec.Close() }
