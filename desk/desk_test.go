package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voxgate/voxgate/taskrouter"
	"github.com/voxgate/voxgate/webchat"
)

func post(t *testing.T, url, token string, body any) map[string]any {
	t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(js))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chat-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", url, resp.StatusCode, out)
	}
	return out
}

type pollResult struct {
	Messages []webchat.Message
	Closed   bool
}

func poll(t *testing.T, url, token string, after int) pollResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"?after="+itoa(after), nil)
	req.Header.Set("X-Chat-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out pollResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// waitSnapshot waits for a desktop snapshot satisfying ok.
func waitSnapshot(t *testing.T, s *Session, ok func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		snap, err := s.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if ok(snap) {
			return snap
		}
		select {
		case <-s.Changed():
		case <-deadline:
			t.Fatalf("desktop never showed what was expected; last %+v", snap)
		}
	}
}

// TestWebChatThroughTheDesk: a visitor starts a chat on the widget API;
// it becomes a chat task in the workflow; the agent's desktop shows the
// reservation, accepts it, sees the visitor's message, replies (the
// visitor's long poll gets it) and completes the task (the visitor sees
// the conversation closed). A call task is held at the same time: the
// desktop shows both channels at once.
func TestWebChatThroughTheDesk(t *testing.T) {
	r, err := taskrouter.New(context.Background(), taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids, err := r.EnsureDefaults(taskrouter.Defaults{Agents: []taskrouter.DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"support"}}}})
	if err != nil {
		t.Fatal(err)
	}
	chats := webchat.New(webchat.Options{Tasks: r, WorkflowSID: ids.WorkflowSID, Attributes: map[string]any{"queue": "support"}})
	srv := httptest.NewServer(chats.Handler())
	defer srv.Close()
	d := New(r, chats.Store, ids.WorkspaceSID, ids.Workers, nil)
	s, err := d.Open("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Do(Request{Action: "activity", Activity: "Available"}); err != nil {
		t.Fatal(err)
	}
	call, err := r.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA00000000000000000000000000000009",
		From: "+15551230000", To: "+15550001000", Attributes: `{"queue":"support"}`})
	if err != nil {
		t.Fatal(err)
	}

	conv := post(t, srv.URL+"/webchat/api/conversations", "", map[string]any{"name": "Vera"})
	msgs := srv.URL + "/webchat/api/conversations/" + conv["sid"].(string) + "/messages"
	token := conv["token"].(string)
	post(t, msgs, token, map[string]any{"body": "Hello, my order is late"})

	snap := waitSnapshot(t, s, func(s Snapshot) bool { return len(s.Tasks) == 2 })
	var chat, voice Task
	for _, tk := range snap.Tasks {
		switch tk.Channel {
		case "chat":
			chat = tk
		case "voice":
			voice = tk
		}
	}
	if chat.ReservationStatus != "pending" || chat.Attributes["name"] != "Vera" || chat.Queue != "support" || voice.TaskSID != call.SID {
		t.Fatalf("desktop tasks %+v", snap.Tasks)
	}
	if err := s.Do(Request{Action: "say", ReservationSID: chat.ReservationSID, Body: "too early"}); err == nil {
		t.Error("reply before accepting was allowed")
	}
	if err := s.Do(Request{Action: "accept", ReservationSID: chat.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	snap = waitSnapshot(t, s, func(s Snapshot) bool {
		for _, tk := range s.Tasks {
			if tk.Channel == "chat" && tk.Conversation != nil && len(tk.Conversation.Messages) >= 3 {
				return true
			}
		}
		return false
	})
	if err := s.Do(Request{Action: "say", ReservationSID: chat.ReservationSID, Body: "Let me check that for you"}); err != nil {
		t.Fatal(err)
	}
	got := poll(t, msgs, token, 0)
	var bodies []string
	for _, m := range got.Messages {
		bodies = append(bodies, m.Author+": "+m.Body)
	}
	want := []string{"system: Connecting you with an agent…", "visitor: Hello, my order is late", "system: alice joined the chat", "alice: Let me check that for you"}
	if len(bodies) != len(want) {
		t.Fatalf("visitor sees %q, want %q", bodies, want)
	}
	for i := range want {
		if bodies[i] != want[i] {
			t.Fatalf("visitor sees %q, want %q", bodies, want)
		}
	}
	if err := s.Do(Request{Action: "complete", ReservationSID: chat.ReservationSID}); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, msgs, token, len(want)); !got.Closed {
		t.Error("the visitor's conversation is not closed after complete")
	}
	tv, _ := r.Task(ids.WorkspaceSID, chat.TaskSID)
	if tv.AssignmentStatus != taskrouter.TaskCompleted {
		t.Errorf("chat task %s", tv.AssignmentStatus)
	}
	// The call's reservation is still there to answer.
	snap = waitSnapshot(t, s, func(s Snapshot) bool { return len(s.Tasks) == 1 })
	if snap.Tasks[0].Channel != "voice" || snap.Tasks[0].Attributes["from"] != "+15551230000" {
		t.Errorf("left %+v", snap.Tasks)
	}
	// Accepting the call delivers the assignment to whoever waits on it.
	if err := s.Do(Request{Action: "accept", ReservationSID: snap.Tasks[0].ReservationSID}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := call.Wait(ctx)
	if err != nil || a.To != "client:alice" || a.WorkerSID != ids.Workers["alice"] {
		t.Errorf("call assignment %+v, %v", a, err)
	}
}
