package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// webhooks times webhook requests and counts their failures.
type webhooks struct {
	duration map[bool]prometheus.Observer // by Outcome.Notify
	failures *prometheus.CounterVec
	canceled map[bool]prometheus.Counter

	mu    sync.Mutex
	codes map[failureKey]prometheus.Counter // failures children, cached
}

type failureKey struct {
	notify bool
	code   int
}

// kindLabel names a request's kind in labels.
func kindLabel(notify bool) string {
	if notify {
		return "callback"
	}
	return "twiml"
}

func newWebhooks(reg *prometheus.Registry) *webhooks {
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "webhook_duration_seconds",
		Help: "Webhook requests from start to end (redirects and retries included), by kind: twiml (documents) or callback (status callbacks).",
		// 5 ms to 10 s: Twilio's default timeout is 15 s.
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"kind"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "webhook_failures_total",
		Help: "Webhook requests that failed, by kind and Twilio error code (11200 HTTP retrieval failure, 11205 connection failure, …).",
	}, []string{"kind", "code"})
	canceled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "webhook_canceled_total",
		Help: "Webhook requests abandoned because the call ended first, by kind.",
	}, []string{"kind"})
	reg.MustRegister(dur, failures, canceled)
	w := &webhooks{
		duration: map[bool]prometheus.Observer{},
		failures: failures,
		canceled: map[bool]prometheus.Counter{},
		codes:    map[failureKey]prometheus.Counter{},
	}
	for _, notify := range []bool{false, true} {
		w.duration[notify] = dur.WithLabelValues(kindLabel(notify))
		w.canceled[notify] = canceled.WithLabelValues(kindLabel(notify))
	}
	return w
}

// WebhookDone records a finished webhook request. Its signature is
// webhook.Options.Observe's.
func (w *webhooks) WebhookDone(o webhook.Outcome) {
	w.duration[o.Notify].Observe(o.Duration.Seconds())
	switch {
	case o.Canceled:
		w.canceled[o.Notify].Inc()
	case o.Code != 0:
		w.failure(o.Notify, o.Code).Inc()
	}
}

// failure returns the failures counter for a kind and code.
func (w *webhooks) failure(notify bool, code int) prometheus.Counter {
	k := failureKey{notify, code}
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.codes[k]
	if !ok {
		c = w.failures.WithLabelValues(kindLabel(notify), strconv.Itoa(code))
		w.codes[k] = c
	}
	return c
}
