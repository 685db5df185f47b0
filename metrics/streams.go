package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/mediastream"
)

// RegisterStreams exposes media stream counters, read from s at every
// scrape:
//
//	media_streams_active                    gauge   streams running
//	media_streams_started_total             counter streams that connected
//	media_stream_frames_sent_total          counter caller/gateway audio frames written to apps' servers
//	media_stream_frames_dropped_total       counter frames (and dtmf/mark messages) dropped because a server was behind
//	media_stream_playout_discarded_bytes_total counter server audio discarded beyond the playout limit (31931)
//	media_stream_failures_total{code}       counter streams that failed or never started, by Twilio code (31901…)
//	media_stream_warnings_total{code}       counter warnings (31930, 31950, 31951…) by code
func (m *Metrics) RegisterStreams(s *mediastream.Stats) {
	m.reg.MustRegister(streamCollector{s})
}

type streamCollector struct{ s *mediastream.Stats }

var (
	streamActive    = prometheus.NewDesc(namespace+"_media_streams_active", "Media streams running.", nil, nil)
	streamStarted   = prometheus.NewDesc(namespace+"_media_streams_started_total", "Media streams that connected to their server.", nil, nil)
	streamSent      = prometheus.NewDesc(namespace+"_media_stream_frames_sent_total", "Audio frames written to media stream servers.", nil, nil)
	streamDropped   = prometheus.NewDesc(namespace+"_media_stream_frames_dropped_total", "Frames and control messages dropped because a media stream server was not keeping up.", nil, nil)
	streamDiscarded = prometheus.NewDesc(namespace+"_media_stream_playout_discarded_bytes_total", "Bytes of server audio discarded beyond the playout limit (31931).", nil, nil)
	streamFailures  = prometheus.NewDesc(namespace+"_media_stream_failures_total", "Media streams that failed or never started, by Twilio error code.", []string{"code"}, nil)
	streamWarnings  = prometheus.NewDesc(namespace+"_media_stream_warnings_total", "Media stream warnings, by Twilio code.", []string{"code"}, nil)
)

func (c streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{streamActive, streamStarted, streamSent, streamDropped, streamDiscarded, streamFailures, streamWarnings} {
		ch <- d
	}
}

func (c streamCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(streamActive, prometheus.GaugeValue, float64(c.s.Active.Load()))
	ch <- prometheus.MustNewConstMetric(streamStarted, prometheus.CounterValue, float64(c.s.Started.Load()))
	ch <- prometheus.MustNewConstMetric(streamSent, prometheus.CounterValue, float64(c.s.FramesSent.Load()))
	ch <- prometheus.MustNewConstMetric(streamDropped, prometheus.CounterValue, float64(c.s.FramesDropped.Load()))
	ch <- prometheus.MustNewConstMetric(streamDiscarded, prometheus.CounterValue, float64(c.s.PlayoutLost.Load()))
	for code, n := range c.s.Failures() {
		ch <- prometheus.MustNewConstMetric(streamFailures, prometheus.CounterValue, float64(n), strconv.Itoa(code))
	}
	for code, n := range c.s.Warnings() {
		ch <- prometheus.MustNewConstMetric(streamWarnings, prometheus.CounterValue, float64(n), strconv.Itoa(code))
	}
}
