package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReservationConferenceInstructionCallbacks: a SIPp caller's <Enqueue
// workflowSid> task is accepted over plain HTTP with Flex's
// Instruction=conference and its room settings: ConferenceStatusCallback
// with ConferenceStatusCallbackEvent start, join, leave, end, and
// ConferenceRecord with ConferenceRecordingStatusCallback. The caller and
// the SIP worker (baresip) talk in a room named after the task; the app
// gets the room's events in order with the task's name and the same
// ConferenceSid, and the room's recording's callback.
func TestReservationConferenceInstructionCallbacks(t *testing.T) {
	a := newApp(t)
	var workflow string
	a.handle("/voice", func(webhookRequest) (int, string, string) {
		return 200, "text/xml", `<Response><Enqueue workflowSid="` + workflow + `" waitUrl="/wait" action="/after">` +
			`<Task timeout="300">{"type":"support"}</Task></Enqueue></Response>`
	})
	a.twiml("/wait", `<Response><Say>Please hold.</Say></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	a.handle("/conf-events", func(webhookRequest) (int, string, string) { return 204, "text/plain", "" })
	a.handle("/conf-recording", func(webhookRequest) (int, string, string) { return 204, "text/plain", "" })
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	var ws string
	ws, workflow = sipWorkerWorkspace(t, g)

	sippDone := callerHangsUpAfter(t, g, 6000)
	a.waitRequests(t, "/wait", 1, 15*time.Second)
	var tasks struct {
		Tasks []trTask `json:"tasks"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(tasks.Tasks) == 0 || tasks.Tasks[0].AssignmentStatus != "reserved" {
		if time.Now().After(deadline) {
			t.Fatalf("tasks %+v\n%s", tasks, g.Logs())
		}
		time.Sleep(100 * time.Millisecond)
		getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks", &tasks)
	}
	task := tasks.Tasks[0]
	var res struct {
		Reservations []struct{ Sid string } `json:"reservations"`
	}
	getJSON(t, g.httpURL+"/v1/Workspaces/"+ws+"/Tasks/"+task.Sid+"/Reservations", &res)
	trPost(t, g, "/"+ws+"/Tasks/"+task.Sid+"/Reservations/"+res.Reservations[0].Sid, url.Values{
		"Instruction":                       {"conference"},
		"ConferenceStatusCallback":          {a.url("/conf-events")},
		"ConferenceStatusCallbackEvent":     {"start", "join", "leave", "end"},
		"ConferenceRecord":                  {"true"},
		"ConferenceRecordingStatusCallback": {a.url("/conf-recording")},
		"ConferenceTrim":                    {"trim-silence"}, // accepted, not carried out
	})
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	after := a.waitRequests(t, "/after", 1, 10*time.Second)[0]
	if after.Form.Get("QueueResult") != "bridged" || after.Form.Get("TaskSid") != task.Sid {
		t.Errorf("action %v", after.Form)
	}

	events := a.waitRequests(t, "/conf-events", 5, 10*time.Second)
	var got []string
	confSID := events[0].Form.Get("ConferenceSid")
	for _, e := range events {
		got = append(got, e.Form.Get("StatusCallbackEvent")+":"+e.Form.Get("ParticipantLabel"))
		if e.Form.Get("ConferenceSid") != confSID || !strings.HasPrefix(confSID, "CF") || e.Form.Get("FriendlyName") != task.Sid {
			t.Errorf("event %v: want ConferenceSid %s, FriendlyName %s", e.Form, confSID, task.Sid)
		}
	}
	t.Logf("conference events %v", got)
	// The caller makes the room and starts it; the worker (labelled by its
	// contact) joins; the caller hangs up, which ends the room.
	if len(got) < 5 || got[0] != "participant-join:customer" || got[1] != "conference-start:" ||
		!strings.HasPrefix(got[2], "participant-join:") || got[2] == "participant-join:customer" ||
		got[len(got)-1] != "conference-end:" || !slices.Contains(got, "participant-leave:customer") {
		t.Errorf("conference events %v", got)
	}
	rec := a.waitRequests(t, "/conf-recording", 1, 10*time.Second)[0].Form
	if rec.Get("ConferenceSid") != confSID || !strings.HasPrefix(rec.Get("RecordingSid"), "RE") || rec.Get("RecordingStatus") != "completed" {
		t.Errorf("recording callback %v", rec)
	}
	if !strings.Contains(g.Logs(), "conference instruction parameters not carried out") {
		t.Error("ConferenceTrim was not logged as not carried out")
	}
}
