package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// deskAgentsYAML: alice serves support, bob sales, sue supervises.
const deskAgentsYAML = `agents:
  - id: alice
    name: Alice
    secret: alice-secret-1
    queues: [support]
  - id: bob
    name: Bob
    secret: bob-secret-12
    queues: [sales]
  - id: sue
    name: Sue
    secret: sue-secret-12
    supervisor: true
queues:
  offer_timeout: 10s
  wrap_up: 1s
`

// deskSnapshot is the part of a "desk" message the tests read.
type deskSnapshot struct {
	Tasks []struct {
		ReservationSID    string `json:"reservationSid"`
		ReservationStatus string `json:"reservationStatus"`
		TaskSID           string `json:"taskSid"`
		Channel           string `json:"channel"`
	} `json:"tasks"`
	Calls      []deskCall `json:"calls"`
	Supervisor bool       `json:"supervisor"`
	LiveCalls  []deskCall `json:"liveCalls"`
}

type deskCall struct {
	TaskSID       string `json:"taskSid"`
	ConferenceSID string `json:"conferenceSid"`
	Parties       []struct {
		Label, Role           string
		Muted, Hold, Coaching bool
		CoachLabel            string `json:"coachLabel"`
	} `json:"parties"`
}

// desk waits for a "desk" message for which ok holds.
func (a *pionAgent) desk(within time.Duration, ok func(deskSnapshot) bool) deskSnapshot {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			a.t.Fatal("the desktop never showed what was expected")
		}
		m := a.expect("desk", left)
		js, _ := json.Marshal(m)
		var s deskSnapshot
		if err := json.Unmarshal(js, &s); err != nil {
			a.t.Fatal(err)
		}
		if ok(s) {
			return s
		}
	}
}

// callAction sends a desktop call action on the call of taskSID.
func (a *pionAgent) callAction(action, taskSID, target string) {
	a.send(map[string]any{"type": "task", "action": action, "taskSid": taskSID, "target": target})
}

