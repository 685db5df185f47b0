package ivr

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/taskrouter"
)

// agentRoomHarness is workflowHarness with the agent rooms and a
// conference manager, so accepted tasks become conferences.
func agentRoomHarness(t *testing.T, contacts ...string) (*harness, *fakeDialer, *taskrouter.Router, string, *AgentRooms) {
	t.Helper()
	h, d, r, ws := workflowHarness(t, contacts...)
	mgr := conference.NewManager(conference.Options{})
	t.Cleanup(mgr.Close)
	rooms := NewAgentRooms()
	h.eng.cfg.Services = append(h.eng.cfg.Services, mgr, rooms)
	return h, d, r, ws, rooms
}

// waitRoom waits until the task's room shows the labels (in join order).
func waitRoom(t *testing.T, rooms *AgentRooms, taskSID string, labels ...string) AgentCall {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r, ok := rooms.Room(taskSID)
		if !ok {
			continue
		}
		info := r.Info()
		got = got[:0]
		for _, p := range info.Parties {
			got = append(got, p.Label)
		}
		if slices.Equal(got, labels) {
			return info
		}
	}
	t.Fatalf("room of %s: parties %v, want %v", taskSID, got, labels)
	return AgentCall{}
}

func taskStatus(t *testing.T, r *taskrouter.Router, ws, sid string) string {
	t.Helper()
	tv, err := r.Task(ws, sid)
	if err != nil {
		t.Fatal(err)
	}
	return tv.AssignmentStatus
}

// TestAgentRoomWarmTransfer: an accepted task puts the caller and the
// worker in a room named after the task; a second agent is brought in
// (consult), the first leaves (its task wraps) and the caller stays with
// the second; the caller's hold and the agent's mute are the room's;
// when the second agent hangs up the room ends and the action gets
// QueueResult=bridged.
func TestAgentRoomWarmTransfer(t *testing.T) {
	h, d, r, ws, rooms := agentRoomHarness(t, "client:alice")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	task := acceptNext(t, r, ws)
	info := waitRoom(t, rooms, task.SID, "customer", "alice")
	if info.Parties[0].Role != RoleCustomer || info.Parties[1].Role != RoleAgent || info.Parties[1].TaskSID != task.SID || info.CallSID == "" {
		t.Errorf("room %+v", info)
	}
	room, _ := rooms.Room(task.SID)
	on := true
	if err := room.Update(context.Background(), "customer", PartyUpdate{Hold: &on}); err != nil {
		t.Fatal(err)
	}
	if err := room.Update(context.Background(), "alice", PartyUpdate{Muted: &on}); err != nil {
		t.Fatal(err)
	}
	info = room.Info()
	if !info.Parties[0].Hold || !info.Parties[1].Muted || info.Parties[1].Hold {
		t.Errorf("after hold and mute: %+v", info.Parties)
	}
	if _, err := room.Add(PartyRequest{To: "client:bob", Role: RoleAgent}); err != nil {
		t.Fatal(err)
	}
	if _, err := room.Add(PartyRequest{To: "client:bob"}); err != ErrPartyExists {
		t.Errorf("bob twice: %v", err)
	}
	waitRoom(t, rooms, task.SID, "customer", "alice", "bob")
	if got := d.reqs[len(d.reqs)-1].Headers[TaskHeader]; got != task.SID {
		t.Errorf("bob's call names task %q", got)
	}
	if err := room.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, rooms, task.SID, "customer", "bob")
	if st := taskStatus(t, r, ws, task.SID); st != taskrouter.TaskWrapping {
		t.Errorf("the first agent left: task %s, want wrapping", st)
	}
	if len(h.app.requests("/after")) != 0 {
		t.Fatal("the caller's call went on while bob was still on it")
	}
	select {
	case <-d.call("client:alice").leg.Done():
	case <-time.After(5 * time.Second):
		t.Error("alice's leg was not hung up")
	}
	d.call("client:bob").leg.Close("bob hung up")
	h.wait(t)
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" || after[0].form.Get("TaskSid") != task.SID {
		t.Fatalf("action %+v", after)
	}
	if _, ok := rooms.Room(task.SID); ok {
		t.Error("the room is still listed")
	}
}

