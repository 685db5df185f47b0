package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
)

// TestGatewayMetrics feeds the hooks as serve wires them and scrapes
// /metrics through the handler, checking other paths still reach the API.
func TestGatewayMetrics(t *testing.T) {
	queues := queue.NewManager(queue.Config{})
	defer queues.Close()
	g := newGatewayMetrics(queues, slog.New(slog.DiscardHandler))
	var forwarded []string
	var events callEvents
	events.subscribe(g.callEvent)
	events.subscribe(func(ev ivr.Event) { forwarded = append(forwarded, ev.Status) })
	events.publish(ivr.Event{Status: "in-progress"})
	events.publish(ivr.Event{Status: "completed"})
	g.mediaEnded("CA1", media.RTPStats{PacketsSent: 250, PacketsReceived: 240, PacketsLost: 10})
	g.webhookDone(webhook.Outcome{Duration: 12 * time.Millisecond, Code: 11200})

	if strings.Join(forwarded, ",") != "in-progress,completed" {
		t.Errorf("events forwarded to the CDR hook: %v", forwarded)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	srv := httptest.NewServer(g.handler(api))
	defer srv.Close()

	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	body := get("/metrics")
	for _, want := range []string{
		`voxgate_calls_active 0`, // no SIP server yet
		`voxgate_calls_total{status="completed"} 1`,
		`voxgate_rtp_packets_sent_total 250`,
		`voxgate_rtp_packets_lost_total 10`,
		`voxgate_webhook_failures_total{code="11200",kind="twiml"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if got := get("/healthz"); got != "api /healthz" {
		t.Errorf("/healthz reached %q, want the API handler", got)
	}
}
