package smsdesk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/desk"
	"github.com/voxgate/voxgate/smsdesk"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/webchat"
)

// webchatFlow is a Flex-style Webchat Flow: it asks the visitor a
// question, routes by the answer (sales or support) and sends the chat
// to Flex with the queue chosen (e2e/taskrouter_webchatflow_test.go has
// the same flow for the real binary).
func webchatFlow(t *testing.T, workflow string) *studio.Flow {
	f, err := studio.Parse([]byte(webchatFlowJSON(workflow)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func webchatFlowJSON(workflow string) string {
	flex := func(name, queue string) string {
		return `{"name": "` + name + `", "type": "send-to-flex", "properties": {"workflow": "` + workflow + `", "channel": "TC00000000000000000000000000000000",
	    "attributes": "{\"queue\": \"` + queue + `\", \"name\": \"{{trigger.message.ChannelAttributes.from}}\", \"question\": \"{{trigger.message.Body}}\", \"answer\": \"{{widgets.ask.inbound.Body}}\", \"channelSid\": \"{{trigger.message.ChannelSid}}\"}"},
	   "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue", "next": "sorry"}, {"event": "callFailure"}]}`
	}
	return `{"description": "Webchat Flow", "initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
	   "transitions": [{"event": "incomingMessage", "next": "ask"}, {"event": "incomingCall"}, {"event": "incomingRequest"}]},
	  {"name": "ask", "type": "send-and-wait-for-reply", "properties": {"body": "Hi {{trigger.message.ChannelAttributes.from}}! Is it about sales or support?", "timeout": "600"},
	   "transitions": [{"event": "incomingMessage", "next": "route"}, {"event": "timeout"}, {"event": "deliveryFailure"}]},
	  {"name": "route", "type": "split-based-on", "properties": {"input": "{{widgets.ask.inbound.Body | downcase}}"},
	   "transitions": [{"event": "noMatch", "next": "to_support"},
	     {"event": "match", "next": "to_sales", "conditions": [{"friendly_name": "sales", "arguments": ["{{widgets.ask.inbound.Body | downcase}}"], "type": "contains", "value": "sales"}]}]},
	  {"name": "to_sales", "type": "send-message", "properties": {"body": "Connecting you to sales."},
	   "transitions": [{"event": "sent", "next": "flex_sales"}, {"event": "failed"}]},
	  {"name": "to_support", "type": "send-message", "properties": {"body": "Connecting you to support."},
	   "transitions": [{"event": "sent", "next": "flex_support"}, {"event": "failed"}]},
	  ` + flex("flex_sales", "sales") + `,
	  ` + flex("flex_support", "support") + `,
	  {"name": "sorry", "type": "send-message", "properties": {"body": "No agents right now."}, "transitions": [{"event": "sent"}, {"event": "failed"}]}
	]}`
}

// chatMessenger sends widgets' messages to the web chat they belong to,
// else as SMS (what the gateway's composition root does).
type chatMessenger struct {
	sms   studio.MessageSender
	convs *conversation.Store
}

func (c chatMessenger) SendMessage(ctx context.Context, m studio.OutgoingMessage) (map[string]any, error) {
	if webchat.IsChat(c.convs, m.From) {
		return webchat.SendFlowMessage(c.convs, m.From, m.To, m.Body)
	}
	return c.sms.SendMessage(ctx, m)
}

// TestWebchatFlowHandsChatToTheDesk: with a Webchat Flow, a visitor's
// first message starts a Studio execution (trigger.message from the chat);
// the flow's question reaches the chat, the visitor's answer resumes the
// waiting execution and the split routes it; send-to-flex attaches a
// chat task (queue from the answer, channelType web) to the conversation
// and ends the execution; the agent's desktop shows the whole chat and
// the agent's reply reaches it; the visitor's next message is the
// agent's, not the flow's; completing the task closes the chat.
func TestWebchatFlowHandsChatToTheDesk(t *testing.T) {
	ctx := context.Background()
	r, err := taskrouter.New(ctx, taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"sales"}}}})
	if err != nil {
		t.Fatal(err)
	}
	convs := conversation.NewStore(0)
	sender := &smsSender{}
	sms := smsdesk.New(smsdesk.Options{Tasks: r, Sender: sender, Conversations: convs})
	defer sms.Close()
	flows := studio.NewMemoryFlows()
	flows.Put("FWchat", webchatFlow(t, ids.WorkflowSID))
	x := studio.NewExecutor(studio.Options{Flows: flows, Messages: chatMessenger{sms: sender, convs: convs}, Handoff: sms})
	defer x.Close()
	chats := webchat.New(webchat.Options{Tasks: r, Conversations: convs, Flow: x, FlowSID: "FWchat"})

	d := desk.New(r, convs, ids.WorkspaceSID, ids.Workers, nil)
	agent, err := d.Open("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if err := agent.Do(desk.Request{Action: "activity", Activity: "Available"}); err != nil {
		t.Fatal(err)
	}

	srv := newChatClient(t, chats, "Vera")
	convSID := srv.sid
	visitor := webchat.Identity(convSID)
	srv.write("Hello, I have a question")
	exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: visitor})
	if len(exs) != 1 || exs[0].Status != studio.StatusActive {
		t.Fatalf("executions %+v", exs)
	}
	srv.write("Sales, please")
	exs, _ = x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: visitor})
	if len(exs) != 1 || exs[0].Status != studio.StatusEnded {
		t.Fatalf("executions after the answer %+v", exs)
	}
	snap := waitDesk(t, agent, "the chat reservation", func(s desk.Snapshot) bool { return len(s.Tasks) == 1 })
	task := snap.Tasks[0]
	at := task.Attributes
	if task.Channel != "chat" || task.Queue != "sales" || at["channelType"] != "web" || at["conversation_sid"] != convSID ||
		at["channelSid"] != convSID || at["name"] != "Vera" || at["from"] != visitor || at["to"] != convSID ||
		at["question"] != "Hello, I have a question" || at["answer"] != "Sales, please" {
		t.Fatalf("task %+v", task)
	}
	if err := agent.Do(desk.Request{Action: "accept", ReservationSID: task.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	if err := agent.Do(desk.Request{Action: "say", ReservationSID: task.ReservationSID, Body: "Hi Vera, Alice from sales"}); err != nil {
		t.Fatal(err)
	}
	srv.write("Great, thanks")
	want := []string{"visitor: Hello, I have a question", "bot: Hi Vera! Is it about sales or support?", "visitor: Sales, please",
		"bot: Connecting you to sales.", "system: alice joined the chat", "alice: Hi Vera, Alice from sales", "visitor: Great, thanks"}
	snap = waitDesk(t, agent, "the whole chat", func(s desk.Snapshot) bool {
		return len(s.Tasks) == 1 && s.Tasks[0].Conversation != nil && len(s.Tasks[0].Conversation.Messages) == len(want)
	})
	var lines []string
	for _, m := range snap.Tasks[0].Conversation.Messages {
		lines = append(lines, m.Author+": "+m.Body)
	}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("conversation %q\nwant %q", lines, want)
	}
	if exs, _ := x.Store().Executions(ctx, studio.ExecutionFilter{ContactAddress: visitor}); len(exs) != 1 {
		t.Errorf("the visitor's message to the agent started %d executions", len(exs)-1)
	}
	if len(sender.all()) != 0 {
		t.Errorf("a web chat message went out as SMS: %+v", sender.all())
	}
	if err := agent.Do(desk.Request{Action: "complete", ReservationSID: task.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := convs.Get(convSID); !got.Closed {
		t.Error("the chat stayed open after the task completed")
	}
}

// chatClient is a visitor on the /webchat API.
type chatClient struct {
	t          *testing.T
	base       string
	sid, token string
}

func newChatClient(t *testing.T, chats *webchat.Service, name string) *chatClient {
	srv := httptest.NewServer(chats.Handler())
	t.Cleanup(srv.Close)
	c := &chatClient{t: t, base: srv.URL + "/webchat/api/conversations"}
	var out struct{ Sid, Token string }
	c.do(c.base, map[string]string{"name": name}, &out)
	c.sid, c.token = out.Sid, out.Token
	return c
}

func (c *chatClient) write(body string) {
	c.do(c.base+"/"+c.sid+"/messages", map[string]string{"body": body}, nil)
}

func (c *chatClient) do(url string, in any, out any) {
	c.t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("X-Chat-Token", c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatal(err)
		}
	}
}
