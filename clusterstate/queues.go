package clusterstate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/voxgate/voxgate/taskrouter"
)

// Classic named queues in a cluster: a caller's <Enqueue>name is a task
// of the default workspace with the attributes queue (the name) and
// queue_sid (the queue's QU… SID), routed by the leader like any other;
// the queue's members are those tasks still waiting for an agent.

// QueueMember is a caller waiting in a named queue, anywhere in the
// cluster.
type QueueMember struct {
	CallSID  string        `json:"call_sid"`
	TaskSID  string        `json:"task_sid"`
	Enqueued time.Time     `json:"enqueued"`
	Wait     time.Duration `json:"wait"`
}

// QueueMembers lists the callers waiting in the named queue queueSID on
// every node (tasks pending or reserved), the longest waiting first: the
// leader's own view, or asked of it.
func (n *Node) QueueMembers(ctx context.Context, queueSID string) ([]QueueMember, error) {
	if l := n.leading.Load(); l != nil {
		return queueMembers(l, queueSID)
	}
	var out []QueueMember
	err := n.call(ctx, http.MethodGet, "queues/"+url.PathEscape(queueSID)+"/members", nil, &out)
	return out, err
}

func queueMembers(l *Leading, queueSID string) ([]QueueMember, error) {
	tasks, err := l.Router.Tasks(l.Defaults.WorkspaceSID, taskrouter.TaskFilter{
		AssignmentStatus: []string{taskrouter.TaskPending, taskrouter.TaskReserved},
		Evaluate:         "queue_sid == " + quoteExpr(queueSID),
	})
	if err != nil {
		return nil, err
	}
	out := make([]QueueMember, 0, len(tasks))
	for _, t := range tasks {
		var attrs struct {
			CallSID string `json:"call_sid"`
		}
		_ = json.Unmarshal([]byte(t.Attributes), &attrs)
		out = append(out, QueueMember{CallSID: attrs.CallSID, TaskSID: t.SID, Enqueued: t.Created, Wait: time.Duration(t.Age) * time.Second})
	}
	return out, nil
}

func (n *Node) serveQueueMembers(w http.ResponseWriter, r *http.Request, l *Leading) {
	m, err := queueMembers(l, r.PathValue("sid"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, m)
}

// quoteExpr makes a string constant of TaskRouter's expression language.
func quoteExpr(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// Take asks for a waiting caller of a named queue: the front one, or the
// one of CallSID; it is dialled to the SIP URI To, or redirected to the
// TwiML at URL (fetched with POST).
type Take struct {
	CallSID string `json:"call_sid,omitempty"`
	To      string `json:"to,omitempty"`
	URL     string `json:"url,omitempty"`
	// With To: the <Dial><Queue url> document run on the caller first,
	// and the dequeuing call's SID.
	AnnounceURL    string `json:"announce_url,omitempty"`
	AnnounceMethod string `json:"announce_method,omitempty"`
	DequeuerSID    string `json:"dequeuer_sid,omitempty"`
}

// TakeQueueMember hands a caller waiting in the named queue queueSID (a
// pending task, on any node) to a taker: the caller's node dials take.To
// and bridges the caller there, or runs take.URL on the call. ok is false
// when nobody (or not that caller) waits.
func (n *Node) TakeQueueMember(ctx context.Context, queueSID string, take Take) (QueueMember, bool, error) {
	var m QueueMember
	if l := n.leading.Load(); l != nil {
		var err error
		m, err = takeMember(l, queueSID, take)
		return m, err == nil && m.TaskSID != "", err
	}
	err := n.call(ctx, http.MethodPost, "queues/"+url.PathEscape(queueSID)+"/take", take, &m)
	return m, err == nil && m.TaskSID != "", err
}

func takeMember(l *Leading, queueSID string, take Take) (QueueMember, error) {
	tasks, err := l.Router.Tasks(l.Defaults.WorkspaceSID, taskrouter.TaskFilter{
		AssignmentStatus: []string{taskrouter.TaskPending},
		Evaluate:         "queue_sid == " + quoteExpr(queueSID),
	})
	if err != nil {
		return QueueMember{}, err
	}
	inst := taskrouter.Assignment{Instruction: "dequeue", To: take.To, AnnounceURL: take.AnnounceURL,
		AnnounceMethod: take.AnnounceMethod, DequeuerSID: take.DequeuerSID}
	if take.URL != "" {
		inst = taskrouter.Assignment{Instruction: "redirect", URL: take.URL}
	}
	for _, t := range tasks {
		var attrs struct {
			CallSID string `json:"call_sid"`
		}
		_ = json.Unmarshal([]byte(t.Attributes), &attrs)
		if take.CallSID != "" && attrs.CallSID != take.CallSID {
			continue
		}
		if _, err := l.Router.TakeContactTask(t.WorkspaceSID, t.SID, inst); err != nil {
			continue // not a live contact's, or taken meanwhile
		}
		return QueueMember{CallSID: attrs.CallSID, TaskSID: t.SID, Enqueued: t.Created, Wait: time.Duration(t.Age) * time.Second}, nil
	}
	return QueueMember{}, nil
}

func (n *Node) serveQueueTake(w http.ResponseWriter, r *http.Request, l *Leading) {
	var req Take
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || (req.To == "") == (req.URL == "") {
		writeProblem(w, http.StatusBadRequest, "bad take request")
		return
	}
	m, err := takeMember(l, r.PathValue("sid"), req)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, m)
}
