package main

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/metrics"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
)

// gatewayMetrics connects the gateway's parts to package metrics: its
// methods are the hooks the engine, the webhook client and the SIP server
// call, and handler mounts GET /metrics beside the API.
//
// serve creates it before the engine (whose hooks need it) and tells it
// the SIP server once that exists (serving), since the number of active
// calls is read from the server at every scrape.
type gatewayMetrics struct {
	m   *metrics.Metrics
	sip atomic.Pointer[sip.Server]
}

// newGatewayMetrics returns the gateway's metrics, reading queue sizes and
// waits from queues (nil: none) at every scrape.
func newGatewayMetrics(queues *queue.Manager, log *slog.Logger) *gatewayMetrics {
	g := &gatewayMetrics{}
	opts := metrics.Options{ActiveCalls: g.activeCalls, Logger: log}
	if queues != nil {
		opts.Queues = queues.Queues
	}
	g.m = metrics.New(opts)
	return g
}

// serving gives the metrics the SIP server whose calls they count.
func (g *gatewayMetrics) serving(s *sip.Server) {
	g.sip.Store(s)
	g.m.Registry().MustRegister(trunkRegistrations{s})
}

func (g *gatewayMetrics) activeCalls() int {
	if s := g.sip.Load(); s != nil {
		return s.ActiveCalls()
	}
	return 0
}

// callEvent counts one of the engine's call events.
func (g *gatewayMetrics) callEvent(ev ivr.Event) { g.m.CallEvent(ev.Status) }

// mediaEnded is sip.Config.MediaEnded.
func (g *gatewayMetrics) mediaEnded(callSID string, st media.RTPStats) { g.m.MediaEnded(callSID, st) }

// webhookDone is webhook.Options.Observe, for the engine to pass to every
// call's webhook client.
func (g *gatewayMetrics) webhookDone(o webhook.Outcome) { g.m.WebhookDone(o) }

// handler serves GET /metrics and hands every other request to next (the
// API handler).
func (g *gatewayMetrics) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", g.m.Handler())
	mux.Handle("/", next)
	return mux
}
