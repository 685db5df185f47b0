package clusterstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/taskrouter"
)

// pollWait is how long the leader holds a long poll (a task's assignment,
// a desktop's changes) before answering "nothing yet".
const pollWait = 20 * time.Second

// maxInternalBody bounds an internal request's body.
const maxInternalBody = 1 << 20

// createdTask is the leader's answer to a task created for another node.
type createdTask struct {
	SID          string `json:"sid"`
	WorkspaceSID string `json:"workspace_sid"`
}

// waitAnswer is the leader's answer to a poll for a task's assignment:
// one of its fields is set, or none (nothing yet: poll again).
type waitAnswer struct {
	Assignment *taskrouter.Assignment `json:"assignment,omitempty"`
	Ended      string                 `json:"ended,omitempty"`
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// send makes one signed internal request to base.
func (n *Node) send(ctx context.Context, base, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+InternalPrefix+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("clusterstate: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(AuthHeader, n.opts.Signer.Sign(time.Now(), method, req.URL.Path, req.URL.RawQuery, string(body)))
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("clusterstate: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxInternalBody))
	if err != nil {
		return fmt.Errorf("clusterstate: %s %s: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusMisdirectedRequest:
		return fmt.Errorf("clusterstate: %s %s: %w", method, path, errNotLeader)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("clusterstate: %s %s: %w", method, path, errUnknown)
	case resp.StatusCode/100 != 2:
		var p struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &p)
		return &RemoteError{Status: resp.StatusCode, Message: p.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("clusterstate: %s %s: answer: %w", method, path, err)
	}
	return nil
}

// RemoteError is the leader's refusal of an internal request.
type RemoteError struct {
	Status  int
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("clusterstate: the leader answered %d: %s", e.Status, e.Message)
}

// InternalHandler serves the other nodes (mount it at InternalPrefix).
// Every request must carry a fresh proof made with the cluster's secret;
// only the leader answers what concerns TaskRouter (421 elsewhere).
func (n *Node) InternalHandler() http.Handler {
	mux := http.NewServeMux()
	p := InternalPrefix
	mux.HandleFunc("POST "+p+"tasks", n.leaderOnly(n.serveCreateTask))
	mux.HandleFunc("POST "+p+"tasks/{sid}/wait", n.leaderOnly(n.serveWait))
	mux.HandleFunc("POST "+p+"tasks/{sid}/cancel", n.leaderOnly(n.serveCancel))
	mux.HandleFunc("POST "+p+"tasks/{sid}/requeue", n.leaderOnly(n.serveRequeue))
	mux.HandleFunc("GET "+p+"workspaces/{ws}/tasks/{sid}", n.leaderOnly(n.serveTask))
	mux.HandleFunc("GET "+p+"defaults", n.leaderOnly(n.serveDefaults))
	mux.HandleFunc("GET "+p+"queues/{sid}/members", n.leaderOnly(n.serveQueueMembers))
	mux.HandleFunc("POST "+p+"queues/{sid}/take", n.leaderOnly(n.serveQueueTake))
	mux.HandleFunc("GET "+p+"conversations/{task}", n.serveConversation)
	mux.HandleFunc("POST "+p+"conversations/{task}/do", n.serveConversationDo)
	mux.HandleFunc("GET "+p+"desk/{agent}/snapshot", n.leaderOnly(n.serveDeskSnapshot))
	mux.HandleFunc("POST "+p+"desk/{agent}/do", n.leaderOnly(n.serveDeskDo))
	mux.HandleFunc("GET "+p+"desk/{agent}/changes", n.leaderOnly(n.serveDeskChanges))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxInternalBody))
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "unreadable body")
			return
		}
		if err := n.opts.Signer.Verify(time.Now(), r.Header.Get(AuthHeader), r.Method, r.URL.Path, r.URL.RawQuery, string(body)); err != nil {
			n.log.Warn("clusterstate: internal request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
			writeProblem(w, http.StatusForbidden, "not a node of this cluster")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mux.ServeHTTP(w, r)
	})
}

