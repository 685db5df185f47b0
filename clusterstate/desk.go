package clusterstate

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/voxgate/voxgate/desk"
)

// The agent desktop of an agent whose page is connected to a node other
// than the leader: the node reads the snapshot and carries the agent's
// actions to the leader, and long-polls the leader for changes.

func (n *Node) serveDeskSnapshot(w http.ResponseWriter, r *http.Request, l *Leading) {
	s, err := l.Desk.Open(r.PathValue("agent"))
	if err != nil {
		writeErr(w, err)
		return
	}
	defer s.Close()
	snap, err := s.Snapshot()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, snap)
}

func (n *Node) serveDeskDo(w http.ResponseWriter, r *http.Request, l *Leading) {
	var req desk.Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, "bad request: "+err.Error())
		return
	}
	s, err := l.Desk.Open(r.PathValue("agent"))
	if err != nil {
		writeErr(w, err)
		return
	}
	defer s.Close()
	if err := s.Do(req); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, struct{}{})
}

// deskChanges is the leader's answer to a poll for a desktop's changes:
// the agent's change counter.
type deskChanges struct {
	Version uint64 `json:"version"`
}

func (n *Node) serveDeskChanges(w http.ResponseWriter, r *http.Request, l *Leading) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	v, err := n.hub.wait(ctx, l, r.PathValue("agent"), after)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, deskChanges{Version: v})
}

// deskHub counts, on the leader, the changes of the desktops other nodes
// follow: one desk session per agent, opened at the first poll and kept
// until Close (agents are a configured, bounded list).
type deskHub struct {
	n      *Node
	mu     sync.Mutex
	agents map[string]*deskWatch
	closed bool
	stop   chan struct{} // closed by close
	wg     sync.WaitGroup
}

type deskWatch struct {
	version uint64
	changed chan struct{} // closed and replaced at each change
	s       *desk.Session
}

func newDeskHub(n *Node) *deskHub {
	return &deskHub{n: n, agents: map[string]*deskWatch{}, stop: make(chan struct{})}
}

// wait returns the agent's change counter once it differs from after, or
// when ctx ends.
func (h *deskHub) wait(ctx context.Context, l *Leading, agent string, after uint64) (uint64, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0, errors.New("clusterstate: shutting down")
	}
	dw := h.agents[agent]
	if dw == nil {
		s, err := l.Desk.Open(agent)
		if err != nil {
			h.mu.Unlock()
			return 0, err
		}
		dw = &deskWatch{version: uint64(time.Now().UnixNano()), changed: make(chan struct{}), s: s}
		h.agents[agent] = dw
		h.wg.Add(1)
		go h.follow(dw)
	}
	v, ch := dw.version, dw.changed
	h.mu.Unlock()
	if v != after {
		return v, nil
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return dw.version, nil
}

// follow counts one agent's changes until its session is closed.
func (h *deskHub) follow(dw *deskWatch) {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-dw.s.Changed():
		}
		h.mu.Lock()
		dw.version++
		close(dw.changed)
		dw.changed = make(chan struct{})
		h.mu.Unlock()
	}
}

// close ends the sessions (at Close).
func (h *deskHub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	agents := h.agents
	h.agents = map[string]*deskWatch{}
	h.mu.Unlock()
	h.wg.Wait()
	for _, dw := range agents {
		dw.s.Close()
	}
}

// RemoteDesk is an agent's desktop on the leader, seen from the node the
// agent's page is connected to. Close it when the page goes.
type RemoteDesk struct {
	n       *Node
	agent   string
	changed chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// OpenRemoteDesk follows agentID's desktop on the leader.
func (n *Node) OpenRemoteDesk(agentID string) *RemoteDesk {
	ctx, cancel := context.WithCancel(context.Background())
	d := &RemoteDesk{n: n, agent: agentID, changed: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go d.poll(ctx)
	return d
}

func (d *RemoteDesk) path(what string) string {
	return "desk/" + url.PathEscape(d.agent) + "/" + what
}

// poll signals Changed whenever the leader's counter moves (and after a
// failover, whose leader counts anew).
func (d *RemoteDesk) poll(ctx context.Context) {
	defer close(d.done)
	var after uint64
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, pollWait+10*time.Second)
		var ch deskChanges
		err := d.n.call(pctx, http.MethodGet, d.path("changes")+"?after="+strconv.FormatUint(after, 10), nil, &ch)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				d.n.log.Debug("clusterstate: following a desktop on the leader", "agent", d.agent, "error", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if ch.Version != after {
			after = ch.Version
			select {
			case d.changed <- struct{}{}:
			default:
			}
		}
	}
}

// Changed fires when Snapshot may show something new.
func (d *RemoteDesk) Changed() <-chan struct{} { return d.changed }

// Snapshot reads the agent's desktop from the leader, as JSON.
func (d *RemoteDesk) Snapshot() (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var raw json.RawMessage
	err := d.n.call(ctx, http.MethodGet, d.path("snapshot"), nil, &raw)
	return raw, err
}

// Do carries an action of the agent to the leader.
func (d *RemoteDesk) Do(req desk.Request) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return d.n.call(ctx, http.MethodPost, d.path("do"), req, nil)
}

// Close stops following the desktop.
func (d *RemoteDesk) Close() {
	d.cancel()
	<-d.done
}
