package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/clusterstate"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
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
// agents, any other to everyone) and the queue's SID and size in the
// shared store.
func (q clusterQueues) QueueTask(name string) (ivr.QueueTaskInfo, error) {
	w := q.w
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, err := w.Defaults(ctx)
	if err != nil {
		return ivr.QueueTaskInfo{}, err
	}
	qsid, max, err := w.resolveQueue(name)
	if err != nil {
		return ivr.QueueTaskInfo{}, fmt.Errorf("cluster: queue %q: %w", name, err)
	}
	return ivr.QueueTaskInfo{WorkflowSID: ids.WorkflowSID, QueueSID: qsid, MaxSize: max}, nil
}

// QueueStats implements ivr.QueueTasks from the queue's members on the
// leader.
func (q clusterQueues) QueueStats(queueSID, taskSID string) (ivr.QueueStats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, err := q.w.QueueMembers(ctx, queueSID)
	if err != nil {
		return ivr.QueueStats{}, err
	}
	st := ivr.QueueStats{Size: len(ms)}
	var sum time.Duration
	for i, m := range ms {
		sum += m.Wait
		if m.TaskSID == taskSID {
			st.Position = i + 1
		}
	}
	if len(ms) > 0 {
		st.AvgWait = sum / time.Duration(len(ms))
	}
	return st, nil
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

// Dequeue redirects a waiting caller of the cluster (callSID, or the
// front one for api.FrontMember) to url: the caller's node runs it on
// the call (fetched with POST, whatever method).
func (c clusterQueueControl) Dequeue(ctx context.Context, queueSID, callSID, url, method string) (api.Member, error) {
	if m, err := c.local.Dequeue(ctx, queueSID, callSID, url, method); err == nil {
		return m, nil
	}
	take := clusterstate.Take{URL: url}
	if callSID != api.FrontMember {
		take.CallSID = callSID
	}
	m, ok, err := c.w.TakeQueueMember(ctx, queueSID, take)
	if err != nil {
		return api.Member{}, err
	}
	if !ok {
		return api.Member{}, api.ErrNoMember
	}
	return api.Member{CallSID: m.CallSID, DateEnqueued: m.Enqueued, Position: 1, WaitTime: m.Wait}, nil
}

// ivrQueues is the call engine's ivr.Queues: the node's queue manager,
// whose TakeFront (<Dial><Queue>) in a cluster with the cluster's named
// queues takes the front caller from the leader, wherever it waits.
func (w *clusterWiring) ivrQueues(m *queue.Manager) ivr.Queues {
	if w == nil || !w.namedQueues {
		return m
	}
	return clusterIVRQueues{Manager: m, w: w}
}

type clusterIVRQueues struct {
	*queue.Manager
	w *clusterWiring
}

// pickupPrefix begins the SIP user part at which a caller's node reaches
// a <Dial><Queue> on another node; a random token follows.
const pickupPrefix = "vxq-"

// pickupWait bounds the wait for the taken caller's node to call in.
const pickupWait = 30 * time.Second

// TakeFront takes the queue's front caller from the leader: the caller's
// node dials this node at sip:vxq-<token>@… and the leg is bridged to
// leg, the <Dial><Queue>'s (released when the bridge ends, or when the
// caller's node does not call within pickupWait).
func (q clusterIVRQueues) TakeFront(name, dequeuerSID string, leg media.Leg) (queue.MemberInfo, error) {
	w := q.w
	qsid, _, err := w.resolveQueue(name)
	if err != nil {
		return queue.MemberInfo{}, fmt.Errorf("cluster: queue %q: %w", name, err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := pickupPrefix + hex.EncodeToString(b[:])
	p := &pickup{leg: leg, taken: make(chan struct{})}
	w.pickups.Store(token, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	take := clusterstate.Take{To: w.sipURI(token), DequeuerSID: dequeuerSID}
	if ann, ok := leg.(interface{ Announcement() (string, string) }); ok {
		take.AnnounceURL, take.AnnounceMethod = ann.Announcement() // <Queue url>: run on the caller by its node
	}
	m, ok, err := w.TakeQueueMember(ctx, qsid, take)
	if err != nil || !ok {
		w.pickups.Delete(token)
		if err != nil {
			return queue.MemberInfo{}, fmt.Errorf("cluster: queue %q: take front: %w", name, err)
		}
		return queue.MemberInfo{}, fmt.Errorf("cluster: queue %q: %w", name, queue.ErrNoCaller)
	}
	w.log.Info("cluster: <Dial><Queue> took a caller", "queue", name, "member_sid", m.CallSID, "task_sid", m.TaskSID, "dequeuer_sid", dequeuerSID)
	go func() { // the caller's node does not call in: the dequeuer goes on
		t := time.NewTimer(pickupWait)
		defer t.Stop()
		select {
		case <-p.taken:
		case <-t.C:
			if _, loaded := w.pickups.LoadAndDelete(token); loaded {
				w.log.Warn("cluster: the taken caller's node did not call in", "member_sid", m.CallSID)
				release(leg)
			}
		}
	}()
	return queue.MemberInfo{CallSID: m.CallSID, QueueSID: qsid, Position: 1, Enqueued: m.Enqueued, Wait: m.Wait}, nil
}

// pickup is a <Dial><Queue>'s leg waiting for the taken caller's leg.
type pickup struct {
	leg   media.Leg
	taken chan struct{} // closed when the caller's leg arrives
}

// release ends a dequeuer's lending of its leg.
func release(leg media.Leg) {
	if r, ok := leg.(interface{ Release() }); ok {
		r.Release()
	}
}

// pickupLeg serves the leg of a caller taken by a <Dial><Queue> here: it
// reports whether call was one (To sip:vxq-<token>).
func (w *clusterWiring) pickupLeg(ctx context.Context, call *sip.InboundCall) bool {
	token := call.To()
	if !strings.HasPrefix(token, pickupPrefix) {
		return false
	}
	v, ok := w.pickups.LoadAndDelete(token)
	log := call.Logger()
	if !ok {
		log.Warn("cluster: a queue pickup leg for nobody", "source", call.Source().String())
		call.Refuse(404, "Not Found")
		return true
	}
	p := v.(*pickup)
	close(p.taken)
	if err := call.Answer(ctx); err != nil {
		log.Warn("cluster: answering a queue pickup leg", "error", err)
		release(p.leg)
		return true
	}
	log.Info("cluster: a taken queue caller bridged to its <Dial><Queue> here")
	res, err := media.Bridge(ctx, call.Leg(), p.leg, nil)
	if err != nil {
		log.Warn("cluster: queue pickup bridge", "error", err)
	}
	release(p.leg)
	_ = call.Hangup(context.Background())
	log.Info("cluster: queue pickup ended", "ended_by", res.Ended, "duration", res.Duration.Round(time.Second).String())
	return true
}
