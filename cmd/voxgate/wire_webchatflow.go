package main

import (
	"context"
	"strings"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/webchat"
)

// chatFlow is the Studio "Webchat Flow" new web chats run first
// (webchat.flow); a zero chatFlow routes chats straight into TaskRouter.
type chatFlow struct {
	runner webchat.FlowRunner
	sid    string
}

// webchatFlow is the configured Webchat Flow: a flow file loaded with the
// numbers' flows, or the SID of a flow made with /v2/Flows.
func (g *gateway) webchatFlow() chatFlow {
	f := g.cfg.WebChat.Flow
	switch {
	case f == "":
		return chatFlow{}
	case isFlowSID(f):
		return chatFlow{runner: g.flows, sid: f}
	default:
		return chatFlow{runner: g.flows, sid: g.flowSIDs[f]}
	}
}

// isFlowSID reports whether a webchat.flow value names a flow by SID
// rather than by file (config validation refuses a malformed FW… value).
func isFlowSID(f string) bool { return strings.HasPrefix(f, "FW") && len(f) == 34 }

// channelMessenger sends a Studio widget's message on its channel: to
// the web chat when the flow's channel address (the widget's from) is a
// chat conversation or the widget writes to a visitor, else as SMS
// through the messaging engine. A chat that is gone (closed, forgotten,
// or lost in a restart while its execution waited for a reply) fails the
// widget with 81011; nothing goes out as SMS.
type channelMessenger struct {
	sms   studio.MessageSender
	convs *conversation.Store
}

// SendMessage implements studio.MessageSender.
func (c channelMessenger) SendMessage(ctx context.Context, m studio.OutgoingMessage) (map[string]any, error) {
	if webchat.IsChat(c.convs, m.From) || webchat.IsVisitor(m.To) {
		return webchat.SendFlowMessage(c.convs, m.From, m.To, m.Body)
	}
	return c.sms.SendMessage(ctx, m)
}
