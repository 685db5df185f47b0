package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/sip"
)

// drainer turns the shutdown signal into a drain: once the signal comes,
// the node is "draining" (health checks fail and new calls are refused
// with 503, so a balancer sends them elsewhere) while the calls in
// progress go on; the context serve runs on ends when the last of them
// has ended, or after the drain timeout.
type drainer struct {
	draining atomic.Bool
	active   atomic.Pointer[func() int] // live calls, set once the SIP server exists
	log      *slog.Logger
}

// drainPoll is how often a draining node looks at its call count.
const drainPoll = 100 * time.Millisecond

// startDrainer returns a context that ends timeout after signal ends, or
// as soon as no call is left after signal ended, and the drainer that
// watches it. With timeout 0 the context is signal itself: no drain. The
// drainer's goroutine ends with the returned context.
func startDrainer(signal context.Context, timeout time.Duration, log *slog.Logger) (context.Context, *drainer) {
	d := &drainer{log: log}
	if timeout <= 0 {
		return signal, d
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(signal))
	go func() {
		defer cancel()
		<-signal.Done()
		d.draining.Store(true)
		log.Info("voxgate draining: refusing new calls, waiting for live ones", "timeout", timeout, "calls", d.calls())
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		tick := time.NewTicker(drainPoll)
		defer tick.Stop()
		for d.calls() > 0 {
			select {
			case <-deadline.C:
				log.Warn("voxgate drain timed out: hanging up the calls left", "calls", d.calls())
				return
			case <-tick.C:
			}
		}
		log.Info("voxgate drained: no calls left")
	}()
	return ctx, d
}

// watch sets where the drainer counts live calls.
func (d *drainer) watch(active func() int) { d.active.Store(&active) }

// calls is the number of live calls (0 before watch).
func (d *drainer) calls() int {
	if f := d.active.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// handler refuses new calls while draining and passes them to next
// otherwise.
func (d *drainer) handler(next func(context.Context, *sip.InboundCall)) func(context.Context, *sip.InboundCall) {
	return func(ctx context.Context, call *sip.InboundCall) {
		if d.draining.Load() {
			call.Logger().Info("call: refused, the node is draining")
			call.Refuse(http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		next(ctx, call)
	}
}

// health answers /healthz with 503 {"status": "draining"} while draining
// and passes it to next otherwise.
func (d *drainer) health(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.draining.Load() {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]any{"status": "draining", "calls": d.calls()}) //nolint:errcheck // the client went away
	})
}
