package clusterstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/taskrouter"
)

// The messages of a web chat or SMS conversation live in the memory of
// the node the visitor or the SMS reached (its conversation.Store). The
// task of such a conversation records that node in its attributes
// (FactNode, FactNodeURL); an agent's desktop on any other node reads the
// conversation from there (a long poll per conversation on view) and sends
// the agent's replies, and the joined and left notes, there.

// Attributes a node adds to the task of a conversation it holds.
const (
	FactNode    = "voxgate_node"     // the node's cluster.node_id
	FactNodeURL = "voxgate_node_url" // its internal URL
)

// remoteIdle is how long a conversation of another node is followed
// after a desktop last showed it.
const remoteIdle = 2 * time.Minute

// maxRemote bounds the other nodes' conversations a node follows.
const maxRemote = 1000

// withNodeFacts adds this node to the facts of a conversation's task.
func (n *Node) withNodeFacts(p taskrouter.ContactParams) taskrouter.ContactParams {
	if p.CallSID != "" || p.Channel == "" || p.Channel == "voice" || n.opts.Conversations == nil {
		return p
	}
	facts := make(map[string]any, len(p.Facts)+2)
	for k, v := range p.Facts {
		facts[k] = v
	}
	facts[FactNode], facts[FactNodeURL] = n.opts.NodeID, n.opts.InternalURL
	p.Facts = facts
	return p
}

// convAnswer is a node's answer about one of its conversations.
type convAnswer struct {
	Conversation conversation.Conversation `json:"conversation"`
}

// convDo is an action on a conversation another node holds.
type convDo struct {
	Action string `json:"action"` // post, reply, close
	Author string `json:"author,omitempty"`
	Body   string `json:"body,omitempty"`
}

type convMessage struct {
	Message conversation.Message `json:"message"`
}

// version counts a conversation's changes as the nodes compare them.
func version(c conversation.Conversation) int {
	v := 2 * len(c.Messages)
	if c.Closed {
		v++
	}
	return v
}

// serveConversation answers with this node's conversation of a task, at
// once when it differs from the version the asker has (known), else when
// it changes or after pollWait.
func (n *Node) serveConversation(w http.ResponseWriter, r *http.Request) {
	local := n.opts.Conversations
	if local == nil {
		writeProblem(w, http.StatusNotFound, "no conversations here")
		return
	}
	c, ok := local.ByTask(r.PathValue("task"))
	if !ok {
		writeProblem(w, http.StatusNotFound, "no such conversation here")
		return
	}
	known, err := strconv.Atoi(r.URL.Query().Get("known"))
	if err == nil && known == version(c) && !c.Closed {
		ctx, cancel := context.WithTimeout(r.Context(), pollWait)
		_, _ = local.MessagesAfter(ctx, c.SID, len(c.Messages))
		cancel()
		if c, ok = local.ByTask(r.PathValue("task")); !ok {
			writeProblem(w, http.StatusNotFound, "no such conversation here")
			return
		}
	}
	writeJSON(w, convAnswer{Conversation: c})
}

// serveConversationDo carries out another node's action on a
// conversation held here.
func (n *Node) serveConversationDo(w http.ResponseWriter, r *http.Request) {
	local := n.opts.Conversations
	var c conversation.Conversation
	ok := false
	if local != nil {
		c, ok = local.ByTask(r.PathValue("task"))
	}
	if !ok {
		writeProblem(w, http.StatusNotFound, "no such conversation here")
		return
	}
	var req convDo
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, "bad action: "+err.Error())
		return
	}
	var (
		m   conversation.Message
		err error
	)
	switch req.Action {
	case "post":
		m, err = local.Post(c.SID, req.Author, req.Body)
	case "reply":
		m, err = local.Reply(r.Context(), c.SID, req.Author, req.Body)
	case "close":
		local.Close(c.SID, req.Body)
	default:
		err = fmt.Errorf("unknown action %q", req.Action)
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, convMessage{Message: m})
}

// Conversations is the cluster's view of conversations: this node's own,
// and those of the other nodes whose tasks an agent's desktop here
// shows. It implements desk.Conversations; Node.Close ends it.
type Conversations struct {
	n     *Node
	local *conversation.Store

	mu      sync.Mutex
	remote  map[string]*remoteConv // by task SID
	bySID   map[string]string      // remote conversation SID → task SID
	changed chan struct{}          // closed and replaced at each change
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  bool
}

// remoteConv is another node's conversation, as last read.
type remoteConv struct {
	task, url string
	conv      conversation.Conversation
	have      bool
	asked     time.Time // when a desktop last showed it
	following bool      // a goroutine long-polls it
}

func newConversations(n *Node, local *conversation.Store) *Conversations {
	c := &Conversations{n: n, local: local, remote: map[string]*remoteConv{}, bySID: map[string]string{},
		changed: make(chan struct{}), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.forwardLocal()
	return c
}

// forwardLocal passes this node's conversation changes on.
func (c *Conversations) forwardLocal() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.local.Changed():
			c.notify()
		}
	}
}

func (c *Conversations) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.changed)
	c.changed = make(chan struct{})
}

// Changed implements desk.Conversations.
func (c *Conversations) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// close stops following the other nodes' conversations.
func (c *Conversations) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
}