func (n *Node) leaderOnly(h func(http.ResponseWriter, *http.Request, *Leading)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := n.leading.Load()
		if l == nil {
			writeProblem(w, http.StatusMisdirectedRequest, "this node does not lead the cluster")
			return
		}
		h(w, r, l)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// writeErr answers with TaskRouter's status for err.
func writeErr(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	var te *taskrouter.Error
	if errors.As(err, &te) && te.Status != 0 {
		status = te.Status
	}
	if status == http.StatusNotFound || status == http.StatusMisdirectedRequest {
		status = http.StatusBadRequest // 404 and 421 mean "unknown" and "not leader" between nodes
	}
	writeProblem(w, status, err.Error())
}

func (n *Node) serveCreateTask(w http.ResponseWriter, r *http.Request, l *Leading) {
	var p taskrouter.ContactParams
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		writeProblem(w, http.StatusBadRequest, "bad contact: "+err.Error())
		return
	}
	ct, err := l.Router.CreateContactTask(p)
	if err != nil {
		writeErr(w, err)
		return
	}
	n.held.put(ct)
	n.log.Info("clusterstate: task created for another node", "task_sid", ct.SID, "call_sid", p.CallSID)
	writeJSON(w, createdTask{SID: ct.SID, WorkspaceSID: ct.WorkspaceSID})
}

func (n *Node) serveWait(w http.ResponseWriter, r *http.Request, l *Leading) {
	h := n.heldOrAdopted(r, l)
	if h == nil {
		writeProblem(w, http.StatusNotFound, "no such task followed here")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	ans, ok := h.wait(ctx, r.URL.Query().Get("seen"))
	if !ok {
		return // the asking node went away
	}
	if ans.Ended != "" {
		n.held.drop(h.ct.SID)
	}
	writeJSON(w, ans)
}

func (n *Node) serveCancel(w http.ResponseWriter, r *http.Request, l *Leading) {
	var b reasonBody
	_ = json.NewDecoder(r.Body).Decode(&b)
	if n.heldOrAdopted(r, l) != nil {
		if h := n.held.drop(r.PathValue("sid")); h != nil {
			h.ct.Cancel(b.Reason)
		}
	}
	writeJSON(w, struct{}{})
}

func (n *Node) serveRequeue(w http.ResponseWriter, r *http.Request, l *Leading) {
	var b reasonBody
	_ = json.NewDecoder(r.Body).Decode(&b)
	h := n.heldOrAdopted(r, l)
	if h == nil {
		writeProblem(w, http.StatusNotFound, "no such task followed here")
		return
	}
	if err := h.ct.Requeue(b.Reason); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, struct{}{})
}

// heldOrAdopted is the task of the request: held here, or, after this
// node took the lead, adopted from the loaded Router (nil: unknown or
// over).
func (n *Node) heldOrAdopted(r *http.Request, l *Leading) *heldTask {
	sid := r.PathValue("sid")
	if h := n.held.get(sid); h != nil {
		return h
	}
	ct, err := l.Router.AdoptContactTask(r.URL.Query().Get("ws"), sid)
	if err != nil {
		return nil
	}
	n.log.Info("clusterstate: a task of another node's contact adopted after the load", "task_sid", sid)
	return n.held.putIfAbsent(ct)
}

func (n *Node) serveTask(w http.ResponseWriter, r *http.Request, l *Leading) {
	tv, err := l.Router.Task(r.PathValue("ws"), r.PathValue("sid"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, tv)
}

func (n *Node) serveDefaults(w http.ResponseWriter, _ *http.Request, l *Leading) {
	writeJSON(w, l.Defaults)
}

// heldTasks are the leader's handles on the tasks of other nodes'
// callers, by task SID.
type heldTasks struct {
	mu sync.Mutex
	m  map[string]*heldTask
}

// heldTask is one of them. Its assignment is kept until the asking node
// says (seen) it got it, so an answer lost on the way is sent again.
type heldTask struct {
	ct   *taskrouter.ContactTask
	mu   sync.Mutex // one poll at a time
	last *taskrouter.Assignment
}

func (h *heldTasks) put(ct *taskrouter.ContactTask) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[ct.SID] = &heldTask{ct: ct}
}

// putIfAbsent holds ct unless its task is held already, and returns
// what is held.
func (h *heldTasks) putIfAbsent(ct *taskrouter.ContactTask) *heldTask {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.m[ct.SID]; t != nil {
		return t
	}
	t := &heldTask{ct: ct}
	h.m[ct.SID] = t
	return t
}

