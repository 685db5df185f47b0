package webchat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/taskrouter"
)

type fakeTasks struct{ made []taskrouter.ContactParams }

func (f *fakeTasks) CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error) {
	f.made = append(f.made, p)
	return &taskrouter.ContactTask{SID: "WT" + strings.Repeat("0", 31) + string(rune('0'+len(f.made)))}, nil
}

// TestConversationRules: a chat makes one chat task with the visitor's
// facts; a wrong token sees nothing; limits and closing are enforced;
// old conversations are forgotten beyond the limit, closed ones first.
func TestConversationRules(t *testing.T) {
	tasks := &fakeTasks{}
	s := New(Options{Tasks: tasks, WorkflowSID: "WW1", Attributes: map[string]any{"queue": "support"}, MaxConversations: 2})
	c, err := s.Start("Vera")
	if err != nil {
		t.Fatal(err)
	}
	p := tasks.made[0]
	if p.Channel != "chat" || p.WorkflowSID != "WW1" || p.Facts["conversation_sid"] != c.SID || p.Facts["queue"] != "support" || p.Live != "chat "+c.SID {
		t.Errorf("task params %+v", p)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/webchat/api/conversations/"+c.SID+"/messages", nil)
	req.Header.Set("X-Chat-Token", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if _, err := s.Post(c.SID, "visitor", strings.Repeat("x", MaxBody+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("long body: %v", err)
	}
	s.Close(c.SID, "bye")
	if _, err := s.Post(c.SID, "visitor", "hello?"); !errors.Is(err, ErrClosed) {
		t.Errorf("post after close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := s.MessagesAfter(ctx, c.SID, 0)
	if err != nil || !got.Closed || got.Messages[len(got.Messages)-1].Body != "bye" {
		t.Errorf("closed conversation %+v, %v", got, err)
	}
	open1, _ := s.Start("A")
	if _, err := s.Start("B"); err != nil { // evicts the closed one, keeps A
		t.Fatal(err)
	}
	if _, ok := s.ByTask(c.TaskSID); ok {
		t.Error("the closed conversation was kept over the limit")
	}
	if _, ok := s.ByTask(open1.TaskSID); !ok {
		t.Error("an open conversation was evicted before a closed one")
	}
}
