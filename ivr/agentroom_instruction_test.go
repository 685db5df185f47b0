package ivr

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/taskrouter"
)

// confEvents collects the status callbacks a conference manager sends.
type confEvents struct {
	mu     sync.Mutex
	events []url.Values
	urls   []string
}

func (c *confEvents) notify(_ context.Context, target, method string, params url.Values) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, params)
	c.urls = append(c.urls, method+" "+target)
}

// wait waits until the events (StatusCallbackEvent, and the participant's
// label, if any) include want, in order.
func (c *confEvents) wait(t *testing.T, want ...string) []url.Values {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		got = got[:0]
		for _, e := range c.events {
			ev := e.Get("StatusCallbackEvent")
			if l := e.Get("ParticipantLabel"); l != "" {
				ev += ":" + l
			}
			got = append(got, ev)
		}
		events := slices.Clone(c.events)
		c.mu.Unlock()
		if slices.Equal(got, want) {
			return events
		}
	}
	t.Fatalf("conference events %v, want %v", got, want)
	return nil
}

// waitSorted is wait with the events from index from to the last but one
// in any order (sorted in want).
func (c *confEvents) waitSorted(t *testing.T, from int, want ...string) []url.Values {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		got = got[:0]
		for _, e := range c.events {
			ev := e.Get("StatusCallbackEvent")
			if l := e.Get("ParticipantLabel"); l != "" {
				ev += ":" + l
			}
			got = append(got, ev)
		}
		events := slices.Clone(c.events)
		c.mu.Unlock()
		if len(got) == len(want) {
			slices.Sort(got[from : len(got)-1])
			if slices.Equal(got, want) {
				return events
			}
		}
	}
	t.Fatalf("conference events %v, want %v", got, want)
	return nil
}

// TestAgentRoomConferenceInstruction: a reservation accepted with the
// conference instruction and room settings: the room sends its status
// callbacks to ConferenceStatusCallback (relative to the call's document)
// for the events asked, and with EndConferenceOnExit the worker's leaving
// ends the room for everyone, a consulted party included; the caller's
// call goes on after its <Enqueue>.
func TestAgentRoomConferenceInstruction(t *testing.T) {
	h, d, r, ws := workflowHarness(t, "client:alice")
	events := &confEvents{}
	mgr := conference.NewManager(conference.Options{Notify: events.notify})
	t.Cleanup(mgr.Close)
	rooms := NewAgentRooms()
	h.eng.cfg.Services = append(h.eng.cfg.Services, mgr, rooms)
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)

	var task taskrouter.TaskView
	for deadline := time.Now().Add(5 * time.Second); task.SID == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if tasks, _ := r.Tasks(ws, taskrouter.TaskFilter{AssignmentStatus: []string{taskrouter.TaskReserved}}); len(tasks) == 1 {
			task = tasks[0]
		}
	}
	if task.SID == "" {
		t.Fatal("no reservation")
	}
	_, err := r.UpdateReservation(ws, task.ReservationSID, taskrouter.ReservationParams{Instruction: taskrouter.Assignment{
		Instruction: "conference",
		Conference: &taskrouter.ConferenceOptions{
			StatusCallback: "/conf-events", StatusCallbackMethod: "POST",
			StatusCallbackEvents: []string{"start", "end", "join", "leave"},
			EndConferenceOnExit:  true, MaxParticipants: 5,
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitRoom(t, rooms, task.SID, "customer", "alice")
	events.wait(t, "participant-join:customer", "conference-start", "participant-join:alice")
	room, _ := rooms.Room(task.SID)
	if _, err := room.Add(PartyRequest{To: "client:bob", Role: RoleAgent}); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, rooms, task.SID, "customer", "alice", "bob")
	events.wait(t, "participant-join:customer", "conference-start", "participant-join:alice", "participant-join:bob")

	d.call("client:alice").leg.Close("alice hung up")
	select {
	case <-d.call("client:bob").leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("alice left with endConferenceOnExit, but bob's leg is still up")
	}
	h.wait(t)
	// alice's leaving ends the room: then the others leave, in either order.
	got := events.waitSorted(t, 5, "participant-join:customer", "conference-start", "participant-join:alice", "participant-join:bob",
		"participant-leave:alice", "participant-leave:bob", "participant-leave:customer", "conference-end")
	var aliceSID string
	d.mu.Lock()
	for _, req := range d.reqs {
		if req.To == "client:alice" {
			aliceSID = req.CallSID
		}
	}
	d.mu.Unlock()
	end := got[len(got)-1]
	if end.Get("CallSidEndingConference") != aliceSID || end.Get("FriendlyName") != task.SID || end.Get("ConferenceSid") == "" {
		t.Errorf("conference-end %v (alice's call %s)", end, aliceSID)
	}
	events.mu.Lock()
	for _, u := range events.urls {
		if u != "POST "+h.app.url("/conf-events") {
			t.Errorf("callback sent to %q", u)
		}
	}
	events.mu.Unlock()
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("action %+v", after)
	}
}

// TestRoomJoinOptions: the desktop's defaults without settings; with
// them, the room's callbacks, recording, cap and the caller's beep go
// with the caller (who makes the room) and the rest with the agent.
func TestRoomJoinOptions(t *testing.T) {
	s := &session{docURL: "https://app.example/voice"}
	caller, agent, err := roomJoinOptions(s, nil)
	if err != nil || caller.Beep != "false" || !caller.EndConferenceOnExit || !caller.StartConferenceOnEnter || caller.Callback.URL != "" || caller.Record ||
		agent.Beep != "" || agent.EndConferenceOnExit {
		t.Fatalf("defaults: caller %+v agent %+v, %v", caller, agent, err)
	}
	caller, agent, err = roomJoinOptions(s, &taskrouter.ConferenceOptions{
		StatusCallback: "/events", StatusCallbackMethod: "GET", StatusCallbackEvents: []string{"start"},
		Record: true, RecordingStatusCallback: "https://rec.example/done", BeepOnCustomerEntrance: true,
		Beep: "onExit", EndConferenceOnExit: true, Muted: true, MaxParticipants: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if caller.Callback.URL != "https://app.example/events" || caller.Callback.Method != "GET" || !slices.Equal(caller.Callback.Events, []string{"start"}) ||
		!caller.Record || caller.RecordingCallback.URL != "https://rec.example/done" || caller.Beep != "onEnter" || caller.MaxParticipants != 4 ||
		!caller.EndConferenceOnExit || caller.Label != CustomerLabel {
		t.Errorf("caller %+v", caller)
	}
	if agent.Beep != "onExit" || !agent.EndConferenceOnExit || !agent.Muted || agent.Callback.URL != "" || agent.Record {
		t.Errorf("agent %+v", agent)
	}
}
