package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
)

// scrape GETs the handler and parses the text exposition format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// value finds the sample of family name whose labels include want (name
// -> value) and returns its counter, gauge or histogram count.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing from the scrape", name)
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("metric %s has no sample with labels %v", name, want)
	return 0
}

// histogramSum returns the sum of the histogram family name with labels want.
func histogramSum(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	for _, m := range fams[name].GetMetric() {
		ok := true
		for _, l := range m.GetLabel() {
			if v, has := want[l.GetName()]; has && v != l.GetValue() {
				ok = false
			}
		}
		if ok && m.Histogram != nil {
			return m.GetHistogram().GetSampleSum()
		}
	}
	t.Fatalf("histogram %s%v missing", name, want)
	return 0
}

func TestCallsAndRTP(t *testing.T) {
	active := 0
	var mu sync.Mutex
	m := New(Options{ActiveCalls: func() int { mu.Lock(); defer mu.Unlock(); return active }})
	fams := scrape(t, m.Handler())
	if got := value(t, fams, "voxgate_calls_total", map[string]string{"status": "completed"}); got != 0 {
		t.Errorf("calls_total{completed} = %v before any call", got)
	}

	mu.Lock()
	active = 7
	mu.Unlock()
	for _, status := range []string{"ringing", "in-progress", "completed", "completed", "busy", "canceled", "bogus"} {
		m.CallEvent(status)
	}
	m.MediaEnded("CA1", media.RTPStats{PacketsSent: 500, PacketsReceived: 480, PacketsLost: 20, Jitter: 3 * time.Millisecond})
	m.MediaEnded("CA2", media.RTPStats{PacketsSent: 100, PacketsReceived: 0}) // never heard the far end: no jitter sample
	m.PacingLate(200 * time.Microsecond)
	m.PacingLate(3 * time.Millisecond)

	fams = scrape(t, m.Handler())
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"voxgate_calls_active", nil, 7},
		{"voxgate_calls_total", map[string]string{"status": "completed"}, 2},
		{"voxgate_calls_total", map[string]string{"status": "busy"}, 1},
		{"voxgate_calls_total", map[string]string{"status": "canceled"}, 1},
		{"voxgate_calls_total", map[string]string{"status": "failed"}, 0},
		{"voxgate_rtp_legs_total", nil, 2},
		{"voxgate_rtp_packets_sent_total", nil, 600},
		{"voxgate_rtp_packets_received_total", nil, 480},
		{"voxgate_rtp_packets_lost_total", nil, 20},
		{"voxgate_rtp_jitter_seconds", nil, 1},    // sample count
		{"voxgate_rtp_send_late_seconds", nil, 2}, // sample count
	}
	for _, tc := range tests {
		if got := value(t, fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if sum := histogramSum(t, fams, "voxgate_rtp_jitter_seconds", nil); sum < 0.0029 || sum > 0.0031 {
		t.Errorf("jitter sum = %v, want 0.003", sum)
	}
	if sum := histogramSum(t, fams, "voxgate_rtp_send_late_seconds", nil); sum < 0.00319 || sum > 0.00321 {
		t.Errorf("send lateness sum = %v, want 0.0032", sum)
	}
	if n := len(fams["voxgate_calls_total"].GetMetric()); n != len(finalStatuses) {
		t.Errorf("calls_total has %d statuses, want only the %d final ones", n, len(finalStatuses))
	}
	// The runtime and process collectors are there.
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

func TestWebhooks(t *testing.T) {
	m := New(Options{})
	outcomes := []webhook.Outcome{
		{Duration: 20 * time.Millisecond},
		{Duration: 40 * time.Millisecond},
		{Duration: 3 * time.Second, Code: webhook.CodeTotalTimeout},
		{Duration: time.Millisecond, Code: webhook.CodeConnectRefused},
		{Duration: time.Millisecond, Code: webhook.CodeConnectRefused},
		{Duration: 5 * time.Millisecond, Code: webhook.CodeRetrievalFailure, Canceled: true},
		{Notify: true, Duration: 10 * time.Millisecond},
		{Notify: true, Duration: 10 * time.Millisecond, Code: webhook.CodeRetrievalFailure, StatusCode: 500},
	}
	for _, o := range outcomes {
		m.WebhookDone(o)
	}
	fams := scrape(t, m.Handler())
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"voxgate_webhook_duration_seconds", map[string]string{"kind": "twiml"}, 6},
		{"voxgate_webhook_duration_seconds", map[string]string{"kind": "callback"}, 2},
		{"voxgate_webhook_failures_total", map[string]string{"kind": "twiml", "code": "11203"}, 1},
		{"voxgate_webhook_failures_total", map[string]string{"kind": "twiml", "code": "11202"}, 2},
		{"voxgate_webhook_failures_total", map[string]string{"kind": "callback", "code": "11200"}, 1},
		{"voxgate_webhook_canceled_total", map[string]string{"kind": "twiml"}, 1},
	}
	for _, tc := range tests {
		if got := value(t, fams, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if n := len(fams["voxgate_webhook_failures_total"].GetMetric()); n != 3 {
		t.Errorf("webhook_failures_total has %d series, want 3 (the canceled request is no failure)", n)
	}
	if sum := histogramSum(t, fams, "voxgate_webhook_duration_seconds", map[string]string{"kind": "twiml"}); sum < 3.066 || sum > 3.068 {
		t.Errorf("twiml duration sum = %v, want 3.067", sum)
	}
}

func TestQueues(t *testing.T) {
	var mu sync.Mutex
	infos := []queue.QueueInfo{
		{SID: "QU1", Name: "support", Size: 3, MaxSize: 100, AverageWait: 90 * time.Second},
		{SID: "QU2", Name: "sales", Size: 0, MaxSize: 10},
	}
	m := New(Options{Queues: func() []queue.QueueInfo { mu.Lock(); defer mu.Unlock(); return infos }})
	fams := scrape(t, m.Handler())
	tests := []struct {
		name, queue string
		want        float64
	}{
		{"voxgate_queue_size", "support", 3},
		{"voxgate_queue_size", "sales", 0},
		{"voxgate_queue_max_size", "support", 100},
		{"voxgate_queue_average_wait_seconds", "support", 90},
		{"voxgate_queue_average_wait_seconds", "sales", 0},
	}
	for _, tc := range tests {
		if got := value(t, fams, tc.name, map[string]string{"queue": tc.queue}); got != tc.want {
			t.Errorf("%s{queue=%q} = %v, want %v", tc.name, tc.queue, got, tc.want)
		}
	}
	// Read at every scrape: a queue that appears later shows up.
	mu.Lock()
	infos = append(infos, queue.QueueInfo{SID: "QU3", Name: "vip", Size: 1, MaxSize: 5, AverageWait: time.Second})
	mu.Unlock()
	fams = scrape(t, m.Handler())
	if got := value(t, fams, "voxgate_queue_size", map[string]string{"queue": "vip"}); got != 1 {
		t.Errorf("vip size = %v after it appeared", got)
	}
}

// TestNoAllocationsPerCall checks the per-call hooks allocate nothing once
// their label values have been seen.
func TestNoAllocationsPerCall(t *testing.T) {
	m := New(Options{})
	st := media.RTPStats{PacketsSent: 10, PacketsReceived: 10, Jitter: time.Millisecond}
	failed := webhook.Outcome{Duration: time.Millisecond, Code: 11200}
	m.WebhookDone(failed)
	allocs := testing.AllocsPerRun(200, func() {
		m.CallEvent("completed")
		m.CallEvent("ringing")
		m.MediaEnded("CA1", st)
		m.PacingLate(300 * time.Microsecond)
		m.WebhookDone(webhook.Outcome{Duration: time.Millisecond})
		m.WebhookDone(failed)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per call's hooks, want 0", allocs)
	}
}

// TestIndependentRegistries checks two Metrics do not share state (no
// global registry).
func TestIndependentRegistries(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	a.CallEvent("failed")
	if got := value(t, scrape(t, b.Handler()), "voxgate_calls_total", map[string]string{"status": "failed"}); got != 0 {
		t.Errorf("second Metrics counted the first's call: %v", got)
	}
}
