package smsdesk_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/smsdesk"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/taskrouter"
)

const (
	ourNumber = "+15557654321"
	contact   = "+15550001111"
)

// smsSender records what the desk sends (messaging.Service's Send) and
// what the flow's widgets send.
type smsSender struct {
	mu   sync.Mutex
	sent []messaging.SendRequest
}

func (f *smsSender) Send(_ context.Context, r messaging.SendRequest) (store.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, r)
	return store.Message{SID: fmt.Sprintf("SM%032d", len(f.sent)), From: r.From, To: r.To, Body: r.Body, Status: "queued"}, nil
}

func (f *smsSender) SendMessage(ctx context.Context, m studio.OutgoingMessage) (map[string]any, error) {
	msg, _ := f.Send(ctx, messaging.SendRequest{From: m.From, To: m.To, Body: m.Body})
	return map[string]any{"Sid": msg.SID, "Status": "queued"}, nil
}

func (f *smsSender) all() []messaging.SendRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]messaging.SendRequest(nil), f.sent...)
}

// flexFlow greets the contact, sends the conversation to Flex, and has a
// widget after send-to-flex that must never run (the execution ends).
func flexFlow(t *testing.T, workflow string) *studio.Flow {
	def := `{"description": "sms to flex", "initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
	   "transitions": [{"event": "incomingMessage", "next": "hello"}, {"event": "incomingCall"}, {"event": "incomingRequest"}]},
	  {"name": "hello", "type": "send-message", "properties": {"body": "Connecting you to an agent"},
	   "transitions": [{"event": "sent", "next": "flex"}, {"event": "failed"}]},
	  {"name": "flex", "type": "send-to-flex", "properties": {"workflow": "` + workflow + `", "channel": "TC00000000000000000000000000000000",
	    "attributes": "{\"queue\": \"support\", \"first\": \"{{trigger.message.Body}}\"}", "priority": "7"},
	   "transitions": [{"event": "callComplete", "next": "after"}, {"event": "failedToEnqueue", "next": "failed"}, {"event": "callFailure"}]},
	  {"name": "after", "type": "send-message", "properties": {"body": "must not be sent"}, "transitions": [{"event": "sent"}, {"event": "failed"}]},
	  {"name": "failed", "type": "send-message", "properties": {"body": "no agents"}, "transitions": [{"event": "sent"}, {"event": "failed"}]}
	]}`
	f, err := studio.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func inbound(from, body string) url.Values {
	return url.Values{"From": {from}, "To": {ourNumber}, "Body": {body}, "MessageSid": {"SM" + strings.Repeat("0", 28) + fmt.Sprintf("%04d", len(body))}, "NumMedia": {"0"}}
}

// waitDesk re-reads the desktop until cond holds.
func waitDesk(t *testing.T, s *desk.Session, what string, cond func(desk.Snapshot) bool) desk.Snapshot {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		snap, err := s.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if cond(snap) {
			return snap
		}
		select {
		case <-s.Changed():
		case <-timeout:
			t.Fatalf("timed out waiting for %s; desktop %+v", what, snap)
		}
	}
}

