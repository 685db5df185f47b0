package main

import (
	"context"
	"errors"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/ivr"
)

// The agent desktop's calls: a voice task's call is a conference room
// (ivr.AgentRooms, a service of the engine beside the conference
// manager) that the desktop drives through desk.Calls.

// agentCalls fits *ivr.AgentRooms to desk.Calls.
type agentCalls struct{ rooms *ivr.AgentRooms }

func (a agentCalls) Call(taskSID string) (desk.Call, bool) {
	r, ok := a.rooms.Room(taskSID)
	if !ok {
		return nil, false
	}
	return agentRoomCall{r}, true
}

func (a agentCalls) List() []desk.LiveCall {
	var out []desk.LiveCall
	for _, c := range a.rooms.List() {
		out = append(out, liveCall(c))
	}
	return out
}

func (a agentCalls) Changed() <-chan struct{} { return a.rooms.Changed() }

// agentRoomCall fits *ivr.AgentRoom to desk.Call.
type agentRoomCall struct{ r *ivr.AgentRoom }

func (c agentRoomCall) Info() desk.LiveCall { return liveCall(c.r.Info()) }

func (c agentRoomCall) Add(p desk.AddParty) error {
	_, err := c.r.Add(ivr.PartyRequest{To: p.To, Label: p.Label, Role: p.Role, Muted: p.Muted, Coach: p.Coach,
		HoldCaller: p.HoldCaller, Replaces: p.Replaces})
	if errors.Is(err, ivr.ErrPartyExists) {
		return errors.New("already on the call (or being rung)")
	}
	return err
}

func (c agentRoomCall) Update(ctx context.Context, label string, u desk.PartyUpdate) error {
	return c.r.Update(ctx, label, ivr.PartyUpdate{Muted: u.Muted, Hold: u.Hold, Coach: u.Coach})
}

func (c agentRoomCall) Remove(label string) error { return c.r.Remove(label) }

func (c agentRoomCall) TransferToQueue(queue, from string) error {
	_, err := c.r.TransferToQueue(queue, from)
	return err
}

func liveCall(c ivr.AgentCall) desk.LiveCall {
	out := desk.LiveCall{TaskSID: c.TaskSID, ConferenceSID: c.ConferenceSID, CallSID: c.CallSID, From: c.From, To: c.To,
		Started: c.Started, Transferring: c.Transferring, Parties: make([]desk.Party, 0, len(c.Parties))}
	for _, p := range c.Parties {
		out.Parties = append(out.Parties, desk.Party{Label: p.Label, Role: p.Role, CallSID: p.CallSID, To: p.To, TaskSID: p.TaskSID,
			Muted: p.Muted, Hold: p.Hold, Coaching: p.Coaching, CoachLabel: p.CoachLabel})
	}
	return out
}

// supervisorIDs are the agents configured with supervisor: true.
func supervisorIDs(agents []config.Agent) []string {
	var out []string
	for _, a := range agents {
		if a.Supervisor {
			out = append(out, a.ID)
		}
	}
	return out
}