// TestAgentRoomColdTransferToQueue: the agent transfers the caller to a
// queue: it leaves at once (its task wraps), the caller is held while a
// new task with queue=sales is routed, and the worker who takes it joins
// the same room; the caller is never dropped.
func TestAgentRoomColdTransferToQueue(t *testing.T) {
	h, d, r, ws, rooms := agentRoomHarness(t, "client:alice", "client:bob")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	task := acceptNext(t, r, ws)
	waitRoom(t, rooms, task.SID, "customer", "alice")
	room, _ := rooms.Room(task.SID)
	newTask, err := room.TransferToQueue("sales", "alice")
	if err != nil {
		t.Fatal(err)
	}
	info := waitRoom(t, rooms, task.SID, "customer")
	if !info.Parties[0].Hold || info.Transferring != 1 {
		t.Errorf("while routing: %+v", info)
	}
	if st := taskStatus(t, r, ws, task.SID); st != taskrouter.TaskWrapping {
		t.Errorf("first task %s, want wrapping", st)
	}
	tv, _ := r.Task(ws, newTask)
	if tv.Attributes == "" || !strings.Contains(tv.Attributes, `"queue":"sales"`) || !strings.Contains(tv.Attributes, task.SID) {
		t.Errorf("new task attributes %s", tv.Attributes)
	}
	if nr, ok := rooms.Room(newTask); !ok || nr != room {
		t.Error("the new task does not find the room")
	}
	// alice is in wrap-up; bob takes the new task.
	var res []taskrouter.Reservation
	for deadline := time.Now().Add(5 * time.Second); len(res) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		res, _ = r.Reservations(ws, newTask, "", taskrouter.ResPending)
	}
	if len(res) != 1 {
		t.Fatalf("no reservation for the transferred task")
	}
	if _, err := r.UpdateReservation(ws, res[0].SID, taskrouter.ReservationParams{Status: taskrouter.ResAccepted}); err != nil {
		t.Fatal(err)
	}
	info = waitRoom(t, rooms, task.SID, "customer", "bob")
	if info.Parties[0].Hold || info.Parties[1].TaskSID != newTask {
		t.Errorf("after the transfer: %+v", info.Parties)
	}
	d.call("client:bob").leg.Close("bob hung up")
	h.wait(t)
	if st := taskStatus(t, r, ws, newTask); st != taskrouter.TaskWrapping {
		t.Errorf("second task %s, want wrapping", st)
	}
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("action %+v", after)
	}
}

// TestAgentRoomSupervisorAndCallerHangup: a supervisor joins muted
// (monitor), coaches the agent, then barges; the supervisor alone does
// not keep the call up, and the caller hanging up ends the room for
// everyone (the agent's task wraps).
func TestAgentRoomSupervisorAndCallerHangup(t *testing.T) {
	h, d, r, ws, rooms := agentRoomHarness(t, "client:alice")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	task := acceptNext(t, r, ws)
	waitRoom(t, rooms, task.SID, "customer", "alice")
	room, _ := rooms.Room(task.SID)
	if _, err := room.Add(PartyRequest{To: "client:sue", Label: "supervisor:sue", Role: RoleSupervisor, Muted: true}); err != nil {
		t.Fatal(err)
	}
	info := waitRoom(t, rooms, task.SID, "customer", "alice", "supervisor:sue")
	if sup := info.Parties[2]; !sup.Muted || sup.Coaching || sup.Role != RoleSupervisor {
		t.Errorf("monitoring: %+v", sup)
	}
	off, alice := false, "alice"
	if err := room.Update(context.Background(), "supervisor:sue", PartyUpdate{Muted: &off, Coach: &alice}); err != nil {
		t.Fatal(err)
	}
	if sup := room.Info().Parties[2]; sup.Muted || !sup.Coaching || sup.CoachLabel != "alice" {
		t.Errorf("coaching: %+v", sup)
	}
	nobody := ""
	if err := room.Update(context.Background(), "supervisor:sue", PartyUpdate{Coach: &nobody}); err != nil {
		t.Fatal(err)
	}
	if sup := room.Info().Parties[2]; sup.Muted || sup.Coaching {
		t.Errorf("barging: %+v", sup)
	}
	h.call.leg.Close("caller hung up")
	h.wait(t)
	for _, to := range []string{"client:alice", "client:sue"} {
		select {
		case <-d.call(to).leg.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("%s was not hung up", to)
		}
	}
	if st := taskStatus(t, r, ws, task.SID); st != taskrouter.TaskWrapping {
		t.Errorf("task %s, want wrapping", st)
	}
}

