// Package metrics keeps the gateway's Prometheus metrics and serves them
// in the text exposition format (Metrics.Handler, mounted at /metrics).
//
// Everything lives in the Metrics value's own registry (no global default
// registry): call counts and final statuses, RTP totals and interarrival
// jitter from every call's RTP leg when it ends, webhook latency and
// failures by Twilio error code, queue sizes and waits read at scrape
// time, plus the Go runtime and process collectors (goroutines, heap,
// CPU seconds, resident memory).
//
// The gateway feeds it through hooks: MediaEnded and PacingLate from sip.Config,
// WebhookDone from the webhook client's Options.Observe, CallEvent from the
// call engine's progress events; ActiveCalls and Queues are read when
// Prometheus scrapes.
//
// Metrics (all prefixed voxgate_):
//
//	calls_active                     gauge   calls in progress (Options.ActiveCalls)
//	calls_total{status}              counter calls ended, by final status (completed, busy, no-answer, failed, canceled)
//	rtp_legs_total                   counter RTP legs ended (one per call)
//	rtp_packets_sent_total           counter RTP packets sent, summed when legs end
//	rtp_packets_received_total       counter RTP packets received, summed when legs end
//	rtp_packets_lost_total           counter RTP packets missing from what legs received
//	rtp_jitter_seconds               histogram RFC 3550 interarrival jitter of each leg at its end
//	rtp_send_late_seconds            histogram how late each burst of RTP sends began (sip.Config.PacingLate)
//	webhook_duration_seconds{kind}   histogram webhook requests (kind: twiml, callback), redirects and retries included
//	webhook_failures_total{kind,code} counter failed webhook requests by Twilio error code
//	queue_size{queue}                gauge   callers waiting (Options.Queues)
//	queue_max_size{queue}            gauge   the queue's limit
//	queue_average_wait_seconds{queue} gauge  average wait of the callers waiting now
package metrics

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voxgate/voxgate/queue"
)

// namespace prefixes every metric name.
const namespace = "voxgate"

// Options says where the metrics read at scrape time come from. Nil
// functions leave their metrics out.
type Options struct {
	// ActiveCalls returns the number of calls in progress
	// (sip.Server.ActiveCalls).
	ActiveCalls func() int
	// Queues describes the queues (queue.Manager.Queues).
	Queues func() []queue.QueueInfo
	// Logger receives errors from serving a scrape; nil: slog.Default().
	Logger *slog.Logger
}

// Metrics holds the gateway's metrics. Its methods are safe for
// concurrent use and allocate nothing on the paths called per call.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger
	*calls
	*rtp
	*webhooks
}

// New returns metrics registered in a registry of their own, with the Go
// runtime and process collectors.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: opts.Logger}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.calls = newCalls(m.reg, opts.ActiveCalls)
	m.rtp = newRTP(m.reg)
	m.webhooks = newWebhooks(m.reg)
	if opts.Queues != nil {
		m.reg.MustRegister(newQueueCollector(opts.Queues))
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Registry is the metrics' registry, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
