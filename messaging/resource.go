package messaging

import (
	"context"

	"github.com/voxgate/voxgate/store"
)

// The REST API's view of the Message resource (messaging.md §3).

// Get returns a message (an *Error 20404 when absent).
func (s *Service) Get(ctx context.Context, sid string) (store.Message, error) {
	m, err := s.store.GetMessage(ctx, sid)
	if isNotFound(err) {
		return store.Message{}, &Error{Status: 404, Code: CodeNotFound, Message: "The requested resource was not found: Message " + sid}
	}
	return m, err
}

// List returns one page of messages, newest first.
func (s *Service) List(ctx context.Context, f store.MessageFilter, p store.Page) ([]store.Message, store.PageToken, error) {
	f.AccountSID = s.opts.AccountSID
	return s.store.ListMessages(ctx, f, p)
}

// complete reports whether a message's body may be redacted or the message
// deleted: it will not change any more.
func complete(m store.Message) bool {
	switch m.Status {
	case store.MessageSent, store.MessageDelivered, store.MessageUndelivered, store.MessageFailed,
		store.MessageReceived, store.MessageCanceled:
		return true
	}
	return false
}

// Redact empties a complete message's body (Body="" in an update).
func (s *Service) Redact(ctx context.Context, sid string) (store.Message, error) {
	m, err := s.Get(ctx, sid)
	if err != nil {
		return m, err
	}
	if !complete(m) {
		return m, badRequest(CodeNotCancelable, "Message %s is %s: only a complete message can be redacted", sid, m.Status)
	}
	if err := s.store.SetMessageBody(ctx, sid, ""); err != nil {
		return m, err
	}
	return s.Get(ctx, sid)
}

// Cancel cancels a scheduled message; nothing else can be (30409).
func (s *Service) Cancel(ctx context.Context, sid string) (store.Message, error) {
	m, err := s.Get(ctx, sid)
	if err != nil {
		return m, err
	}
	if m.Status != "scheduled" && m.Status != "accepted" {
		return m, badRequest(CodeNotCancelable, "Message %s is %s: it is not in a cancelable state", sid, m.Status)
	}
	if _, err := s.store.AdvanceMessage(ctx, sid, store.MessageCanceled, 0, "", ""); err != nil {
		return m, err
	}
	return s.Get(ctx, sid)
}

// Delete removes a complete message (20009 otherwise).
func (s *Service) Delete(ctx context.Context, sid string) error {
	m, err := s.Get(ctx, sid)
	if err != nil {
		return err
	}
	if !complete(m) {
		return badRequest(CodeNotDeletable, "Cannot delete message %s while it is %s", sid, m.Status)
	}
	return s.store.DeleteMessage(ctx, sid)
}
