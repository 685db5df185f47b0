package metrics

import "github.com/prometheus/client_golang/prometheus"

// finalStatuses are the call statuses that end a call, as the engine
// reports them (Twilio's CallStatus values).
var finalStatuses = []string{"completed", "busy", "no-answer", "failed", "canceled"}

// calls counts calls by how they ended.
type calls struct {
	ended map[string]prometheus.Counter // by final status; read-only after newCalls
}

func newCalls(reg *prometheus.Registry, active func() int) *calls {
	if active != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "calls_active",
			Help: "Calls in progress, inbound and outbound.",
		}, func() float64 { return float64(active()) }))
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "calls_total",
		Help: "Calls ended, by final status (completed, busy, no-answer, failed, canceled).",
	}, []string{"status"})
	reg.MustRegister(vec)
	c := &calls{ended: map[string]prometheus.Counter{}}
	for _, s := range finalStatuses {
		c.ended[s] = vec.WithLabelValues(s) // exported at 0 before the first call
	}
	return c
}

// CallEvent takes a call progress event's status (ivr.Event.Status) and
// counts the call when the status is final; other statuses (ringing,
// in-progress, …) are ignored.
func (c *calls) CallEvent(status string) {
	if ctr, ok := c.ended[status]; ok {
		ctr.Inc()
	}
}
