package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/voxgate/voxgate/cluster"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/clusterstate"
	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/web"
)

// taskRouting is TaskRouter as the gateway's parts use it: this node's
// own Router (SQLite, one node), or the cluster's (*clusterWiring).
type taskRouting interface {
	CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error)
	Task(workspaceSID, taskSID string) (taskrouter.TaskView, error)
	Handler() http.Handler // the REST API under /v1/Workspaces
	Close() error
}

// newTaskRouting starts TaskRouter: on SQLite, this node's Router (as
// always); on PostgreSQL, this node's part in the cluster's shared state
// (package clusterstate): the node elected leader runs the Router, the
// others forward to it.
func newTaskRouting(ctx context.Context, cfg config.Config, db *store.DB, queues *queue.Manager, log *slog.Logger) (taskRouting, taskrouter.DefaultIDs, *clusterWiring, error) {
	if db.Driver() != store.DriverPostgres {
		tr, ids, err := newTaskRouter(ctx, cfg, db, 0, log)
		if err != nil {
			return nil, ids, nil, err
		}
		return tr, ids, nil, nil
	}
	w, err := newClusterWiring(ctx, cfg, db, queues, log)
	if err != nil {
		return nil, taskrouter.DefaultIDs{}, nil, err
	}
	// The leader's default workspace: the IDs webchat and the desktop
	// start with (the leader's own, or asked of it).
	idsCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ids, err := w.Defaults(idsCtx)
	if err != nil {
		log.Warn("cluster: no TaskRouter leader answered; web chat starts without the default workflow", "error", err)
	}
	return w, ids, w, nil
}

// forgetDeadNodes subscribes to the membership's node deaths: the agents
// whose desktops were connected to a dead node are forgotten (and, on the
// leader, their workers go Offline), so no task is reserved to a desktop
// that is gone. Both may be nil (one node on SQLite).
func (w *clusterWiring) forgetDeadNodes(m *cluster.Membership) {
	if w == nil || m == nil {
		return
	}
	m.NodeDied(func(ctx context.Context, nodeID string) {
		agents, err := w.ForgetNode(ctx, nodeID)
		if err != nil {
			w.log.Warn("cluster: forgetting a dead node's agents failed", "dead_node", nodeID, "error", err)
			return
		}
		w.log.Info("cluster: a dead node's agents forgotten", "dead_node", nodeID, "agents", len(agents))
	})
}

// clusterWiring joins this node to the cluster's shared live state.
type clusterWiring struct {
	*clusterstate.Node
	lockDB       *sql.DB // the leader's lock
	keysDB       *sql.DB // Studio's contact locks (one connection per lock held)
	studio       *clusterstate.KeyLocks
	queues       *queue.Manager
	convs        *conversation.Store                    // the desktop's conversations (made here: the leader's desk needs them)
	resolveQueue func(name string) (string, int, error) // a named queue's SID in the shared store
	namedQueues  bool                                   // cluster.named_queues: the cluster's (TaskRouter tasks)
	sipURI       func(user string) string               // this node's SIP URI for the other nodes' legs
	pickups      sync.Map                               // <Dial><Queue> legs waiting for a taken caller, by token
	log          *slog.Logger
}

