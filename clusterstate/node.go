// Package clusterstate shares a cluster's live contact-centre state
// between the gateways of one PostgreSQL database: one node, the leader
// (the holder of a PostgreSQL advisory lock), runs the TaskRouter engine
// in memory as a single node does; the other nodes forward TaskRouter
// work to it over internal, authenticated HTTP (the REST API, the tasks
// of their callers, agents' desktops), and find on which node an agent's
// desktop is connected in the agent_presence table, to ring the agent
// there over an internal SIP leg. When the leader dies, PostgreSQL frees
// its lock and another node takes it, loading TaskRouter from the store.
package clusterstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// RoleTaskRouter names the leader's role in cluster_leaders.
const RoleTaskRouter = "taskrouter"

// InternalPrefix is where Node.InternalHandler is mounted.
const InternalPrefix = "/internal/cluster/v1/"

// Leading is what the leader runs: its Router, the default workspace's
// IDs, and the agents' desktops on them.
type Leading struct {
	Router   *taskrouter.Router
	Defaults taskrouter.DefaultIDs
	Desk     *desk.Desk
}

// Options configure a Node.
type Options struct {
	NodeID string
	// InternalURL is this node's HTTP base URL as the other nodes reach it.
	InternalURL string
	// SIPURI is the SIP URI at which the other nodes reach this node to
	// ring agent (an internal leg).
	SIPURI   func(agent string) string
	Signer   Signer
	Election *Election
	Store    store.ClusterStateStore
	// Promote builds TaskRouter from the store when this node is
	// elected; it runs once.
	Promote func(ctx context.Context) (Leading, error)
	// Lost hears, once, that the leader can no longer prove it holds the
	// lock: another node may lead already, so the gateway must stop.
	Lost   func(error)
	Logger *slog.Logger
	// Conversations are this node's web chat and SMS conversations (nil:
	// none): other nodes' desktops read and answer them here.
	Conversations *conversation.Store
	HTTPClient    *http.Client  // default: no timeout (each request has its own)
	Interval      time.Duration // election and leader refresh period (default 1 s)
}

// Node is this gateway's part in the cluster's shared state. Make it with
// New, start it with Start, end it with Close.
type Node struct {
	opts Options
	log  *slog.Logger

	leading atomic.Pointer[Leading]      // set once, when this node leads
	leader  atomic.Pointer[store.Leader] // the leader as last read from the store
	rest    atomic.Pointer[http.Handler] // the leader's REST handler, when leading
	proxy   *httputil.ReverseProxy
	held    heldTasks      // the leader's tasks of other nodes' callers
	hub     *deskHub       // the leader's desktop notifications for other nodes
	convs   *Conversations // nil without Options.Conversations

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// New makes a Node; nothing runs before Start.
func New(opts Options) *Node {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	n := &Node{opts: opts, log: opts.Logger.With("component", "clusterstate"), held: heldTasks{m: map[string]*heldTask{}}}
	n.hub = newDeskHub(n)
	if opts.Conversations != nil {
		n.convs = newConversations(n, opts.Conversations)
	}
	n.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u, _ := url.Parse(pr.In.Context().Value(leaderURLKey{}).(string))
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // resource links name the node the client asked
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			n.log.Warn("clusterstate: forwarding to the TaskRouter leader failed", "path", r.URL.Path, "error", err)
			n.refreshLeader(r.Context())
			writeProblem(w, http.StatusServiceUnavailable, "the cluster's TaskRouter leader is not reachable; try again")
		},
	}
	return n
}

type leaderURLKey struct{}

// sweepEvery is how often the leader forgets the finished tasks it held
// for other nodes.
const sweepEvery = time.Minute

// Start takes the lead if nobody holds it (synchronously: the first node
// of a cluster leads as soon as it starts) and then keeps watching the
// lock in the background until Close.
func (n *Node) Start(ctx context.Context) error {
	if err := n.tick(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.done.Add(1)
	go n.run(runCtx)
	return nil
}

// Close stops watching the lock, stops TaskRouter if this node leads and
// gives the lock up.
func (n *Node) Close() error {
	if n.cancel != nil {
		n.cancel()
	}
	n.done.Wait()
	n.hub.close()
	if n.convs != nil {
		n.convs.close()
	}
	var err error
	if l := n.leading.Load(); l != nil {
		err = l.Router.Close()
	}
	n.opts.Election.Release()
	return err
}

func (n *Node) run(ctx context.Context) {
	defer n.done.Done()
	t := time.NewTicker(n.opts.Interval)
	defer t.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l := n.leading.Load(); l != nil && time.Since(lastSweep) >= sweepEvery {
			n.held.sweep(l.Router)
			lastSweep = time.Now()
		}
		if err := n.tick(ctx); err != nil {
			if ctx.Err() == nil {
				n.log.Error("clusterstate: the leader lost its lock; stopping", "error", err)
				if n.opts.Lost != nil {
					n.opts.Lost(err)
				}
			}
			return
		}
	}
}

// tick is one round: a leader checks its lock; a follower tries to take
// it, or else rereads who leads. Only a lost lock is an error.
func (n *Node) tick(ctx context.Context) error {
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n.leading.Load() != nil {
		if err := n.opts.Election.Check(tctx); err != nil {
			return err
		}
		if l := n.leader.Load(); l == nil || l.NodeID != n.opts.NodeID {
			n.claim(tctx) // the claim failed before: the others still forward elsewhere
		}
		return nil
	}
	got, err := n.opts.Election.TryLock(tctx)
	if err != nil {
		n.log.Warn("clusterstate: election", "error", err)
		return nil
	}
	if !got {
		n.refreshLeader(tctx)
		return nil
	}
	lead, err := n.opts.Promote(ctx)
	if err != nil {
		n.log.Error("clusterstate: elected but TaskRouter did not start; giving the lead up", "error", err)
		n.opts.Election.Release()
		return nil
	}
	h := lead.Router.Handler()
	n.rest.Store(&h)
	n.leading.Store(&lead)
	n.claim(tctx)
	return nil
}

