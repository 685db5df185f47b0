// Package smsdesk carries SMS conversations that a Studio messaging flow
// hands to Flex (send-to-flex) to the agent desktop and back; it also
// hands web chats that a Studio Webchat Flow sends to Flex to TaskRouter
// as chat tasks (channelType "web": the conversation already exists in
// the conversation.Store, package webchat carries its messages).
//
// Service.CreateTask (studio.ConversationHandoff) creates an "sms" task
// through the widget's workflow with the widget's attributes plus
// channelType "sms", from (the contact), to (our number), name and
// conversation_sid, and opens the task's conversation in a
// conversation.Store, which the desktop shows; the message that brought
// the contact there starts it. While the conversation is open, the
// contact's messages to that number go to it (Service.Route wraps the
// flow runner of package messaging) instead of to the flow; the agent's
// replies are sent as SMS from that number (messaging.Service.Send,
// stored like any other outbound message). When the task is completed,
// wrapped or canceled the conversation closes, and the contact's next
// message starts the flow again.
//
// Conversations live in memory: a restart cancels their tasks
// (taskrouter's Live binding) and the next message starts the flow.
package smsdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// AuthorContact is the author of the contact's messages in a conversation.
const AuthorContact = "contact"

// Tasks is what smsdesk needs from TaskRouter (*taskrouter.Router).
type Tasks interface {
	CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error)
	Task(workspaceSID, taskSID string) (taskrouter.TaskView, error)
}

// Sender sends SMS (*messaging.Service).
type Sender interface {
	Send(ctx context.Context, r messaging.SendRequest) (store.Message, error)
}

// Options configure a Service.
type Options struct {
	Tasks         Tasks
	Sender        Sender
	Conversations *conversation.Store
	Logger        *slog.Logger
}

// Service hands SMS conversations to TaskRouter and routes their
// messages. Close stops the goroutines that follow its tasks.
type Service struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per open conversation, following its task

	mu     sync.Mutex
	active map[string]string // contact key → conversation SID
}

// New makes a Service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, active: map[string]string{}}
}

// Close stops following tasks; conversations stay as they are.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// key identifies a contact writing to one of our numbers.
func key(contact, number string) string {
	return digits(contact) + ">" + digits(number)
}

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	if b.Len() == 0 {
		return strings.ToLower(s) // an alphanumeric sender
	}
	return b.String()
}

type inboundKey struct{}

// withInbound carries the inbound message that runs a flow to CreateTask.
func withInbound(ctx context.Context, params url.Values) context.Context {
	return context.WithValue(ctx, inboundKey{}, params)
}

// CreateTask implements studio.ConversationHandoff: it creates the sms
// task through workflowSID and opens its conversation. channel is the
// widget's task channel; the task's channel is always "sms".
func (s *Service) CreateTask(ctx context.Context, workflowSID, channel string, attributes map[string]any, priority, timeout int) (map[string]any, error) {
	from, _ := attributes["from"].(string)
	to, _ := attributes["to"].(string)
	if from == "" || to == "" {
		return nil, errors.New("smsdesk: the conversation has no contact or number")
	}
	if attributes["channelType"] == ChannelTypeWeb {
		return s.createChatTask(workflowSID, channel, attributes, priority, timeout)
	}
	convSID := sid.New("CH")
	facts := map[string]any{"channelType": "sms", "conversation_sid": convSID, "name": from}
	for k, v := range attributes {
		facts[k] = v
	}
	ct, err := s.createContactTask(workflowSID, "sms", convSID, facts, priority, timeout)
	if err != nil {
		return nil, err
	}
	log := s.log.With("conversation_sid", convSID, "task_sid", ct.SID, "from", from, "to", to)
	name, _ := facts["name"].(string)
	err = s.opts.Conversations.Open(conversation.Params{SID: convSID, Channel: "sms", Name: name, TaskSID: ct.SID, Task: ct,
		Deliver: s.deliverer(from, to, log)})
	if err != nil {
		ct.Cancel("SMS conversation not opened")
		return nil, fmt.Errorf("smsdesk: %w", err)
	}
	if in, ok := ctx.Value(inboundKey{}).(url.Values); ok && digits(in.Get("From")) == digits(from) {
		s.postInbound(convSID, in, log)
	}
	s.mu.Lock()
	s.active[key(from, to)] = convSID
	s.mu.Unlock()
	s.wg.Add(1)
	go s.follow(ct, convSID, from, to, "The task ended: the contact's next message starts the flow again.", log)
	log.Info("smsdesk: conversation handed to Flex", "workflow_sid", workflowSID, "widget_channel", channel)
	return s.taskOutputs(ct), nil
}

// ChannelTypeWeb is the channelType of a web chat (package webchat) in
// a Studio Webchat Flow.
const ChannelTypeWeb = "web"

// createChatTask hands an open web chat whose Studio flow reached
// send-to-flex to TaskRouter: a "chat" task with the widget's attributes
// plus channelType "web", conversation_sid and name, attached to the
// conversation (attributes "to" is its SID, "from" the visitor's
// identity). The chat is then the agent's: the visitor's messages go to
// it, not to the flow, and the task's end closes it.
func (s *Service) createChatTask(workflowSID, channel string, attributes map[string]any, priority, timeout int) (map[string]any, error) {
	convSID, _ := attributes["to"].(string)
	conv, ok := s.opts.Conversations.Get(convSID)
	if !ok || conv.Closed {
		return nil, fmt.Errorf("smsdesk: web chat %q is not open", convSID)
	}
	facts := map[string]any{"conversation_sid": convSID, "name": conv.Name}
	for k, v := range attributes {
		facts[k] = v
	}
	ct, err := s.createContactTask(workflowSID, "chat", convSID, facts, priority, timeout)
	if err != nil {
		return nil, err
	}
	log := s.log.With("conversation_sid", convSID, "task_sid", ct.SID, "from", attributes["from"])
	if err := s.opts.Conversations.Attach(convSID, ct.SID, ct); err != nil {
		ct.Cancel("web chat not attached")
		return nil, fmt.Errorf("smsdesk: %w", err)
	}
	s.wg.Add(1)
	go s.follow(ct, convSID, "", "", "The chat has ended.", log)
	log.Info("smsdesk: web chat handed to Flex", "workflow_sid", workflowSID, "widget_channel", channel)
	return s.taskOutputs(ct), nil
}