// deskEnqueueApp answers /voice with <Enqueue workflowSid> to queue support,
// once the workflow SID is known (set *wf before the call).
func deskEnqueueApp(t *testing.T, a *app, wf *string) {
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Enqueue workflowSid="` + *wf + `" action="/after"><Task>{"queue":"support"}</Task></Enqueue></Response>`
	})
	a.twiml("/after", `<Response><Hangup/></Response>`)
}

// TestAgentDeskCallControls: the agent desktop's call controls on a
// TaskRouter voice call that is a conference room, with real peers: a
// SIPp caller (500 Hz), alice (a pion WebRTC agent on the real /agent
// WebSocket, 1850 Hz) and supervisor sue (pion, 1450 Hz). Alice accepts
// the task on the desktop and her call joins the task's room; then, each
// checked on what everyone actually receives: hold (the caller hears hold
// music, not alice; alice no longer hears the caller), mute (the caller
// no longer hears alice), sue monitors (she hears both, nobody hears
// her), coaches (alice hears her, the caller does not), barges (the
// caller hears her) and stops; alice cold-transfers the caller to a
// number (an echoing SIPp phone): her call ends, the caller's does not,
// and the caller hears the new party; the task wraps.
func TestAgentDeskCallControls(t *testing.T) {
	a := newApp(t)
	var wf string
	deskEnqueueApp(t, a, &wf)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + deskAgentsYAML})
	ws, workflow := defaultWorkflow(t, g)
	wf = workflow
	external := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))

	alice := newPionAgent(t, g.httpURL, "alice", "alice-secret-1")
	sue := newPionAgent(t, g.httpURL, "sue", "sue-secret-12")
	if s := sue.desk(5*time.Second, func(deskSnapshot) bool { return true }); !s.Supervisor {
		t.Fatal("sue's desktop is not a supervisor's")
	}
	caller := newRTPPeer(t)
	caller.talkTone(500, 6000, 60*time.Second)
	done := g.waitingCaller(t, caller, "caller: ", 70*time.Second)

	snap := alice.desk(20*time.Second, func(s deskSnapshot) bool { return len(s.Tasks) == 1 && s.Tasks[0].ReservationStatus == "pending" })
	task := snap.Tasks[0].TaskSID
	alice.send(map[string]any{"type": "task", "action": "accept", "reservationSid": snap.Tasks[0].ReservationSID})
	offer := alice.expect("offer", 10*time.Second)["offer"].(map[string]any)
	alice.accept(offer["id"].(string), 1850)
	alice.expect("accepted", 10*time.Second)
	call := alice.desk(10*time.Second, func(s deskSnapshot) bool { return len(s.Calls) == 1 && len(s.Calls[0].Parties) == 2 }).Calls[0]
	if call.TaskSID != task || call.Parties[0].Label != "customer" || call.Parties[1].Label != "alice" {
		t.Fatalf("alice's call: %+v", call)
	}

	// stage runs step, lets 2.5 s of audio flow, and returns what the
	// caller and each agent received meanwhile.
	type heard struct {
		caller       []rtpPacket
		alice, sueAt []float64
		from, to     time.Time
	}
	stage := func(step func()) heard {
		step()
		time.Sleep(500 * time.Millisecond) // the change reaches the mix
		from, a0, s0 := time.Now(), len(alice.heard()), len(sue.heard())
		time.Sleep(2500 * time.Millisecond)
		h := heard{from: from, to: time.Now(), alice: alice.heard()[a0:], sueAt: sue.heard()[s0:]}
		return h
	}
	callerShare := func(h heard, f float64) float64 { s, _ := shareBetween(caller, h.from, h.to, f); return s }
	callerLevel := func(h heard) float64 { _, l := shareBetween(caller, h.from, h.to, 1000); return l }
	want := func(what string, got, lo, hi float64) {
		t.Helper()
		t.Logf("%s: %.3f", what, got)
		if got < lo || got > hi {
			t.Errorf("%s = %.3f, want within [%.2f, %.2f]", what, got, lo, hi)
		}
	}

	h := stage(func() {})
	want("connected: the caller hears alice (1850 Hz share)", callerShare(h, 1850), 0.5, 1)
	want("connected: alice hears the caller (500 Hz share)", bestShare(h.alice, 500), 0.5, 1)

	h = stage(func() {
		alice.callAction("hold", task, "")
		alice.desk(5*time.Second, func(s deskSnapshot) bool { return len(s.Calls) == 1 && s.Calls[0].Parties[0].Hold })
	})
	want("hold: the caller's level (hold music)", callerLevel(h), 0.01, 1)
	want("hold: the caller hears alice", callerShare(h, 1850), 0, 0.3) // the music has a little energy near any tone
	want("hold: alice hears the caller", bestShare(h.alice, 500), 0, 0.05)

	h = stage(func() {
		alice.callAction("unhold", task, "")
		alice.callAction("mute", task, "")
		alice.desk(5*time.Second, func(s deskSnapshot) bool {
			return len(s.Calls) == 1 && !s.Calls[0].Parties[0].Hold && s.Calls[0].Parties[1].Muted
		})
	})
	want("mute: the caller hears alice", callerShare(h, 1850), 0, 0.05)
	want("mute: alice hears the caller", bestShare(h.alice, 500), 0.5, 1)

	alice.callAction("unmute", task, "")
	sue.callAction("monitor", task, "")
	supOffer := sue.expect("offer", 10*time.Second)["offer"].(map[string]any)
	if attrs, _ := supOffer["attributes"].(map[string]any); attrs["X-Voxgate-Task"] != task {
		t.Errorf("sue's offer names %v, want the task %s", supOffer["attributes"], task)
	}
	sue.accept(supOffer["id"].(string), 1450)
	sue.expect("accepted", 10*time.Second)
	h = stage(func() {
		sue.desk(5*time.Second, func(s deskSnapshot) bool { return len(s.LiveCalls) == 1 && len(s.LiveCalls[0].Parties) == 3 })
	})
	want("monitor: sue hears the caller", bestShare(h.sueAt, 500), 0.15, 1) // 6000² against 10000²: 0.26
	want("monitor: sue hears alice", bestShare(h.sueAt, 1850), 0.2, 1)
	want("monitor: the caller hears sue", callerShare(h, 1450), 0, 0.05)
	want("monitor: alice hears sue", bestShare(h.alice, 1450), 0, 0.05)
	want("monitor: the caller hears alice again (unmuted)", callerShare(h, 1850), 0.5, 1)

	h = stage(func() {
		sue.callAction("coach", task, "")
		sue.desk(5*time.Second, func(s deskSnapshot) bool {
			return len(s.LiveCalls) == 1 && len(s.LiveCalls[0].Parties) == 3 && s.LiveCalls[0].Parties[2].Coaching
		})
	})
	want("coach: alice hears sue", bestShare(h.alice, 1450), 0.2, 1)
	want("coach: the caller hears sue", callerShare(h, 1450), 0, 0.05)

	h = stage(func() {
		sue.callAction("barge", task, "")
		sue.desk(5*time.Second, func(s deskSnapshot) bool {
			return len(s.LiveCalls) == 1 && len(s.LiveCalls[0].Parties) == 3 && !s.LiveCalls[0].Parties[2].Coaching && !s.LiveCalls[0].Parties[2].Muted
		})
	})
	want("barge: the caller hears sue", callerShare(h, 1450), 0.2, 1)
	want("barge: alice hears sue", bestShare(h.alice, 1450), 0.2, 1)

	sue.callAction("unmonitor", task, "")
	sue.expect("ended", 10*time.Second)

	h = stage(func() {
		alice.callAction("transfer", task, fmt.Sprintf("sip:ext@127.0.0.1:%d", external))
		alice.expect("ended", 15*time.Second)
		time.Sleep(time.Second)
	})
	select {
	case msg := <-done:
		t.Fatalf("the caller's call ended with the cold transfer: %q", msg)
	default:
	}
	want("cold transfer: the caller hears the new party (its own tone echoed)", callerShare(h, 500), 0.5, 1)
	want("cold transfer: the caller hears alice", callerShare(h, 1850), 0, 0.05)
	var tk struct {
		Status string `json:"assignment_status"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task, &tk)
	if tk.Status != "wrapping" {
		t.Errorf("alice's task is %s after she left, want wrapping", tk.Status)
	}
	// The new party hangs up (removed over the REST API): the room ends
	// and the caller's call goes on to its action.
	var parts partList
	g.restJSON(t, "GET", "/Conferences/"+call.ConferenceSID+"/Participants.json", nil, &parts)
	if len(parts.Participants) != 2 {
		t.Fatalf("participants after the transfer: %+v", parts)
	}
	if code := g.restJSON(t, "DELETE", "/Conferences/"+call.ConferenceSID+"/Participants/"+url.PathEscape(fmt.Sprintf("sip:ext@127.0.0.1:%d", external))+".json", nil, nil); code != 204 {
		t.Fatalf("removing the new party: %d", code)
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)
	if after[0].Form.Get("QueueResult") != "bridged" || after[0].Form.Get("TaskSid") != task {
		t.Errorf("action %v", after[0].Form)
	}
}

