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

// takeRequest asks the leader for a named queue's front caller.
type takeRequest struct {
	To string `json:"to"` // the SIP URI the caller's node dials to reach the taker
}

// TakeQueueFront hands the caller waiting longest in the named queue
// queueSID (a pending task, on any node) to a taker reached at the SIP
// URI to: the caller's node dials it and bridges the caller there. ok is
// false when nobody waits.
func (n *Node) TakeQueueFront(ctx context.Context, queueSID, to string) (QueueMember, bool, error) {
	var m QueueMember
	if l := n.leading.Load(); l != nil {
		var err error
		m, err = takeFront(l, queueSID, to)
		return m, err == nil && m.TaskSID != "", err
	}
	err := n.call(ctx, http.MethodPost, "queues/"+url.PathEscape(queueSID)+"/take", takeRequest{To: to}, &m)
	return m, err == nil && m.TaskSID != "", err
}

func takeFront(l *Leading, queueSID, to string) (QueueMember, error) {
	tasks, err := l.Router.Tasks(l.Defaults.WorkspaceSID, taskrouter.TaskFilter{
		AssignmentStatus: []string{taskrouter.TaskPending},
		Evaluate:         "queue_sid == " + quoteExpr(queueSID),
	})
	if err != nil {
		return QueueMember{}, err
	}
	for _, t := range tasks {
		if _, err := l.Router.TakeContactTask(t.WorkspaceSID, t.SID, taskrouter.Assignment{Instruction: "dequeue", To: to}); err != nil {
			continue // not a live contact's, or taken meanwhile
		}
		var attrs struct {
			CallSID string `json:"call_sid"`
		}
		_ = json.Unmarshal([]byte(t.Attributes), &attrs)
		return QueueMember{CallSID: attrs.CallSID, TaskSID: t.SID, Enqueued: t.Created, Wait: time.Duration(t.Age) * time.Second}, nil
	}
	return QueueMember{}, nil
}

func (n *Node) serveQueueTake(w http.ResponseWriter, r *http.Request, l *Leading) {
	var req takeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.To == "" {
		writeProblem(w, http.StatusBadRequest, "bad take request")
		return
	}
	m, err := takeFront(l, r.PathValue("sid"), req.To)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, m)
}