// createContactTask creates a conversation's task on channel ("sms",
// "chat") through workflowSID, bound to the conversation (a restart
// cancels it).
func (s *Service) createContactTask(workflowSID, channel, convSID string, facts map[string]any, priority, timeout int) (*taskrouter.ContactTask, error) {
	p := taskrouter.ContactParams{WorkflowSID: strings.TrimSpace(workflowSID), Channel: channel, Facts: facts, Timeout: timeout, Live: channel + " " + convSID}
	if priority > 0 {
		p.Priority = &priority
	}
	ct, err := s.opts.Tasks.CreateContactTask(p)
	if err != nil {
		return nil, fmt.Errorf("smsdesk: creating the %s task: %w", channel, err)
	}
	return ct, nil
}

// taskOutputs are the widget's outputs: the task's fields.
func (s *Service) taskOutputs(ct *taskrouter.ContactTask) map[string]any {
	out := map[string]any{"sid": ct.SID, "workspace_sid": ct.WorkspaceSID}
	t, err := s.opts.Tasks.Task(ct.WorkspaceSID, ct.SID)
	if err != nil {
		return out
	}
	for k, v := range map[string]any{
		"assignment_status": t.AssignmentStatus, "attributes": t.Attributes, "priority": t.Priority, "timeout": t.Timeout,
		"reason": t.Reason, "age": t.Age, "workflow_sid": t.WorkflowSID, "workflow_friendly_name": t.WorkflowName,
		"task_queue_sid": t.TaskQueueSID, "task_queue_friendly_name": t.QueueName,
		"task_channel_sid": t.TaskChannelSID, "task_channel_unique_name": t.TaskChannelUniqueName,
	} {
		out[k] = v
	}
	return out
}

// deliverer sends an agent's reply to the contact from our number.
func (s *Service) deliverer(contact, number string, log *slog.Logger) func(ctx context.Context, author, body string) error {
	return func(ctx context.Context, author, body string) error {
		m, err := s.opts.Sender.Send(ctx, messaging.SendRequest{From: number, To: contact, Body: body})
		if err != nil {
			log.Warn("smsdesk: the agent's reply was not sent", "agent", author, "error", err)
			return err
		}
		log.Info("smsdesk: agent replied", "agent", author, "message_sid", m.SID)
		return nil
	}
}

// follow closes the conversation when its task ends (completed or
// canceled) and stops routing the contact's messages to it.
func (s *Service) follow(ct *taskrouter.ContactTask, convSID, contact, number, note string, log *slog.Logger) {
	defer s.wg.Done()
	for {
		_, err := ct.Wait(s.ctx)
		if err == nil {
			continue // accepted: wait for the end
		}
		if !errors.Is(err, taskrouter.ErrTaskEnded) {
			return // Close
		}
		log.Info("smsdesk: conversation over", "reason", err)
		s.opts.Conversations.Close(convSID, note)
		s.mu.Lock()
		if s.active[key(contact, number)] == convSID {
			delete(s.active, key(contact, number))
		}
		s.mu.Unlock()
		return
	}
}

// postInbound adds a contact's message to the conversation.
func (s *Service) postInbound(convSID string, params url.Values, log *slog.Logger) bool {
	body := params.Get("Body")
	if n := params.Get("NumMedia"); n != "" && n != "0" {
		body = strings.TrimSpace(body + " [" + n + " media]")
	}
	if _, err := s.opts.Conversations.Post(convSID, AuthorContact, body); err != nil {
		log.Warn("smsdesk: the contact's message was not added to the conversation", "message_sid", params.Get("MessageSid"), "error", err)
		return !errors.Is(err, conversation.ErrClosed) && !errors.Is(err, conversation.ErrNoConversation)
	}
	log.Info("smsdesk: contact's message added to the conversation", "message_sid", params.Get("MessageSid"))
	return true
}

// Route wraps the flow runner of the messaging engine: a contact's
// message to a number whose conversation with them is open on the desk
// goes to that conversation; every other message goes to next (and is
// remembered on the context, so that a send-to-flex it leads to starts
// the conversation with it).
func (s *Service) Route(next messaging.FlowRunner) messaging.FlowRunner {
	return router{s: s, next: next}
}

type router struct {
	s    *Service
	next messaging.FlowRunner
}

func (r router) HandleMessage(ctx context.Context, flowSID string, params url.Values) error {
	s := r.s
	k := key(params.Get("From"), params.Get("To"))
	s.mu.Lock()
	convSID, ok := s.active[k]
	s.mu.Unlock()
	if ok {
		log := s.log.With("conversation_sid", convSID, "from", params.Get("From"), "to", params.Get("To"))
		if s.opts.Conversations.IsOpen(convSID) && s.postInbound(convSID, params, log) {
			return nil
		}
		s.mu.Lock()
		if s.active[k] == convSID {
			delete(s.active, k)
		}
		s.mu.Unlock()
	}
	return r.next.HandleMessage(withInbound(ctx, params), flowSID, params)
}