// TestAgentRoomPlainQueue: a plain <Enqueue>support</Enqueue> caller
// taken by a browser agent is in a room named after its CallSid; the
// agent consults a number and leaves, the caller stays with that party;
// when it hangs up the action gets QueueResult=bridged. A transfer to a
// queue is refused (no workflow).
func TestAgentRoomPlainQueue(t *testing.T) {
	h, m := queueHarness(t, `<Response><Enqueue action="/after">support</Enqueue></Response>`)
	d := &fakeDialer{}
	h.eng.cfg.Dialer = d
	mgr := conference.NewManager(conference.Options{})
	t.Cleanup(mgr.Close)
	rooms := NewAgentRooms()
	h.eng.cfg.Services = []any{mgr, rooms}
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	agentTakes(t, m, "support")
	callSID := "CA00000000000000000000000000000001"
	waitRoom(t, rooms, callSID, "customer", "alice")
	room, _ := rooms.Room(callSID)
	if _, err := room.TransferToQueue("sales", "alice"); err == nil {
		t.Error("a plain queue call was transferred to a queue")
	}
	if _, err := room.Add(PartyRequest{To: "+15550003333"}); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, rooms, callSID, "customer", "alice", "+15550003333")
	if err := room.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, rooms, callSID, "customer", "+15550003333")
	if len(h.app.requests("/after")) != 0 {
		t.Fatal("the caller's call went on while the consulted party was on it")
	}
	d.call("+15550003333").leg.Close("bye")
	h.wait(t)
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("action %+v", after)
	}
}

// TestAgentRoomColdTransferToAgent: a cold transfer to a busy phone holds
// the caller while it rings and gives the caller back to the agent; one
// to another agent holds the caller until that agent answers, then the
// first agent leaves (its task wraps) and the caller is off hold with
// the second.
func TestAgentRoomColdTransferToAgent(t *testing.T) {
	h, d, r, ws, rooms := agentRoomHarness(t, "client:alice")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	task := acceptNext(t, r, ws)
	waitRoom(t, rooms, task.SID, "customer", "alice")
	room, _ := rooms.Room(task.SID)
	if _, err := room.Add(PartyRequest{To: "busy", HoldCaller: true, Replaces: "alice"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); room.Info().Transferring > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if info := room.Info(); info.Parties[0].Hold || len(info.Parties) != 2 || info.Parties[1].Label != "alice" {
		t.Errorf("after a failed transfer: %+v", info)
	}
	answer := make(chan struct{})
	d.answered = func(to string, _ *fakeCall) {
		if to == "client:bob" {
			<-answer // bob rings until the test has looked
		}
	}
	if _, err := room.Add(PartyRequest{To: "client:bob", Role: RoleAgent, HoldCaller: true, Replaces: "alice"}); err != nil {
		t.Fatal(err)
	}
	if info := room.Info(); !info.Parties[0].Hold || info.Transferring != 1 || len(info.Parties) != 2 {
		t.Errorf("while bob rings: %+v", info)
	}
	close(answer)
	info := waitRoom(t, rooms, task.SID, "customer", "bob")
	if info.Parties[0].Hold {
		t.Errorf("the caller is still on hold with bob: %+v", info.Parties)
	}
	if st := taskStatus(t, r, ws, task.SID); st != taskrouter.TaskWrapping {
		t.Errorf("alice's task %s, want wrapping", st)
	}
	d.call("client:bob").leg.Close("bob hung up")
	h.wait(t)
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("action %+v", after)
	}
}

