package main

import (
	"context"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/queue"
)

// Classic named queues in a cluster (storage.driver: postgres): a
// caller's <Enqueue>name becomes a task of the default TaskRouter
// workspace (attributes queue and queue_sid), so the leader routes it to
// an agent of the queue on any node and the caller's node rings the agent
// where the agent's desktop is (an internal SIP leg when elsewhere). The
// REST Queues and Members of every node show the cluster's waiting
// callers, read from the leader.

// queueTasks is the call engine's ivr.QueueTasks in a cluster whose named
// queues are the cluster's (cluster.named_queues), else nil.
func (w *clusterWiring) queueTasks() any {
	if w == nil || !w.namedQueues {
		return nil
	}
	return clusterQueues{w}
}

// clusterQueues carries named queues as TaskRouter tasks.
type clusterQueues struct{ w *clusterWiring }

// QueueTask implements ivr.QueueTasks: the default workflow (which sends
// a task whose queue attribute names a configured queue to that queue's
// agents, any other to everyone) and the queue's SID in the shared store.
func (q clusterQueues) QueueTask(name string) (string, string, error) {
	w := q.w
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, err := w.Defaults(ctx)
	if err != nil {
		return "", "", err
	}
	qsid, _, err := w.resolveQueue(name)
	if err != nil {
		return "", "", fmt.Errorf("cluster: queue %q: %w", name, err)
	}
	return ids.WorkflowSID, qsid, nil
}

// queueControl is the REST API's live side of queues: this node's queue
// manager on one node, the cluster's waiting callers in a cluster.
func (g *gateway) queueControl(queues *queue.Manager) api.QueueControl {
	if g.cluster == nil || !g.cluster.namedQueues {
		return queueControl{queues}
	}
	return clusterQueueControl{local: queueControl{queues}, w: g.cluster}
}

// clusterQueueControl reads a queue's members from the leader's
// TaskRouter; a REST dequeue reaches only the callers queued on this
// node's own manager (none while every named queue is carried by tasks).
type clusterQueueControl struct {
	local queueControl
	w     *clusterWiring
}

func (c clusterQueueControl) Size(queueSID string) (int, time.Duration) {
	m := c.Members(queueSID)
	if len(m) == 0 {
		return 0, 0
	}
	var sum time.Duration
	for _, x := range m {
		sum += x.WaitTime
	}
	return len(m), sum / time.Duration(len(m))
}

func (c clusterQueueControl) Members(queueSID string) []api.Member {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := c.w.QueueMembers(ctx, queueSID)
	if err != nil {
		c.w.log.Warn("cluster: a queue's members from the leader", "queue_sid", queueSID, "error", err)
		return c.local.Members(queueSID)
	}
	out := c.local.Members(queueSID)
	for _, m := range ms {
		out = append(out, api.Member{CallSID: m.CallSID, DateEnqueued: m.Enqueued, Position: len(out) + 1, WaitTime: m.Wait})
	}
	return out
}

func (c clusterQueueControl) Dequeue(ctx context.Context, queueSID, callSID, url, method string) (api.Member, error) {
	return c.local.Dequeue(ctx, queueSID, callSID, url, method)
}