func newClusterWiring(ctx context.Context, cfg config.Config, db *store.DB, queues *queue.Manager, log *slog.Logger) (*clusterWiring, error) {
	internalURL, err := clusterInternalURL(cfg)
	if err != nil {
		return nil, err
	}
	sipURI, err := clusterSIPURI(cfg)
	if err != nil {
		return nil, err
	}
	secret := cfg.Cluster.Secret
	if secret == "" {
		secret = "account:" + cfg.Account.SID + ":" + cfg.Account.AuthToken
	}
	lockDB, err := sql.Open("pgx", cfg.Storage.URL)
	if err != nil {
		return nil, fmt.Errorf("cluster: election database: %w", err)
	}
	lockDB.SetMaxOpenConns(2)
	keysDB, err := sql.Open("pgx", cfg.Storage.URL)
	if err != nil {
		lockDB.Close()
		return nil, fmt.Errorf("cluster: lock database: %w", err)
	}
	keysDB.SetMaxOpenConns(studioLockConns)
	keysDB.SetMaxIdleConns(4)
	w := &clusterWiring{lockDB: lockDB, keysDB: keysDB, studio: clusterstate.NewKeyLocks(keysDB, clusterstate.StudioLockNamespace),
		queues: queues, convs: conversation.NewStore(0), resolveQueue: queueResolver(db, cfg.Account.SID),
		namedQueues: cfg.Cluster.NamedQueuesInCluster(), sipURI: sipURI, log: log}
	w.Node = clusterstate.New(clusterstate.Options{
		NodeID:      cfg.Cluster.NodeID,
		InternalURL: internalURL,
		SIPURI:      sipURI,
		Signer:      clusterstate.NewSigner(secret),
		Election:    clusterstate.NewElection(lockDB, clusterstate.LeaderLockKey),
		Store:       db,
		Promote: func(pctx context.Context) (clusterstate.Leading, error) {
			tr, ids, err := newTaskRouter(pctx, cfg, db, liveTaskGrace, log)
			if err != nil {
				return clusterstate.Leading{}, err
			}
			return clusterstate.Leading{Router: tr, Defaults: ids,
				Desk: desk.NewWith(tr, w.Conversations(), ids.WorkspaceSID, ids.Workers, log.With("component", "desk"))}, nil
		},
		Lost:          func(error) { stopSelf(log) },
		Logger:        log,
		Conversations: w.convs, // other nodes' desktops read and answer them here
	})
	if err := w.ClearPresence(ctx); err != nil {
		lockDB.Close()
		keysDB.Close()
		return nil, fmt.Errorf("cluster: agent presence: %w", err)
	}
	if err := w.Start(ctx); err != nil {
		lockDB.Close()
		keysDB.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return w, nil
}

// liveTaskGrace is how long a new leader keeps the tasks of live
// contacts it loads for their nodes to adopt (a waiting caller on a
// surviving node keeps its place); the others' end then.
const liveTaskGrace = 30 * time.Second

// stopSelf stops the gateway as SIGTERM does: a leader that cannot prove
// it still holds its lock must not go on routing beside a new leader.
func stopSelf(log *slog.Logger) {
	log.Error("cluster: stopping this node (TaskRouter leadership lost)")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		log.Error("cluster: cannot signal this process", "error", err)
	}
}

// Handler implements taskRouting.
func (w *clusterWiring) Handler() http.Handler { return w.RESTHandler() }

// Close implements taskRouting.
func (w *clusterWiring) Close() error {
	err := w.Node.Close()
	return errors.Join(err, w.lockDB.Close(), w.keysDB.Close())
}

// studioLockConns bounds the Studio contact locks a node holds at once
// (each holds a PostgreSQL connection while its step runs).
const studioLockConns = 16

// studioLocks serialise, across the nodes, the work on one contact's
// messaging executions (nil on one node).
func (w *clusterWiring) studioLocks() studio.SharedLocker {
	if w == nil {
		return nil
	}
	return w.studio
}

// registerMetrics exports whether this node leads the cluster's
// TaskRouter (voxgate_cluster_taskrouter_leader, 1 or 0).
func (w *clusterWiring) registerMetrics(reg *prometheus.Registry) {
	if w == nil {
		return
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "voxgate", Subsystem: "cluster", Name: "taskrouter_leader",
		Help: "1 while this node leads the cluster's TaskRouter, else 0.",
	}, func() float64 {
		if w.Leading() != nil {
			return 1
		}
		return 0
	}))
}

// mount serves the other nodes' internal requests.
func (w *clusterWiring) mount(mux *http.ServeMux) {
	if w == nil {
		return
	}
	mux.Handle(clusterstate.InternalPrefix, w.InternalHandler())
}

