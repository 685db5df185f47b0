package main

import (
	"context"
	"testing"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/studio"
	"github.com/voxgate/voxgate/webchat"
)

type recordingSMS struct{ sent []studio.OutgoingMessage }

func (r *recordingSMS) SendMessage(_ context.Context, m studio.OutgoingMessage) (map[string]any, error) {
	r.sent = append(r.sent, m)
	return map[string]any{"Sid": "SM1", "Status": "queued"}, nil
}

// TestChannelMessenger: a widget's message goes to the web chat it
// belongs to, to SMS otherwise, and never to SMS for a visitor whose chat
// is gone (81011).
func TestChannelMessenger(t *testing.T) {
	ctx := context.Background()
	convs := conversation.NewStore(0)
	const chat = "CH0123456789abcdef0123456789abcdef"
	if err := convs.Open(conversation.Params{SID: chat, Channel: "chat", Name: "Vera"}); err != nil {
		t.Fatal(err)
	}
	sms := &recordingSMS{}
	m := channelMessenger{sms: sms, convs: convs}
	if out, err := m.SendMessage(ctx, studio.OutgoingMessage{From: chat, To: webchat.Identity(chat), Body: "hi"}); err != nil || out["Status"] != "sent" {
		t.Fatalf("to the chat: %v %v", out, err)
	}
	if c, _ := convs.Get(chat); len(c.Messages) != 1 || c.Messages[0].Author != webchat.AuthorFlow {
		t.Errorf("chat %+v", c.Messages)
	}
	if _, err := m.SendMessage(ctx, studio.OutgoingMessage{From: "+15557654321", To: "+15550001111", Body: "sms"}); err != nil || len(sms.sent) != 1 {
		t.Fatalf("sms: %v %+v", err, sms.sent)
	}
	gone := "CHffffffffffffffffffffffffffffffff"
	out, err := m.SendMessage(ctx, studio.OutgoingMessage{From: gone, To: webchat.Identity(gone), Body: "late"})
	if err == nil || out["ErrorCode"] != "81011" || len(sms.sent) != 1 {
		t.Errorf("a gone chat: %v %v, sms %+v", out, err, sms.sent)
	}
}
