// Package smsbench measures the messaging engine against a real SMSC (the
// fake SMSC: node-smpp in server mode) over loopback, with the gateway's
// SQLite store:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/smsbench/
//
// BenchmarkSubmitWithReceipts creates N messages (SMS_N, default 5000) as
// the REST API does and reports messages/s from the first create until the
// last delivery receipt was recorded (every message delivered, none lost).
// BenchmarkInboundLatency pushes N MOs at SMS_MO_RATE per second (default
// 500; 0 = all at once) and reports the latency from the SMSC sending each
// deliver_sm to the app receiving its webhook.
package smsbench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/messaging/smpp"
	"github.com/voxgate/voxgate/messaging/smpp/smsctest"
	"github.com/voxgate/voxgate/store"
)

const ours = "+15557654321"

// creators is how many clients create messages at once (as many REST
// requests in flight).
const creators = 32

// moRate is the pace of MOs (SMS_MO_RATE per second, default 500).
func moRate() int {
	if n, err := strconv.Atoi(os.Getenv("SMS_MO_RATE")); err == nil && n >= 0 {
		return n
	}
	return 500
}

func count() int {
	if n, err := strconv.Atoi(os.Getenv("SMS_N")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// engine runs a Service on a fresh store against smsc.
func engine(b *testing.B, smsc *smsctest.SMSC, app string, observe func(store.Message)) (*messaging.Service, *store.SQLite) {
	db, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tr := messaging.NewSMPPTransport("carrier", smpp.Config{Addr: smsc.Addr, SystemID: "voxgate", Password: "secret", Window: 50}, time.Minute)
	svc := messaging.New(messaging.Options{AccountSID: "AC11111111111111111111111111111111", AuthToken: "22222222222222222222222222222222",
		Store: db, Transports: []messaging.Transport{tr}, Workers: 64, Observe: observe,
		Apps: func(string) (messaging.App, bool) { return messaging.App{URL: app}, app != "" }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	for !tr.Bound() {
		time.Sleep(10 * time.Millisecond)
	}
	return svc, db
}

func BenchmarkSubmitWithReceipts(b *testing.B) {
	n := count()
	for range b.N {
		smsc := smsctest.Start(b, "QUIET=1", "RECEIPT_DELAY_MS=5")
		var delivered atomic.Int64
		all := make(chan struct{})
		svc, _ := engine(b, smsc, "", func(m store.Message) {
			if m.Status == store.MessageDelivered && delivered.Add(1) == int64(n) {
				close(all)
			}
		})
		start := time.Now()
		var wg sync.WaitGroup
		for w := range creators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += creators {
					if _, err := svc.Send(context.Background(), messaging.SendRequest{From: ours, To: fmt.Sprintf("+1555%07d", i), Body: "bench " + strconv.Itoa(i)}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		created := time.Since(start)
		select {
		case <-all:
		case <-time.After(5 * time.Minute):
			b.Fatalf("%d of %d delivered", delivered.Load(), n)
		}
		elapsed := time.Since(start)
		st := smsc.Stats(b)
		if st["submits"] != n || st["receipts_acked"] < n {
			b.Errorf("SMSC saw %v for %d messages", st, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msg/s")
		b.ReportMetric(float64(n)/created.Seconds(), "creates/s")
		b.Logf("%d messages: all created in %v, all delivered (receipts recorded) in %v; SMSC %v", n, created.Round(time.Millisecond), elapsed.Round(time.Millisecond), st)
	}
}

func BenchmarkInboundLatency(b *testing.B) {
	n := count()
	for range b.N {
		smsc := smsctest.Start(b, "QUIET=1")
		var mu sync.Mutex
		var lat []time.Duration
		got := make(chan struct{}, n)
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			_ = r.ParseForm()
			ms, err := strconv.ParseInt(r.Form.Get("Body"), 10, 64)
			if err == nil {
				mu.Lock()
				lat = append(lat, now.Sub(time.UnixMilli(ms)))
				mu.Unlock()
			}
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte("<Response/>"))
			got <- struct{}{}
		}))
		b.Cleanup(app.Close)
		engine(b, smsc, app.URL+"/sms", nil)
		start := time.Now()
		if failed := smsc.MOBurst(b, "15550001111", "15557654321", n, moRate()); failed != 0 {
			b.Fatalf("%d MOs not acknowledged", failed)
		}
		for i := 0; i < n; i++ {
			select {
			case <-got:
			case <-time.After(time.Minute):
				b.Fatalf("%d of %d webhooks", i, n)
			}
		}
		elapsed := time.Since(start)
		slices.Sort(lat)
		p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
		b.ReportMetric(float64(n)/elapsed.Seconds(), "mo/s")
		b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
		b.Logf("%d MOs: all webhooks in %v; deliver_sm → webhook latency p50 %v p90 %v p99 %v max %v",
			n, elapsed.Round(time.Millisecond), p(0.5), p(0.9), p(0.99), lat[len(lat)-1])
	}
}