// clusterInternalURL is cluster.internal_url, or http:// and http.listen
// (for an unspecified host: sip.public_ip, else the SIP bind address).
func clusterInternalURL(cfg config.Config) (string, error) {
	if cfg.Cluster.InternalURL != "" {
		return strings.TrimRight(cfg.Cluster.InternalURL, "/"), nil
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		return "", fmt.Errorf("http.listen: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		_, public, err := mediaAddresses(cfg) // sip.public_ip, else the SIP bind address
		if err != nil {
			return "", fmt.Errorf("cluster.internal_url is not set and http.listen binds to all addresses: %w", err)
		}
		host = public.String()
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// clusterSIPURI gives the SIP URI at which the other nodes reach this one
// to ring an agent: the first UDP (else TCP) listener, at sip.public_ip.
func clusterSIPURI(cfg config.Config) (func(agent string) string, error) {
	var hostPort, param string
	for _, want := range []string{"udp", "tcp"} {
		for _, l := range cfg.SIP.Listen {
			if tr, hp, ok := strings.Cut(l, ":"); ok && tr == want {
				hostPort = hp
				if want == "tcp" {
					param = ";transport=tcp"
				}
				break
			}
		}
		if hostPort != "" {
			break
		}
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, errors.New("cluster: sip.listen has no udp or tcp listener for the other nodes' legs")
	}
	if cfg.SIP.PublicIP != "" {
		host = cfg.SIP.PublicIP
	}
	hp := net.JoinHostPort(host, port)
	return func(agent string) string { return "sip:" + agent + "@" + hp + param }, nil
}

// remoteAgent gives, for an agent whose desktop is connected to another
// node, the SIP URI and headers of the internal leg that rings it there.
func (w *clusterWiring) remoteAgent(ctx context.Context, agent, taskSID string) (string, map[string]string, bool) {
	if w == nil {
		return "", nil, false
	}
	uri, ok, err := w.AgentElsewhere(ctx, agent)
	if err != nil {
		w.log.Warn("cluster: agent presence", "agent", agent, "error", err)
		return "", nil, false
	}
	if !ok {
		return "", nil, false
	}
	return uri, w.LegHeaders(agent, taskSID), true
}

// internalLeg serves an internal leg from another node, if call is one:
// it rings the agent's page here and bridges it to the leg. It reports
// whether it took the call.
func (w *clusterWiring) internalLeg(ctx context.Context, call *sip.InboundCall) bool {
	if w == nil {
		return false
	}
	if w.namedQueues && w.pickupLeg(ctx, call) {
		return true // a caller taken by a <Dial><Queue> here
	}
	proof := call.Header(clusterstate.LegHeader)
	if proof == "" {
		return false
	}
	agent, task := call.Header(clusterstate.LegAgentHeader), call.Header(ivr.TaskHeader)
	log := call.Logger().With("agent", agent, "task_sid", task)
	if err := w.VerifyLeg(proof, agent, task); err != nil {
		log.Warn("cluster: internal leg refused", "source", call.Source().String(), "error", err)
		call.Refuse(403, "Forbidden")
		return true
	}
	log.Info("cluster: internal leg rings the agent here")
	req := ivr.DialRequest{CallSID: call.SID(), To: "client:" + agent, From: call.From(), Timeout: 2 * time.Minute,
		OnRinging: func(bool) { _ = call.Ringing() }}
	if task != "" {
		req.Headers = map[string]string{ivr.TaskHeader: task}
	}
	ac, err := ringAgent(ctx, w.queues, req)
	if err != nil {
		log.Info("cluster: the agent did not answer the internal leg", "error", err)
		call.Refuse(480, "Temporarily Unavailable")
		return true
	}
	if err := call.Answer(ctx); err != nil {
		log.Warn("cluster: answering the internal leg", "error", err)
		_ = ac.Hangup(context.Background())
		return true
	}
	res, err := media.Bridge(ctx, call.Leg(), ac.Leg(), nil)
	if err != nil {
		log.Warn("cluster: internal leg bridge", "error", err)
	}
	_ = ac.Hangup(context.Background())
	_ = call.Hangup(context.Background())
	log.Info("cluster: internal leg ended", "ended_by", res.Ended, "duration", res.Duration.Round(time.Second).String())
	return true
}

// desk opens agents' desktops: on the leader's Router when this node
// leads, else through the leader; either way the agent's presence on
// this node is recorded while the page is connected.
func (w *clusterWiring) desk() web.TaskDesk { return clusterDesk{w} }

type clusterDesk struct{ w *clusterWiring }

func (d clusterDesk) Open(agentID string) (web.DeskSession, error) {
	w := d.w
	var b [8]byte
	_, _ = rand.Read(b[:])
	session := w.NodeID() + "/" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.SignIn(ctx, agentID, session); err != nil {
		w.log.Warn("cluster: recording the agent's presence", "agent", agentID, "error", err)
	}
	var ds web.DeskSession
	if l := w.Leading(); l != nil {
		s, err := l.Desk.Open(agentID)
		if err != nil {
			_ = w.SignOut(ctx, agentID, session)
			return nil, err
		}
		ds = deskSession{s}
	} else {
		ds = newRemoteDeskSession(w.OpenRemoteDesk(agentID), w.Conversations(), agentID, w.log)
	}
	return &presentDesk{DeskSession: ds, w: w, agent: agentID, session: session}, nil
}

// presentDesk forgets the agent's presence when the page goes.
type presentDesk struct {
	web.DeskSession
	w              *clusterWiring
	agent, session string
}

func (p *presentDesk) Close() {
	p.DeskSession.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.w.SignOut(ctx, p.agent, p.session); err != nil {
		p.w.log.Warn("cluster: forgetting the agent's presence", "agent", p.agent, "error", err)
	}
}

// remoteDeskSession fits *clusterstate.RemoteDesk to web.DeskSession,
// with the conversations (web chats, SMS handed to Flex) laid over the
// leader's snapshot: a chat whose visitor is connected here is read,
// answered and closed here, one held by another node (the leader or not)
// there, through the cluster's view of conversations.
type remoteDeskSession struct {
	*clusterstate.RemoteDesk
	convs   *clusterstate.Conversations
	agent   string
	log     *slog.Logger
	changed chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu    sync.Mutex
	resvs map[string]desk.Task // the last snapshot's tasks by reservation SID
}

func newRemoteDeskSession(rd *clusterstate.RemoteDesk, convs *clusterstate.Conversations, agent string, log *slog.Logger) *remoteDeskSession {
	s := &remoteDeskSession{RemoteDesk: rd, convs: convs, agent: agent, log: log, changed: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), resvs: map[string]desk.Task{}}
	go s.watch()
	return s
}

// watch merges the leader's changes and this node's conversations'.
func (s *remoteDeskSession) watch() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.RemoteDesk.Changed():
		case <-s.convs.Changed():
		}
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

func (s *remoteDeskSession) Changed() <-chan struct{} { return s.changed }

func (s *remoteDeskSession) Close() {
	close(s.stop)
	<-s.done
	s.RemoteDesk.Close()
}

// Snapshot is the leader's, with this node's conversations of the
// agent's accepted chat and SMS tasks.
func (s *remoteDeskSession) Snapshot() (any, error) {
	raw, err := s.RemoteDesk.Snapshot()
	if err != nil {
		return nil, err
	}
	var snap desk.Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return nil, fmt.Errorf("cluster: the leader's desktop: %w", err)
	}
	resvs := make(map[string]desk.Task, len(snap.Tasks))
	for i, t := range snap.Tasks {
		if t.Conversation == nil && t.ReservationStatus != taskrouter.ResPending {
			if c, ok := s.convs.ByTask(t.TaskSID, t.Attributes); ok {
				snap.Tasks[i].Conversation = &c
			}
		}
		resvs[t.ReservationSID] = snap.Tasks[i]
	}
	s.mu.Lock()
	s.resvs = resvs
	s.mu.Unlock()
	return snap, nil
}

// Do carries the action to the leader, whose desktop also tells the
// conversation (wherever it is held) that the agent joined or left; a
// reply is sent from here to the node holding the conversation.
func (s *remoteDeskSession) Do(action, reservationSID, body, activity string) error {
	s.mu.Lock()
	t, known := s.resvs[reservationSID]
	s.mu.Unlock()
	if action == "say" && known {
		if c, ok := s.convs.ByTask(t.TaskSID, t.Attributes); ok {
			if t.ReservationStatus != taskrouter.ResAccepted {
				return errors.New("desk: accept the conversation before replying")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s.convs.Reply(ctx, c.SID, s.agent, body)
			return err
		}
	}
	return s.RemoteDesk.Do(desk.Request{Action: action, ReservationSID: reservationSID, Body: body, Activity: activity})
}

// errNoCallControls answers a call action (hold, transfer, monitor …) on
// a cluster's desktop: the room is on the caller's node, and forwarding
// the controls there is not built yet.
var errNoCallControls = errors.New("call controls (hold, mute, transfer, supervisor) are not available on a cluster's desktop yet")

// Call refuses the desktop's call controls (see errNoCallControls).
func (s *remoteDeskSession) Call(action, taskSID, target string) error { return errNoCallControls }