func (h *heldTasks) get(sid string) *heldTask {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[sid]
}

func (h *heldTasks) drop(sid string) *heldTask {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.m[sid]
	delete(h.m, sid)
	return t
}

// sweep forgets the tasks that are over (the node following one may
// have died without cancelling it).
func (h *heldTasks) sweep(r *taskrouter.Router) {
	h.mu.Lock()
	held := make([]*heldTask, 0, len(h.m))
	for _, t := range h.m {
		held = append(held, t)
	}
	h.mu.Unlock()
	for _, t := range held {
		tv, err := r.Task(t.ct.WorkspaceSID, t.ct.SID)
		if err != nil || tv.AssignmentStatus == taskrouter.TaskCanceled || tv.AssignmentStatus == taskrouter.TaskCompleted {
			h.drop(t.ct.SID)
		}
	}
}

// size is how many tasks are held.
func (h *heldTasks) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}

// wait answers one poll: the assignment the asker has not seen, the
// task's end, or nothing when ctx ends first; ok is false when the asker
// is gone.
func (t *heldTask) wait(ctx context.Context, seen string) (waitAnswer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last != nil && t.last.ReservationSID != seen {
		return waitAnswer{Assignment: t.last}, true
	}
	a, err := t.ct.Wait(ctx)
	for err == nil && a.ReservationSID == seen && seen != "" {
		a, err = t.ct.Wait(ctx) // an adopted task's assignment the asker had already
	}
	switch {
	case err == nil:
		t.last = &a
		return waitAnswer{Assignment: &a}, true
	case errors.Is(err, taskrouter.ErrTaskEnded):
		return waitAnswer{Ended: strings.TrimPrefix(err.Error(), taskrouter.ErrTaskEnded.Error()+": ")}, true
	}
	return waitAnswer{}, ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// remoteContact follows, from another node, a task the leader holds.
type remoteContact struct {
	n    *Node
	sid  string
	ws   string
	seen string // the reservation last delivered; Wait's goroutine only
}

// Wait implements taskrouter.RemoteContact.
func (c *remoteContact) Wait(ctx context.Context) (taskrouter.Assignment, error) {
	for {
		pctx, cancel := context.WithTimeout(ctx, pollWait+10*time.Second)
		var ans waitAnswer
		err := c.n.call(pctx, http.MethodPost, "tasks/"+c.sid+"/wait?ws="+c.ws+"&seen="+c.seen, nil, &ans)
		cancel()
		switch {
		case ctx.Err() != nil:
			return taskrouter.Assignment{}, ctx.Err()
		case errors.Is(err, errUnknown):
			// The task is over (or a new leader ended it: the grace for
			// adopting it passed).
			return taskrouter.Assignment{}, fmt.Errorf("%w: the cluster's TaskRouter leader no longer has it", taskrouter.ErrTaskEnded)
		case err != nil:
			c.n.log.Warn("clusterstate: following a task on the leader", "task_sid", c.sid, "error", err)
			select {
			case <-ctx.Done():
				return taskrouter.Assignment{}, ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		case ans.Assignment != nil:
			c.seen = ans.Assignment.ReservationSID
			return *ans.Assignment, nil
		case ans.Ended != "":
			return taskrouter.Assignment{}, fmt.Errorf("%w: %s", taskrouter.ErrTaskEnded, ans.Ended)
		}
	}
}

// Cancel implements taskrouter.RemoteContact.
func (c *remoteContact) Cancel(reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.n.call(ctx, http.MethodPost, "tasks/"+c.sid+"/cancel?ws="+c.ws, reasonBody{reason}, nil); err != nil {
		c.n.log.Warn("clusterstate: cancelling a task on the leader", "task_sid", c.sid, "error", err)
	}
}

// Requeue implements taskrouter.RemoteContact.
func (c *remoteContact) Requeue(reason string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.n.call(ctx, http.MethodPost, "tasks/"+c.sid+"/requeue?ws="+c.ws, reasonBody{reason}, nil)
}

var _ taskrouter.RemoteContact = (*remoteContact)(nil)
