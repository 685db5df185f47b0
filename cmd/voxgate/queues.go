package main

import (
	"context"
	"errors"
	"time"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/store"
)

// queueResolver backs queue names with the store: a queue is created on
// first use, as Twilio does.
func queueResolver(db store.Store, accountSID string) func(name string) (string, int, error) {
	return func(name string) (string, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q, err := db.GetQueueByName(ctx, accountSID, name)
		if errors.Is(err, store.ErrNotFound) {
			q, err = db.CreateQueue(ctx, store.Queue{AccountSID: accountSID, FriendlyName: name})
			if errors.Is(err, store.ErrDuplicate) { // created meanwhile
				q, err = db.GetQueueByName(ctx, accountSID, name)
			}
		}
		if err != nil {
			return "", 0, err
		}
		return q.SID, q.MaxSize, nil
	}
}

// queueControl gives the REST API the live side of queues.
type queueControl struct{ m *queue.Manager }

// Size implements api.QueueControl.
func (c queueControl) Size(queueSID string) (int, time.Duration) {
	q, ok := c.m.QueueBySID(queueSID)
	if !ok {
		return 0, 0
	}
	return q.Size, q.AverageWait
}

// Members implements api.QueueControl.
func (c queueControl) Members(queueSID string) []api.Member {
	var out []api.Member
	for _, m := range c.m.Members(queueSID) {
		out = append(out, api.Member{CallSID: m.CallSID, DateEnqueued: m.Enqueued, Position: m.Position, WaitTime: m.Wait})
	}
	return out
}

// Dequeue implements api.QueueControl.
func (c queueControl) Dequeue(ctx context.Context, queueSID, callSID, url, method string) (api.Member, error) {
	m, err := c.m.Redirect(queueSID, callSID, url, method)
	if errors.Is(err, queue.ErrNoCaller) {
		return api.Member{}, api.ErrNoMember
	}
	if err != nil {
		return api.Member{}, err
	}
	return api.Member{CallSID: m.CallSID, DateEnqueued: m.Enqueued, Position: m.Position, WaitTime: m.Wait}, nil
}

// ringAgent rings a signed-in browser agent (<Dial><Client>) and returns
// the agent's leg once they accept.
func ringAgent(ctx context.Context, m *queue.Manager, req ivr.DialRequest) (ivr.Call, error) {
	agentID := req.To[len("client:"):]
	var attrs map[string]any
	if task := req.Headers[ivr.TaskHeader]; task != "" { // a TaskRouter task's call: the desktop answers it
		attrs = map[string]any{ivr.TaskHeader: task}
	}
	entry, err := m.Ring(agentID, queue.Caller{CallSID: req.CallSID, From: req.From, To: req.To, Attributes: attrs})
	if errors.Is(err, queue.ErrNoAgent) {
		return nil, &ivr.DialFailure{Status: "failed", Reason: "agent " + agentID + " is not signed in"}
	}
	if err != nil {
		return nil, &ivr.DialFailure{Status: "failed", Reason: err.Error()}
	}
	if req.OnRinging != nil {
		req.OnRinging(false)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case out := <-entry.Outcome():
		if out.Kind != queue.Bridged {
			return nil, &ivr.DialFailure{Status: "no-answer", Reason: "the agent did not accept"}
		}
		return &agentCall{leg: out.Leg, entry: entry}, nil
	case <-timer.C:
		entry.Leave()
		return nil, &ivr.DialFailure{Status: "no-answer"}
	case <-ctx.Done():
		entry.Leave()
		return nil, &ivr.DialFailure{Status: "canceled"}
	}
}

// agentCall is an answered browser agent, as a call the engine can bridge.
type agentCall struct {
	leg   media.Leg
	entry *queue.Entry
}

func (c *agentCall) Leg() media.Leg                     { return c.leg }
func (c *agentCall) Ringing() error                     { return nil }
func (c *agentCall) Answer(context.Context) error       { return nil }
func (c *agentCall) Reject(context.Context, bool) error { return nil }
func (c *agentCall) Done() <-chan struct{}              { return c.leg.Done() }
func (c *agentCall) Hangup(ctx context.Context) error {
	c.entry.Finished()
	return c.leg.Close("hangup")
}