// TestAgentDeskColdTransferToQueue: alice (pion, 1850 Hz) transfers her
// caller (SIPp, 500 Hz) to queue:sales from the desktop: her call ends
// and her task wraps at once; the caller, still in the room, hears hold
// music while a new task (queue sales, transferred_from_task) is routed;
// bob (pion, 1500 Hz, serves sales) accepts it on his desktop, his page's
// call joins the same room and the caller hears him. The caller's call
// is never dropped; it goes on to its action when bob hangs up, and the
// new task wraps.
func TestAgentDeskColdTransferToQueue(t *testing.T) {
	a := newApp(t)
	var wf string
	deskEnqueueApp(t, a, &wf)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + deskAgentsYAML})
	ws, workflow := defaultWorkflow(t, g)
	wf = workflow
	alice := newPionAgent(t, g.httpURL, "alice", "alice-secret-1")
	bob := newPionAgent(t, g.httpURL, "bob", "bob-secret-12")
	caller := newRTPPeer(t)
	caller.talkTone(500, 6000, 50*time.Second)
	done := g.waitingCaller(t, caller, "caller: ", 60*time.Second)

	take := func(ag *pionAgent, hz float64) string {
		t.Helper()
		snap := ag.desk(20*time.Second, func(s deskSnapshot) bool {
			return len(s.Tasks) == 1 && s.Tasks[0].ReservationStatus == "pending" && s.Tasks[0].Channel == "voice"
		})
		ag.send(map[string]any{"type": "task", "action": "accept", "reservationSid": snap.Tasks[0].ReservationSID})
		offer := ag.expect("offer", 10*time.Second)["offer"].(map[string]any)
		ag.accept(offer["id"].(string), hz)
		ag.expect("accepted", 10*time.Second)
		return snap.Tasks[0].TaskSID
	}
	task := take(alice, 1850)
	time.Sleep(2 * time.Second)
	alice.callAction("transfer", task, "queue:sales")
	alice.expect("ended", 10*time.Second)
	holdFrom := time.Now()
	time.Sleep(2500 * time.Millisecond)
	holdTo := time.Now()
	var tk struct {
		Status     string `json:"assignment_status"`
		Attributes string `json:"attributes"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task, &tk)
	if tk.Status != "wrapping" {
		t.Errorf("alice's task is %s after the transfer, want wrapping", tk.Status)
	}
	newTask := take(bob, 1500)
	time.Sleep(500 * time.Millisecond)
	bobFrom := time.Now()
	time.Sleep(2500 * time.Millisecond)
	bobTo := time.Now()
	select {
	case msg := <-done:
		t.Fatalf("the caller's call ended with the transfer: %q", msg)
	default:
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+newTask, &tk)
	if newTask == task || tk.Status != "assigned" || !strings.Contains(tk.Attributes, `"queue":"sales"`) || !strings.Contains(tk.Attributes, `"transferred_from_task":"`+task+`"`) {
		t.Errorf("the transferred task %s: %+v", newTask, tk)
	}
	holdAlice, holdLevel := shareBetween(caller, holdFrom, holdTo, 1850)
	heardBob, _ := shareBetween(caller, bobFrom, bobTo, 1500)
	t.Logf("while routing: level %.3f, alice's share %.3f; with bob: bob's share %.3f", holdLevel, holdAlice, heardBob)
	// The hold music (bell partials of C-major chords) has a little
	// energy near any tone: alice's tone, heard, would be most of it.
	if holdLevel < 0.01 || holdAlice > 0.3 {
		t.Errorf("while the transfer was routed the caller heard level %.3f, alice's share %.3f: want hold music", holdLevel, holdAlice)
	}
	if heardBob < 0.5 {
		t.Errorf("after the transfer the caller did not hear bob (share %.3f)", heardBob)
	}
	if s := bestShare(bob.heard(), 500); s < 0.5 {
		t.Errorf("bob did not hear the caller (share %.3f)", s)
	}
	bob.send(map[string]any{"type": "hangup"})
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)
	if after[0].Form.Get("QueueResult") != "bridged" {
		t.Errorf("action %v", after[0].Form)
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+newTask, &tk)
	if tk.Status != "wrapping" {
		t.Errorf("bob's task is %s after the call, want wrapping", tk.Status)
	}
}