// ByTask implements desk.Conversations: this node's conversation of the
// task, or the one the node named in the task's attributes holds.
func (c *Conversations) ByTask(taskSID string, attrs map[string]any) (conversation.Conversation, bool) {
	if conv, ok := c.local.ByTask(taskSID); ok {
		return conv, true
	}
	c.mu.Lock()
	rc := c.remote[taskSID]
	if rc == nil {
		owner, _ := attrs[FactNodeURL].(string)
		if c.closed || owner == "" || owner == c.n.opts.InternalURL {
			c.mu.Unlock()
			return conversation.Conversation{}, false
		}
		c.pruneLocked()
		rc = &remoteConv{task: taskSID, url: owner}
		c.remote[taskSID] = rc
	}
	rc.asked = time.Now()
	have, conv := rc.have, rc.conv
	c.mu.Unlock()
	if !have {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		got, err := c.fetch(ctx, rc, -1)
		cancel()
		if err != nil {
			c.n.log.Info("clusterstate: reading a conversation another node holds", "task_sid", taskSID, "node_url", rc.url, "error", err)
			return conversation.Conversation{}, false
		}
		conv = got
		c.store(rc, got)
	}
	c.follow(rc)
	return conv, true
}

// pruneLocked forgets followed conversations beyond maxRemote, closed
// and idle ones first; c.mu held.
func (c *Conversations) pruneLocked() {
	for task, rc := range c.remote {
		if len(c.remote) < maxRemote {
			return
		}
		if !rc.following && time.Since(rc.asked) > remoteIdle {
			delete(c.remote, task)
			delete(c.bySID, rc.conv.SID)
		}
	}
}

// store keeps what was read of rc and tells the desktops.
func (c *Conversations) store(rc *remoteConv, conv conversation.Conversation) {
	c.mu.Lock()
	changed := !rc.have || version(rc.conv) != version(conv)
	rc.conv, rc.have = conv, true
	c.bySID[conv.SID] = rc.task
	c.mu.Unlock()
	if changed {
		c.notify()
	}
}

// follow starts rc's long poll unless it runs or the conversation is over.
func (c *Conversations) follow(rc *remoteConv) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc.following || c.closed || (rc.have && rc.conv.Closed) {
		return
	}
	rc.following = true
	c.wg.Add(1)
	go c.poll(rc)
}

// poll follows one conversation of another node until it is closed,
// unknown there, no desktop showed it for remoteIdle, or the view closes.
func (c *Conversations) poll(rc *remoteConv) {
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() {
		c.mu.Lock()
		rc.following = false
		c.mu.Unlock()
	}()
	for ctx.Err() == nil {
		c.mu.Lock()
		known, idle, over := version(rc.conv), time.Since(rc.asked) > remoteIdle, rc.have && rc.conv.Closed
		if !rc.have {
			known = -1
		}
		c.mu.Unlock()
		if idle || over {
			return
		}
		pctx, pcancel := context.WithTimeout(ctx, pollWait+10*time.Second)
		conv, err := c.fetch(pctx, rc, known)
		pcancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errUnknown):
			c.mu.Lock()
			delete(c.remote, rc.task)
			delete(c.bySID, rc.conv.SID)
			c.mu.Unlock()
			c.notify()
			return
		case err != nil:
			c.n.log.Debug("clusterstate: following a conversation another node holds", "task_sid", rc.task, "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		default:
			c.store(rc, conv)
		}
	}
}

func (c *Conversations) fetch(ctx context.Context, rc *remoteConv, known int) (conversation.Conversation, error) {
	var ans convAnswer
	err := c.n.send(ctx, rc.url, http.MethodGet, "conversations/"+url.PathEscape(rc.task)+"?known="+strconv.Itoa(known), nil, &ans)
	return ans.Conversation, err
}

// owner finds the node holding a conversation this node does not.
func (c *Conversations) owner(convSID string) (*remoteConv, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rc := c.remote[c.bySID[convSID]]
	return rc, rc != nil
}

func (c *Conversations) do(ctx context.Context, rc *remoteConv, req convDo) (conversation.Message, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return conversation.Message{}, err
	}
	var ans convMessage
	if err := c.n.send(ctx, rc.url, http.MethodPost, "conversations/"+url.PathEscape(rc.task)+"/do", body, &ans); err != nil {
		return conversation.Message{}, fmt.Errorf("clusterstate: conversation on %s: %w", rc.url, err)
	}
	return ans.Message, nil
}

// Post implements desk.Conversations.
func (c *Conversations) Post(convSID, author, body string) (conversation.Message, error) {
	if _, ok := c.local.Get(convSID); ok {
		return c.local.Post(convSID, author, body)
	}
	rc, ok := c.owner(convSID)
	if !ok {
		return conversation.Message{}, conversation.ErrNoConversation
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.do(ctx, rc, convDo{Action: "post", Author: author, Body: body})
}

// Reply implements desk.Conversations.
func (c *Conversations) Reply(ctx context.Context, convSID, author, body string) (conversation.Message, error) {
	if _, ok := c.local.Get(convSID); ok {
		return c.local.Reply(ctx, convSID, author, body)
	}
	rc, ok := c.owner(convSID)
	if !ok {
		return conversation.Message{}, conversation.ErrNoConversation
	}
	return c.do(ctx, rc, convDo{Action: "reply", Author: author, Body: body})
}

// Close implements desk.Conversations.
func (c *Conversations) Close(convSID, note string) {
	if _, ok := c.local.Get(convSID); ok {
		c.local.Close(convSID, note)
		return
	}
	rc, ok := c.owner(convSID)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.do(ctx, rc, convDo{Action: "close", Body: note}); err != nil {
		c.n.log.Warn("clusterstate: closing a conversation another node holds", "conversation_sid", convSID, "error", err)
	}
}

var _ desk.Conversations = (*Conversations)(nil)
