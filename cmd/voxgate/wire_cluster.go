package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/cluster"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/recovery"
	"github.com/voxgate/voxgate/store"
)

// takeoverEndedReason is what an execution ended by a takeover records.
const takeoverEndedReason = "the gateway carrying the call stopped"

// clusterParts are what a survivor uses to take a dead node's work over.
type clusterParts struct {
	db       *store.DB
	journal  *callbackJournal
	messages *gatewayMessaging
	client   *http.Client
}

// startCluster makes this gateway a member of the cluster sharing its
// PostgreSQL database (package cluster): it heartbeats every
// cluster.heartbeat, and when another node's heartbeat is older than
// cluster.dead_after one survivor takes its work over (takeOver). Alone
// (SQLite) there is no cluster: it returns nil and a closer that does
// nothing. The membership runs until ctx ends or the closer is called;
// the closer waits for it and for the callbacks its takeovers send.
func (g *gateway) startCluster(ctx context.Context, cfg config.Config, p clusterParts) (*cluster.Membership, func()) {
	ctx, cancel := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		sweepTimerClaims(ctx, p.db, g.log)
	}()
	if p.db.Driver() != store.DriverPostgres {
		return nil, func() { cancel(); <-swept }
	}
	cb := &recoveryCallbacks{cfg: cfg, log: g.log, journal: p.journal, client: webhook.NewClient(webhook.Options{
		AuthToken: cfg.Account.AuthToken, Timeout: cfg.WebhookTimeout.D(),
		UserAgent: "Voxgate/" + version, Logger: g.log, HTTPClient: p.client,
	})}
	t := &takeover{parts: p, g: g, cb: cb, log: g.log}
	m := cluster.New(cluster.Options{
		NodeID: cfg.Cluster.NodeID, Store: p.db,
		Interval: cfg.Cluster.Heartbeat.D(), DeadAfter: cfg.Cluster.DeadAfter.D(),
		Draining: g.drain.draining.Load, Takeover: t.run, Logger: g.log,
	})
	t.registerMetrics(g.metrics.m.Registry(), m)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	g.log.Info("cluster: joined", "heartbeat", cfg.Cluster.Heartbeat.D(), "dead_after", cfg.Cluster.DeadAfter.D())
	return m, func() {
		cancel()
		<-done
		<-swept
		cb.wg.Wait()
	}
}

// timerClaimsKept is how long a fired timer's claim (store.DB.ClaimTimer)
// is kept: far longer than any gateway takes to fire a timer it armed.
const timerClaimsKept = 24 * time.Hour

// sweepTimerClaims deletes old timer claims hourly until ctx ends.
func sweepTimerClaims(ctx context.Context, db *store.DB, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := db.DeleteOldTimerClaims(ctx, time.Now().Add(-timerClaimsKept)); err != nil && ctx.Err() == nil {
			log.Warn("cluster: deleting old timer claims", "error", err)
		}
	}
}

// takeover is a survivor's share of a dead node's work: what recovery
// does at start-up for a node's own leftovers, done for a peer.
type takeover struct {
	parts clusterParts
	g     *gateway // its Studio executor
	cb    *recoveryCallbacks
	log   *slog.Logger
	calls prometheus.Counter
}

func (t *takeover) registerMetrics(reg *prometheus.Registry, m *cluster.Membership) {
	t.calls = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "voxgate", Name: "cluster_takeover_calls_total",
		Help: "Calls of dead nodes this node ended (with their status callbacks) while taking those nodes over."})
	reg.MustRegister(t.calls,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "voxgate", Name: "cluster_nodes_alive",
			Help: "Nodes of the cluster (this one included) whose heartbeat was fresh at the last look."},
			func() float64 { return float64(m.Alive()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "voxgate", Name: "cluster_takeovers_total",
			Help: "Dead nodes this node took over."},
			func() float64 { return float64(m.Takeovers()) }))
}

// run takes dead over: its recordings in progress are ended (absent: the
// audio is on the dead node's disk), its live calls are ended as recovery
// ends them (completed with the talk time up to its last heartbeat if
// answered, canceled if not), each with its Studio execution and the
// "completed" status callback that was due; its unfinished messages are
// claimed and sent from here, and the Studio reply timers of waiting
// executions are armed here. Each call and recording is ended by one
// conditional UPDATE, so that a takeover run twice (a lapsed claim, the
// dead node's own recovery as it comes back) ends and reports it once.
func (t *takeover) run(ctx context.Context, dead store.Node) error {
	db, log := t.parts.db, t.log.With("dead_node", dead.ID)
	var errs []error
	recs, err := db.NodeUnfinishedRecordings(ctx, dead.ID)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range recs {
		r.Status, r.Duration, r.Path = store.RecordingAbsent, 0, ""
		ok, err := db.EndUnfinishedRecording(ctx, r)
		switch {
		case err != nil:
			errs = append(errs, err)
		case ok:
			log.Warn("cluster: recording of a dead node ended: absent (its audio is on that node's disk)", "recording_sid", r.SID, "call_sid", r.CallSID)
		}
	}
	calls, err := db.NodeUnfinishedCalls(ctx, dead.ID)
	if err != nil {
		errs = append(errs, err)
	}
	ended := 0
	for _, c := range calls {
		after := recovery.EndedCall(c, dead.LastSeen)
		ok, err := db.EndUnfinishedCall(ctx, after)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue // ended meanwhile (by the node itself, or another survivor)
		}
		ended++
		t.calls.Inc()
		log.Warn("cluster: call of a dead node ended", "call_sid", c.SID, "was", c.Status, "status", after.Status, "duration", after.Duration)
		if err := t.g.flows.EndCall(ctx, c.SID, takeoverEndedReason); err != nil {
			errs = append(errs, fmt.Errorf("end the Studio execution of call %s: %w", c.SID, err))
		}
		t.cb.send(c, after)
		t.parts.journal.forgetNow(c.SID)
	}
	if t.parts.messages != nil && t.parts.messages.svc != nil {
		ms, err := db.ClaimMessages(ctx, dead.ID)
		if err != nil {
			errs = append(errs, err)
		} else if len(ms) > 0 {
			log.Warn("cluster: messages a dead node left unfinished taken over", "count", len(ms))
			if err := t.parts.messages.svc.Adopt(ctx, ms); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := t.g.flows.ResumeWaiting(ctx); err != nil { // its waiting executions' timers now run here
		errs = append(errs, err)
	}
	log.Warn("cluster: dead node's work taken over", "calls_ended", ended, "recordings_ended", len(recs))
	return errors.Join(errs...)
}