// TestSMSConversationThroughTheDesk: a messaging flow's send-to-flex
// makes an sms task through the workflow (the widget's attributes plus
// channelType, from, to, conversation_sid) and ends the execution; the
// agent's desktop shows the conversation, starting with the message that
// led there; the contact's next message goes to the conversation, not to
// the flow; the agent's reply is sent as SMS from our number; completing
// the task closes the conversation, and the contact's next message starts
// the flow again.
func TestSMSConversationThroughTheDesk(t *testing.T) {
	ctx := context.Background()
	r, err := taskrouter.New(ctx, taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"support"}}}})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewStore(0)
	sender := &smsSender{}
	sms := smsdesk.New(smsdesk.Options{Tasks: r, Sender: sender, Conversations: convs})
	defer sms.Close()
	flows := studio.NewMemoryFlows()
	flows.Put("FWflex", flexFlow(t, ids.WorkflowSID))
	x := studio.NewExecutor(studio.Options{Flows: flows, Messages: sender, Handoff: sms})
	defer x.Close()
	inbox := sms.Route(x)

	d := desk.New(r, convs, ids.WorkspaceSID, ids.Workers, nil)
	agent, err := d.Open("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if err := agent.Do(desk.Request{Action: "activity", Activity: "Available"}); err != nil {
		t.Fatal(err)
	}

	if err := inbox.HandleMessage(ctx, "FWflex", inbound(contact, "My parcel is late")); err != nil {
		t.Fatal(err)
	}
	exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: contact})
	if len(exs) != 1 || exs[0].Status != studio.StatusEnded {
		t.Fatalf("executions %+v", exs)
	}
	snap := waitDesk(t, agent, "the sms reservation", func(s desk.Snapshot) bool { return len(s.Tasks) == 1 })
	task := snap.Tasks[0]
	at := task.Attributes
	if task.Channel != "sms" || task.ReservationStatus != "pending" || task.Queue != "support" || task.Priority != 7 ||
		at["channelType"] != "sms" || at["from"] != contact || at["to"] != ourNumber || at["first"] != "My parcel is late" ||
		!strings.HasPrefix(fmt.Sprint(at["conversation_sid"]), "CH") {
		t.Fatalf("task %+v", task)
	}
	if err := agent.Do(desk.Request{Action: "accept", ReservationSID: task.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	// The contact writes again: the conversation gets it, not the flow.
	if err := inbox.HandleMessage(ctx, "FWflex", inbound(contact, "Are you there?")); err != nil {
		t.Fatal(err)
	}
	snap = waitDesk(t, agent, "the contact's messages", func(s desk.Snapshot) bool {
		return len(s.Tasks) == 1 && s.Tasks[0].Conversation != nil && len(s.Tasks[0].Conversation.Messages) == 3
	})
	var lines []string
	for _, m := range snap.Tasks[0].Conversation.Messages {
		lines = append(lines, m.Author+": "+m.Body)
	}
	if want := []string{"contact: My parcel is late", "system: alice joined the chat", "contact: Are you there?"}; strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("conversation %q, want %q", lines, want)
	}
	if exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: contact}); len(exs) != 1 {
		t.Errorf("a message in the conversation started %d executions", len(exs)-1)
	}
	if err := agent.Do(desk.Request{Action: "say", ReservationSID: task.ReservationSID, Body: "Checking your parcel now"}); err != nil {
		t.Fatal(err)
	}
	sent := sender.all()
	if len(sent) != 2 || sent[0].Body != "Connecting you to an agent" ||
		sent[1].From != ourNumber || sent[1].To != contact || sent[1].Body != "Checking your parcel now" {
		t.Fatalf("sent %+v", sent)
	}
	if err := agent.Do(desk.Request{Action: "complete", ReservationSID: task.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	waitDesk(t, agent, "the task to go", func(s desk.Snapshot) bool { return len(s.Tasks) == 0 })
	c, ok := convs.ByTask(task.TaskSID)
	if !ok || !c.Closed {
		t.Fatalf("conversation after complete %+v", c)
	}
	// The conversation is over: the next message starts the flow again.
	if err := inbox.HandleMessage(ctx, "FWflex", inbound(contact, "One more thing")); err != nil {
		t.Fatal(err)
	}
	if exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: contact}); len(exs) != 2 {
		t.Errorf("executions after the task completed: %d, want 2", len(exs))
	}
	for _, m := range sender.all() {
		if m.Body == "must not be sent" {
			t.Error("the flow went on after send-to-flex")
		}
	}
}

// TestCanceledTaskEndsConversation: a task canceled before anyone takes
// it (REST, TTL) closes the conversation and the contact is back with the
// flow; a workflow that does not exist takes failedToEnqueue.
func TestCanceledTaskEndsConversation(t *testing.T) {
	ctx := context.Background()
	r, err := taskrouter.New(ctx, taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids, err := r.EnsureDefaults(taskrouter.Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewStore(0)
	sender := &smsSender{}
	sms := smsdesk.New(smsdesk.Options{Tasks: r, Sender: sender, Conversations: convs})
	defer sms.Close()
	flows := studio.NewMemoryFlows()
	flows.Put("FWflex", flexFlow(t, ids.WorkflowSID))
	flows.Put("FWnone", flexFlow(t, "WW00000000000000000000000000000000"))
	x := studio.NewExecutor(studio.Options{Flows: flows, Messages: sender, Handoff: sms})
	defer x.Close()
	inbox := sms.Route(x)

	if err := inbox.HandleMessage(ctx, "FWflex", inbound(contact, "hi")); err != nil {
		t.Fatal(err)
	}
	tasks, err := r.Tasks(ids.WorkspaceSID, taskrouter.TaskFilter{})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %+v %v", tasks, err)
	}
	changed := convs.Changed()
	if _, err := r.UpdateTask(ids.WorkspaceSID, tasks[0].SID, taskrouter.TaskParams{AssignmentStatus: ptr(taskrouter.TaskCanceled), Reason: ptr("test")}); err != nil {
		t.Fatal(err)
	}
	for {
		if c, _ := convs.ByTask(tasks[0].SID); c.Closed {
			break
		}
		select {
		case <-changed:
			changed = convs.Changed()
		case <-time.After(10 * time.Second):
			t.Fatal("the conversation of a canceled task stayed open")
		}
	}
	// Routing forgets it on the next message: the flow runs again.
	if err := inbox.HandleMessage(ctx, "FWflex", inbound(contact, "hello again")); err != nil {
		t.Fatal(err)
	}
	if exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{FlowSid: "FWflex", ContactAddress: contact}); len(exs) != 2 {
		t.Errorf("executions %d, want 2", len(exs))
	}
	if err := inbox.HandleMessage(ctx, "FWnone", inbound("+15550003333", "hi")); err != nil {
		t.Fatal(err)
	}
	if last := sender.all()[len(sender.all())-1]; last.Body != "no agents" || last.To != "+15550003333" {
		t.Errorf("unknown workflow: last message %+v", last)
	}
}

func ptr[T any](v T) *T { return &v }
