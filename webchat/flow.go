package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/sid"
)

// A Studio "Webchat Flow" (Options.FlowSID), as on Flex: a new chat has
// no task; every message the visitor writes runs the flow (Studio's
// incomingMessage trigger, or the reply a send-and-wait-for-reply waits
// for), whose send-message and send-and-wait-for-reply widgets write to
// the chat (SendFlowMessage) and whose send-to-flex attaches a chat task
// to it (package smsdesk). Once the chat has a task, the visitor's
// messages are the agent's and no longer reach the flow.
//
// The flow sees the message as Twilio's chat trigger does:
// trigger.message.Body, From (the visitor's identity, also
// contact.channel.address), To and ChannelSid (the conversation SID, also
// flow.channel.address), MessageSid (IM…), Index, EventType
// onMessageSent, Source SDK, ClientIdentity, and ChannelAttributes
// {from: the visitor's name, channel_type: "web", status: "ACTIVE",
// long_lived: false, pre_engagement_data: {friendlyName}}.

// FlowRunner runs a Studio flow for an inbound message (*studio.Executor).
type FlowRunner interface {
	HandleMessage(ctx context.Context, flowSID string, params url.Values) error
}

// Authors of a web chat's lines besides agents and the system.
const (
	AuthorVisitor = "visitor"
	AuthorFlow    = "bot" // the Studio flow's send-message widgets
)

// flowRunTimeout bounds one visitor message's run through the flow (its
// HTTP and Function widgets); a run parked on send-and-wait-for-reply
// returns at once.
const flowRunTimeout = 60 * time.Second

// Identity is the visitor's identity in a chat's flow (trigger.message.From,
// contact.channel.address): one per conversation.
func Identity(convSID string) string {
	return "webchat_" + strings.TrimPrefix(convSID, "CH")
}

// startInFlow opens a chat that starts in the Webchat Flow: no task yet.
func (s *Service) startInFlow(c Started, name string) (Started, error) {
	if err := s.Open(conversation.Params{SID: c.SID, Channel: "chat", Name: name, Token: c.token}); err != nil {
		return Started{}, err
	}
	s.log.Info("webchat: conversation started in the Webchat Flow", "conversation_sid", c.SID, "flow_sid", s.opts.FlowSID)
	return c, nil
}

// visitorWrote adds the visitor's message and, while the chat has no
// task, runs the flow with it (one message at a time per chat).
func (s *Service) visitorWrote(ctx context.Context, convSID, body string) (Message, error) {
	if s.opts.FlowSID == "" {
		return s.Post(convSID, AuthorVisitor, body)
	}
	unlock := s.locks.lock(convSID)
	defer unlock()
	m, err := s.Post(convSID, AuthorVisitor, body)
	if err != nil {
		return m, err
	}
	c, ok := s.Get(convSID)
	if !ok || c.Closed || c.TaskSID != "" {
		return m, nil // an agent's chat now
	}
	params := flowParams(c, m)
	log := s.log.With("conversation_sid", convSID, "flow_sid", s.opts.FlowSID, "message_sid", params.Get("MessageSid"))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flowRunTimeout)
	defer cancel()
	if err := s.opts.Flow.HandleMessage(ctx, s.opts.FlowSID, params); err != nil {
		log.Warn("webchat: the Webchat Flow did not take the message", "error", err)
		_, _ = s.Post(convSID, conversation.AuthorSystem, "Sorry, the chat is not available right now.")
		return m, nil
	}
	log.Info("webchat: visitor's message given to the Webchat Flow")
	return m, nil
}

// flowParams are the trigger.message fields of a visitor's message.
func flowParams(c Conversation, m Message) url.Values {
	attrs, _ := json.Marshal(map[string]any{
		"from": c.Name, "channel_type": "web", "status": "ACTIVE", "long_lived": false,
		"pre_engagement_data": map[string]any{"friendlyName": c.Name},
	})
	identity := Identity(c.SID)
	return url.Values{
		"Body": {m.Body}, "From": {identity}, "To": {c.SID}, "ChannelSid": {c.SID},
		"MessageSid": {sid.New("IM")}, "Index": {strconv.Itoa(m.Index)}, "EventType": {"onMessageSent"},
		"Source": {"SDK"}, "ClientIdentity": {identity}, "ChannelAttributes": {string(attrs)},
	}
}

// IsVisitor reports whether address is a web chat visitor's identity
// (see Identity).
func IsVisitor(address string) bool {
	return strings.HasPrefix(address, "webchat_") && sid.Valid("CH", "CH"+strings.TrimPrefix(address, "webchat_"))
}

// IsChat reports whether a flow's channel address (flow.channel.address,
// a send-message widget's from) is an open web chat in convs.
func IsChat(convs *conversation.Store, address string) bool {
	c, ok := convs.Get(address)
	return ok && c.Channel == "chat" && !c.Closed
}

// SendFlowMessage writes a Studio widget's message to the web chat from
// (the conversation SID) as AuthorFlow, and returns the widget's
// outbound.* outputs; a refused message (the chat closed, too long) gives
// an error with Status failed and ErrorCode 81011 (Studio's "could not
// send").
func SendFlowMessage(convs *conversation.Store, from, to, body string) (map[string]any, error) {
	out := map[string]any{"From": from, "To": to, "Body": body, "Direction": "outbound-api", "NumMedia": "0", "NumSegments": "1"}
	m, err := convs.Post(from, AuthorFlow, body)
	if err != nil {
		out["Status"], out["ErrorCode"], out["ErrorMessage"] = "failed", "81011", err.Error()
		return out, fmt.Errorf("webchat %s: %w", from, err)
	}
	out["Sid"], out["Status"], out["Index"] = sid.New("IM"), "sent", m.Index
	return out, nil
}

// keyedLock serializes work per key; entries go when unused.
type keyedLock struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu    sync.Mutex
	users int
}

func (k *keyedLock) lock(key string) (unlock func()) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.users--; e.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
