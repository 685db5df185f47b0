package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/media"
)

// rtp sums the statistics of RTP legs as they end.
type rtp struct {
	legs, sent, received, lost prometheus.Counter
	jitter                     prometheus.Histogram
	late                       prometheus.Histogram
}

func newRTP(reg *prometheus.Registry) *rtp {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	r := &rtp{
		legs:     counter("rtp_legs_total", "RTP legs ended (one per call)."),
		sent:     counter("rtp_packets_sent_total", "RTP packets sent by legs that have ended."),
		received: counter("rtp_packets_received_total", "RTP packets received by legs that have ended."),
		lost:     counter("rtp_packets_lost_total", "RTP packets missing from the streams legs received (RFC 3550 cumulative loss)."),
		jitter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "rtp_jitter_seconds",
			Help: "RFC 3550 interarrival jitter of the audio each leg received, at the end of the leg.",
			// 0.25 ms to 128 ms: a LAN peer shows well under 1 ms; past
			// 30 ms callers hear it.
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 10),
		}),
	}
	r.late = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "rtp_send_late_seconds",
		Help: "How late the RTP scheduler began each burst of sends after its due time (about 1,000 a second per CPU while calls are up). " +
			"Past a few milliseconds callers' audio arrives unevenly: the machine is short of CPU.",
		// 50 µs to 51 ms.
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 11),
	})
	reg.MustRegister(r.jitter, r.late)
	return r
}

// PacingLate records how late a burst of RTP sends began. Its signature
// is sip.Config.PacingLate's; it allocates nothing.
func (r *rtp) PacingLate(d time.Duration) {
	r.late.Observe(d.Seconds())
}

// MediaEnded adds the final statistics of a call's RTP leg. Its signature
// is sip.Config.MediaEnded's.
func (r *rtp) MediaEnded(callSID string, st media.RTPStats) {
	r.legs.Inc()
	r.sent.Add(float64(st.PacketsSent))
	r.received.Add(float64(st.PacketsReceived))
	r.lost.Add(float64(st.PacketsLost))
	if st.PacketsReceived > 1 {
		r.jitter.Observe(st.Jitter.Seconds())
	}
}
