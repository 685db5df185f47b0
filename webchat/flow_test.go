package webchat

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/conversation"
)

// fakeFlow records the messages given to the flow and answers each with
// a send-message to the chat, as a Studio flow's widget would.
type fakeFlow struct {
	convs *conversation.Store
	mu    sync.Mutex
	got   []url.Values
}

func (f *fakeFlow) HandleMessage(_ context.Context, flowSID string, p url.Values) error {
	f.mu.Lock()
	f.got = append(f.got, p)
	f.mu.Unlock()
	_, err := SendFlowMessage(f.convs, p.Get("To"), p.Get("From"), "flow "+flowSID+" read: "+p.Get("Body"))
	return err
}

// TestWebchatFlowUntilHandoff: with a Webchat Flow a new chat has no
// task; the visitor's messages run the flow with Twilio's chat trigger
// fields, and the flow's messages reach the chat; once a task is attached
// (send-to-flex) the visitor's messages no longer reach the flow.
func TestWebchatFlowUntilHandoff(t *testing.T) {
	tasks := &fakeTasks{}
	convs := conversation.NewStore(0)
	flow := &fakeFlow{convs: convs}
	s := New(Options{Tasks: tasks, Conversations: convs, Flow: flow, FlowSID: "FWchat"})
	c, err := s.Start("Vera")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks.made) != 0 || c.TaskSID != "" {
		t.Fatalf("a task was made before the flow ran: %+v", tasks.made)
	}
	if _, err := s.visitorWrote(context.Background(), c.SID, "Hello"); err != nil {
		t.Fatal(err)
	}
	if len(flow.got) != 1 {
		t.Fatalf("flow got %d messages", len(flow.got))
	}
	p := flow.got[0]
	var attrs map[string]any
	if err := json.Unmarshal([]byte(p.Get("ChannelAttributes")), &attrs); err != nil {
		t.Fatal(err)
	}
	if p.Get("Body") != "Hello" || p.Get("From") != Identity(c.SID) || p.Get("To") != c.SID || p.Get("ChannelSid") != c.SID ||
		p.Get("EventType") != "onMessageSent" || len(p.Get("MessageSid")) != 34 || attrs["channel_type"] != "web" || attrs["from"] != "Vera" {
		t.Errorf("trigger fields %v", p)
	}
	got, _ := s.Get(c.SID)
	if len(got.Messages) != 2 || got.Messages[0].Author != AuthorVisitor || got.Messages[1].Author != AuthorFlow ||
		got.Messages[1].Body != "flow FWchat read: Hello" {
		t.Fatalf("conversation %+v", got.Messages)
	}
	if !IsChat(convs, c.SID) || IsChat(convs, "+15550001111") {
		t.Error("IsChat")
	}
	if !IsVisitor(Identity(c.SID)) || IsVisitor("+15550001111") || IsVisitor("webchat_x") {
		t.Error("IsVisitor")
	}
	if err := convs.Attach(c.SID, "WT1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.visitorWrote(context.Background(), c.SID, "Are you there?"); err != nil {
		t.Fatal(err)
	}
	if len(flow.got) != 1 {
		t.Errorf("a message after the handoff reached the flow")
	}
	if conv, ok := s.ByTask("WT1"); !ok || len(conv.Messages) != 3 {
		t.Errorf("the agent's conversation %+v", conv)
	}
	s.Close(c.SID, "")
	if out, err := SendFlowMessage(convs, c.SID, Identity(c.SID), "late"); err == nil || out["Status"] != "failed" || out["ErrorCode"] != "81011" {
		t.Errorf("a message to a closed chat: %v %v", out, err)
	}
}
