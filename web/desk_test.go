package web

import (
	"errors"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/queue"
)

// fakeDesk records the desktop requests the page's messages become.
type fakeDesk struct {
	mu   sync.Mutex
	reqs []string
}

func (d *fakeDesk) Open(agentID string) (DeskSession, error) { return &fakeDeskSession{d: d}, nil }

type fakeDeskSession struct{ d *fakeDesk }

func (s *fakeDeskSession) Changed() <-chan struct{} { return nil }
func (s *fakeDeskSession) Snapshot() (any, error)   { return map[string]any{"type": "desk"}, nil }
func (s *fakeDeskSession) Close()                   {}
func (s *fakeDeskSession) record(r string) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.reqs = append(s.d.reqs, r)
}
func (s *fakeDeskSession) Do(action, reservationSID, body, activity string) error {
	s.record("do " + action + " " + reservationSID + " " + activity)
	return nil
}
func (s *fakeDeskSession) Call(action, taskSID, target string) error {
	s.record("call " + action + " " + taskSID + " " + target)
	if target == "refused" {
		return errors.New("not allowed")
	}
	return nil
}

// TestDeskCallActions: a "task" message with a taskSid is a call action
// (hold, transfer with its target…) carried to the desktop's Call; one
// without is a reservation action; a refused call action comes back as
// an error for "task".
func TestDeskCallActions(t *testing.T) {
	mgr := queue.NewManager(queue.Config{Logger: testLogger()})
	d := &fakeDesk{}
	srv := httptest.NewServer(NewHandler(Options{Manager: mgr, Agents: testAgents, Logger: testLogger(), Desk: d}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		mgr.Close()
	})
	p := openPage(t, srv)
	p.signIn("alice", "s3cret-alice")
	p.expect("desk", nil)
	p.send(map[string]any{"type": "task", "action": "transfer", "taskSid": "WT1", "target": "queue:sales"})
	p.send(map[string]any{"type": "task", "action": "accept", "reservationSid": "WR1"})
	p.send(map[string]any{"type": "task", "action": "consult", "taskSid": "WT1", "target": "refused"})
	if m := p.expect("error", nil); m.str("for") != "task" || m.str("message") != "not allowed" {
		t.Errorf("refusal: %v", m)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	want := []string{"call transfer WT1 queue:sales", "do accept WR1 ", "call consult WT1 refused"}
	if len(d.reqs) != len(want) {
		t.Fatalf("requests %q, want %q", d.reqs, want)
	}
	for i := range want {
		if d.reqs[i] != want[i] {
			t.Errorf("request %d: %q, want %q", i, d.reqs[i], want[i])
		}
	}
}
