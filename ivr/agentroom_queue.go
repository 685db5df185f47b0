package ivr

import (
	"context"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sid"
)

// A caller of a plain <Enqueue>name</Enqueue> taken by a browser agent is
// put in a conference room with the agent too, named after the caller's
// CallSid, so the desktop's hold, mute, consult, transfer to an agent or
// a number and the supervisor's controls work on it as on a TaskRouter
// call (transfers to queues need a workflow: they are refused). So is a
// caller taken by a <Dial><Queue> call: the dequeuer is the room's agent,
// labelled by its From (client:alice: "alice", so a browser agent dialling
// the queue has the desktop's controls); when it leaves, its call goes on
// after its <Dial>.

// agentRoom runs a plain queue's bridge to a browser agent as a room.
func (v *enqueueVerb) agentRoom(s *session, rooms *AgentRooms, mgr *conference.Manager, out queue.Outcome, waited time.Duration) (next, error) {
	c := &queueAgentCall{leg: out.Leg, entry: v.entry}
	first := &party{Party: Party{Label: out.AgentID, CallSID: sid.New(sid.Call), Role: RoleAgent, To: "client:" + out.AgentID}}
	err := runRoom(s, rooms, mgr, s.info.SID, nil, nil, v.log.With("agent", out.AgentID), first, c)
	v.entry.Finished()
	if err != nil {
		return v.done(s, "system-error", waited)
	}
	return v.done(s, "bridged", waited)
}

// dequeuerRoom runs a <Dial><Queue> bridge as a room: the dequeuing
// call's leg is lent to the room until the room is over for it.
func (v *enqueueVerb) dequeuerRoom(s *session, rooms *AgentRooms, mgr *conference.Manager, out queue.Outcome, waited time.Duration) (next, error) {
	from := ""
	if d, ok := out.Leg.(interface{ Dequeuer() string }); ok {
		from = d.Dequeuer()
	}
	label := partyLabel("", from)
	if label == "" || label == CustomerLabel {
		label = "dequeuer"
	}
	first := &party{Party: Party{Label: label, CallSID: out.DequeuerSID, Role: RoleAgent, To: from}}
	err := runRoom(s, rooms, mgr, s.info.SID, nil, nil, v.log.With("dequeuer_sid", out.DequeuerSID), first, &dequeuerCall{leg: out.Leg})
	v.entry.Finished()
	if err != nil {
		return v.done(s, "system-error", waited)
	}
	return v.done(s, "bridged", waited)
}

// dequeuerCall is a <Dial><Queue> call's lent leg as a Call of the room:
// hanging it up gives the leg back (the dequeuer's <Dial> ends; its call
// goes on).
type dequeuerCall struct{ leg media.Leg }

func (c *dequeuerCall) Leg() media.Leg                     { return c.leg }
func (c *dequeuerCall) Ringing() error                     { return nil }
func (c *dequeuerCall) Answer(context.Context) error       { return nil }
func (c *dequeuerCall) Reject(context.Context, bool) error { return nil }
func (c *dequeuerCall) Done() <-chan struct{}              { return c.leg.Done() }
func (c *dequeuerCall) Hangup(context.Context) error {
	if rel, ok := c.leg.(interface{ Release() }); ok {
		rel.Release()
	}
	return nil
}

// queueAgentCall is a queue's browser agent leg as a Call of the room:
// hanging it up ends the agent's part (the queue's wrap-up starts) and
// closes the leg.
type queueAgentCall struct {
	leg   media.Leg
	entry *queue.Entry
}

func (c *queueAgentCall) Leg() media.Leg                     { return c.leg }
func (c *queueAgentCall) Ringing() error                     { return nil }
func (c *queueAgentCall) Answer(context.Context) error       { return nil }
func (c *queueAgentCall) Reject(context.Context, bool) error { return nil }
func (c *queueAgentCall) Done() <-chan struct{}              { return c.leg.Done() }
func (c *queueAgentCall) Hangup(context.Context) error {
	c.entry.Finished()
	return c.leg.Close("hangup")
}