// claim records this node as the leader for the others.
func (n *Node) claim(ctx context.Context) {
	l, err := n.opts.Store.ClaimLeader(ctx, store.Leader{Name: RoleTaskRouter, NodeID: n.opts.NodeID, HTTPURL: n.opts.InternalURL})
	if err != nil {
		n.log.Error("clusterstate: cannot record this node as the leader", "error", err)
		return
	}
	n.leader.Store(&l)
	n.log.Info("clusterstate: this node leads the cluster's TaskRouter", "term", l.Term)
}

// refreshLeader rereads who leads.
func (n *Node) refreshLeader(ctx context.Context) {
	l, err := n.opts.Store.GetLeader(ctx, RoleTaskRouter)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			n.log.Warn("clusterstate: reading the leader", "error", err)
		}
		return
	}
	if old := n.leader.Load(); old == nil || old.Term != l.Term {
		n.log.Info("clusterstate: TaskRouter leader", "leader", l.NodeID, "term", l.Term)
	}
	n.leader.Store(&l)
}

// Conversations is the cluster's view of the web chat and SMS
// conversations (nil without Options.Conversations).
func (n *Node) Conversations() *Conversations { return n.convs }

// Leading returns what this node runs as the leader, or nil.
func (n *Node) Leading() *Leading { return n.leading.Load() }

// NodeID is this node's name.
func (n *Node) NodeID() string { return n.opts.NodeID }

// leaderURL is the leader's internal URL ("" when unknown or when this
// node leads).
func (n *Node) leaderURL() string {
	if n.leading.Load() != nil {
		return ""
	}
	if l := n.leader.Load(); l != nil && l.NodeID != n.opts.NodeID {
		return l.HTTPURL
	}
	return ""
}

// RESTHandler serves TaskRouter's REST API (/v1/Workspaces): the leader's
// Router itself, or on another node a proxy to the leader (the client's
// own credentials are checked there).
func (n *Node) RESTHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := n.rest.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		u := n.leaderURL()
		if u == "" {
			n.refreshLeader(r.Context())
			if u = n.leaderURL(); u == "" {
				writeProblem(w, http.StatusServiceUnavailable, "the cluster has no TaskRouter leader yet; try again")
				return
			}
		}
		n.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leaderURLKey{}, u)))
	})
}

// CreateContactTask implements the call engine's, web chat's and SMS
// desk's ContactTasks: on the leader, a task of its Router; elsewhere a
// task created on the leader and followed from here.
func (n *Node) CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error) {
	p = n.withNodeFacts(p)
	if l := n.leading.Load(); l != nil {
		return l.Router.CreateContactTask(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out createdTask
	if err := n.call(ctx, http.MethodPost, "tasks", p, &out); err != nil {
		return nil, err
	}
	return taskrouter.NewRemoteContactTask(out.SID, out.WorkspaceSID, &remoteContact{n: n, sid: out.SID, ws: out.WorkspaceSID}), nil
}

// Task returns a task's view, from the leader.
func (n *Node) Task(workspaceSID, taskSID string) (taskrouter.TaskView, error) {
	if l := n.leading.Load(); l != nil {
		return l.Router.Task(workspaceSID, taskSID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var tv taskrouter.TaskView
	err := n.call(ctx, http.MethodGet, "workspaces/"+url.PathEscape(workspaceSID)+"/tasks/"+url.PathEscape(taskSID), nil, &tv)
	return tv, err
}

// Defaults returns the default workspace's IDs: the leader's, waiting up
// to ctx's end for a leader to answer.
func (n *Node) Defaults(ctx context.Context) (taskrouter.DefaultIDs, error) {
	for {
		if l := n.leading.Load(); l != nil {
			return l.Defaults, nil
		}
		var ids taskrouter.DefaultIDs
		err := n.call(ctx, http.MethodGet, "defaults", nil, &ids)
		if err == nil {
			return ids, nil
		}
		select {
		case <-ctx.Done():
			return ids, fmt.Errorf("clusterstate: the leader's default workspace: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// errNotLeader is the leader's answer turned error when the node asked
// does not lead (any more).
var errNotLeader = errors.New("clusterstate: that node does not lead the cluster")

// errUnknown: the leader does not know what was asked about (its task
// handle was lost with a former leader).
var errUnknown = errors.New("clusterstate: unknown to the leader")

// call sends an internal request to the leader and decodes its JSON
// answer into out. The leader is reread from the store when it cannot
// be reached or says it no longer leads.
func (n *Node) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("clusterstate: %s: %w", path, err)
		}
	}
	base := n.leaderURL()
	if n.leading.Load() != nil {
		base = n.opts.InternalURL // a desktop opened before this node was elected
	}
	if base == "" {
		n.refreshLeader(ctx)
		if base = n.leaderURL(); base == "" {
			return fmt.Errorf("clusterstate: %s: %w", path, errNoLeader)
		}
	}
	err := n.send(ctx, base, method, path, body, out)
	if err != nil && !errors.Is(err, errUnknown) && ctx.Err() == nil {
		n.refreshLeader(ctx)
	}
	return err
}

var errNoLeader = errors.New("clusterstate: no TaskRouter leader is known")

// writeProblem answers with a JSON error in the REST API's shape.
func writeProblem(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "message": msg, "code": 20000 + status})
}
