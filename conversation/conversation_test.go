package conversation

import (
	"context"
	"errors"
	"testing"
)

type canceled struct{ reason string }

func (c *canceled) Cancel(reason string) { c.reason = reason }

// TestReplyDeliversFirst: an agent's reply is added only once the
// conversation's Deliver carried it; a refused delivery adds nothing; a
// closed conversation takes no reply; tokens authorize only their
// conversation; forgetting an open conversation cancels its task.
func TestReplyDeliversFirst(t *testing.T) {
	s := NewStore(2)
	var delivered []string
	fail := false
	deliver := func(_ context.Context, author, body string) error {
		if fail {
			return errors.New("the SMSC refused it")
		}
		delivered = append(delivered, author+": "+body)
		return nil
	}
	task := &canceled{}
	if err := s.Open(Params{SID: "CH1", Channel: "sms", TaskSID: "WT1", Task: task, Deliver: deliver}); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(Params{SID: "CH1"}); err == nil {
		t.Error("a second conversation with the same SID was opened")
	}
	ctx := context.Background()
	if _, err := s.Reply(ctx, "CH1", "alice", "hello"); err != nil || len(delivered) != 1 || delivered[0] != "alice: hello" {
		t.Fatalf("reply: %v, delivered %q", err, delivered)
	}
	fail = true
	if _, err := s.Reply(ctx, "CH1", "alice", "lost?"); err == nil {
		t.Error("a refused delivery was accepted")
	}
	if c, _ := s.ByTask("WT1"); len(c.Messages) != 1 {
		t.Errorf("messages %+v, want only the delivered reply", c.Messages)
	}
	if s.Authorized("CH1", "") {
		t.Error("a conversation without a token authorized someone")
	}
	s.Close("CH1", "bye")
	if _, err := s.Reply(ctx, "CH1", "alice", "late"); !errors.Is(err, ErrClosed) || s.IsOpen("CH1") {
		t.Errorf("reply after close: %v", err)
	}
	_ = s.Open(Params{SID: "CH2", Token: "secret", Task: task})
	if !s.Authorized("CH2", "secret") || s.Authorized("CH2", "wrong") || s.Authorized("CH1", "secret") {
		t.Error("tokens")
	}
	_ = s.Open(Params{SID: "CH3"}) // forgets the closed CH1
	if task.reason != "" {
		t.Errorf("a closed conversation's task was canceled: %q", task.reason)
	}
	_ = s.Open(Params{SID: "CH4"}) // forgets CH2, open: its task is canceled
	if task.reason == "" || s.IsOpen("CH2") {
		t.Errorf("forgetting an open conversation: task reason %q", task.reason)
	}
}
