package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/smsdesk"
	"github.com/voxgate/voxgate/store"
)

// deskParts are the conversations the agent desktop shows (web chats and
// SMS conversations handed to Flex) and the SMS side of them: Studio's
// send-to-flex handoff and the routing of a contact's messages to an open
// conversation.
type deskParts struct {
	convs *conversation.Store
	sms   *smsdesk.Service
}

// newDeskParts is made before the Studio executor (whose send-to-flex it
// serves); agents' replies go out through messenger's engine, which
// exists by the time anyone replies.
func newDeskParts(tr taskRouting, messenger *flowMessenger, log *slog.Logger) deskParts {
	convs := conversation.NewStore(0)
	if cw, ok := tr.(*clusterWiring); ok {
		convs = cw.convs // the leader's desktop shows them
	}
	return deskParts{convs: convs, sms: smsdesk.New(smsdesk.Options{
		Tasks: tr, Sender: messengerSender{messenger}, Conversations: convs, Logger: log.With("component", "smsdesk"),
	})}
}

// messengerSender sends agents' SMS replies through the messaging engine.
type messengerSender struct{ m *flowMessenger }

func (s messengerSender) Send(ctx context.Context, r messaging.SendRequest) (store.Message, error) {
	if s.m.svc == nil {
		return store.Message{}, errors.New("messaging is not running")
	}
	return s.m.svc.Send(ctx, r)
}