// TestAgentRoomCallerWaitsOnHold: alice consults bob and leaves while his
// phone still rings: the caller is not dropped but held (music) until bob
// answers, then talks to him.
func TestAgentRoomCallerWaitsOnHold(t *testing.T) {
	h, d, r, ws, rooms := agentRoomHarness(t, "client:alice")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	task := acceptNext(t, r, ws)
	waitRoom(t, rooms, task.SID, "customer", "alice")
	room, _ := rooms.Room(task.SID)
	answer := make(chan struct{})
	d.answered = func(to string, _ *fakeCall) {
		if to == "client:bob" {
			<-answer
		}
	}
	if _, err := room.Add(PartyRequest{To: "client:bob", Role: RoleAgent}); err != nil {
		t.Fatal(err)
	}
	if err := room.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	info := waitRoom(t, rooms, task.SID, "customer")
	for deadline := time.Now().Add(5 * time.Second); !info.Parties[0].Hold && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		info = room.Info()
	}
	if !info.Parties[0].Hold || info.Transferring != 1 {
		t.Errorf("alone while bob rings: %+v", info)
	}
	close(answer)
	if info := waitRoom(t, rooms, task.SID, "customer", "bob"); info.Parties[0].Hold {
		t.Errorf("with bob: %+v", info.Parties)
	}
	d.call("client:bob").leg.Close("bob hung up")
	h.wait(t)
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("action %+v", after)
	}
}

// TestAgentRoomDialQueueDequeuer: a caller taken by a <Dial><Queue> call
// is in a room named after its CallSid with the dequeuer, labelled by its
// From, so the desktop's controls work on it (here: the caller held and
// taken off hold); when the dequeuer is removed from the room its <Dial>
// ends (DialCallStatus=completed, the caller's CallSid) and its call goes
// on, and the caller, left alone, goes on after its <Enqueue>.
func TestAgentRoomDialQueueDequeuer(t *testing.T) {
	h1, m := queueHarness(t, `<Response><Enqueue action="/after">support</Enqueue></Response>`)
	mgr := conference.NewManager(conference.Options{})
	t.Cleanup(mgr.Close)
	rooms := NewAgentRooms()
	h1.eng.cfg.Services = append(h1.eng.cfg.Services, mgr, rooms)
	h1.start(App{VoiceURL: h1.app.url("/voice")})
	waitPlays(t, h1.call.leg, 1)

	h2 := newHarness(t, nil)
	h2.eng.cfg.Queues = m
	h2.app.set("/voice", `<Response><Dial action="/dialed"><Queue>support</Queue></Dial></Response>`)
	h2.app.set("/dialed", `<Response><Hangup/></Response>`)
	info := CallInfo{SID: "CA00000000000000000000000000000002", From: "client:alice", To: "+15550001000"}
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		h2.eng.Run(t.Context(), info, h2.call, App{VoiceURL: h2.app.url("/voice")})
	}()
	callerSID := "CA00000000000000000000000000000001"
	call := waitRoom(t, rooms, callerSID, "customer", "alice")
	if p := call.Parties[1]; p.Role != RoleAgent || p.CallSID != info.SID || p.To != "client:alice" {
		t.Errorf("the dequeuer's party %+v", p)
	}
	room, _ := rooms.Room(callerSID)
	on, off := true, false
	if err := room.Update(context.Background(), "customer", PartyUpdate{Hold: &on}); err != nil {
		t.Fatal(err)
	}
	if !room.Info().Parties[0].Hold {
		t.Error("the caller is not on hold")
	}
	if err := room.Update(context.Background(), "customer", PartyUpdate{Hold: &off}); err != nil {
		t.Fatal(err)
	}
	if err := room.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done2:
	case <-time.After(5 * time.Second):
		t.Fatal("the dequeuing call did not go on after its Dial")
	}
	if d := h2.app.requests("/dialed"); len(d) != 1 || d[0].form.Get("DialCallStatus") != "completed" || d[0].form.Get("DialCallSid") != callerSID {
		t.Fatalf("Dial action %v", d)
	}
	h1.wait(t)
	if a := h1.app.requests("/after"); len(a) != 1 || a[0].form.Get("QueueResult") != "bridged" {
		t.Fatalf("Enqueue action %v", a)
	}
	if _, ok := rooms.Room(callerSID); ok {
		t.Error("the room is still listed")
	}
}
