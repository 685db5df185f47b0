// Package desk is the agent desktop's view of TaskRouter: a signed-in
// agent's worker, its activity and its reservations on every channel, the
// conversation of each chat or SMS task (package conversation), and the actions the agent takes
// (accept, reject, wrap up, complete, reply, change activity). Package web
// carries it over the agent page's WebSocket.
package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/taskrouter"
)

// Conversations are the conversations of chat and SMS tasks as the
// desktop reads and works them: a *conversation.Store (through Local), or
// a cluster's view that reaches the conversations other nodes hold, found
// from the task's attributes.
type Conversations interface {
	// ByTask returns the conversation of a task with attributes attrs.
	ByTask(taskSID string, attrs map[string]any) (conversation.Conversation, bool)
	Post(convSID, author, body string) (conversation.Message, error)
	Reply(ctx context.Context, convSID, author, body string) (conversation.Message, error)
	Close(convSID, note string)
	// Changed returns a channel closed at the next change of any
	// conversation.
	Changed() <-chan struct{}
}

// Local fits a *conversation.Store to Conversations.
func Local(s *conversation.Store) Conversations { return localConvs{s} }

type localConvs struct{ *conversation.Store }

func (l localConvs) ByTask(taskSID string, _ map[string]any) (conversation.Conversation, bool) {
	return l.Store.ByTask(taskSID)
}

// Desk opens agents' desktops on a workspace.
type Desk struct {
	router    *taskrouter.Router
	convs     Conversations // nil: no conversations
	workspace string
	workers   map[string]string // agent ID → worker SID
	log       *slog.Logger
	// calls and supervisors: see EnableCalls (calls.go).
	calls       Calls
	supervisors []string
}

// New makes a Desk for the agents mapped to workers of workspace; convs
// holds the conversations of chat and SMS tasks (web chat, SMS handed to
// Flex).
func New(r *taskrouter.Router, convs *conversation.Store, workspace string, workers map[string]string, log *slog.Logger) *Desk {
	var c Conversations
	if convs != nil {
		c = Local(convs)
	}
	return NewWith(r, c, workspace, workers, log)
}

// NewWith is New with conversations other than one local store (nil:
// none).
func NewWith(r *taskrouter.Router, convs Conversations, workspace string, workers map[string]string, log *slog.Logger) *Desk {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Desk{router: r, convs: convs, workspace: workspace, workers: workers, log: log}
}

// replyTimeout bounds the delivery of an agent's reply (an SMS is stored
// and queued for its trunk within it).
const replyTimeout = 10 * time.Second

// ErrNoWorker: the agent has no TaskRouter worker.
var ErrNoWorker = errors.New("desk: the agent has no worker")

// Session is one open desktop. Changed fires when what Snapshot shows
// may have changed; Close ends it.
type Session struct {
	d         *Desk
	agentID   string
	workerSID string
	sub       *taskrouter.Subscription
	changed   chan struct{}
	stop      chan struct{}
	done      sync.WaitGroup
}

// Open starts an agent's desktop session.
func (d *Desk) Open(agentID string) (*Session, error) {
	wk, ok := d.workers[agentID]
	if !ok {
		return nil, ErrNoWorker
	}
	s := &Session{d: d, agentID: agentID, workerSID: wk, sub: d.router.Subscribe(wk),
		changed: make(chan struct{}, 1), stop: make(chan struct{})}
	s.done.Add(1)
	go s.watch()
	return s, nil
}

// watch merges router notifications and chat changes into Changed.
func (s *Session) watch() {
	defer s.done.Done()
	for {
		var chat, calls <-chan struct{}
		if s.d.convs != nil {
			chat = s.d.convs.Changed()
		}
		if s.d.calls != nil {
			calls = s.d.calls.Changed()
		}
		select {
		case <-s.stop:
			return
		case <-s.sub.C:
		case <-chat:
		case <-calls:
		}
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// Changed signals that the desktop should be redrawn.
func (s *Session) Changed() <-chan struct{} { return s.changed }

// Close ends the session.
func (s *Session) Close() {
	close(s.stop)
	s.done.Wait()
	s.sub.Close()
}

// Snapshot is what the desktop shows.
type Snapshot struct {
	Type       string   `json:"type"` // "desk"
	WorkerSID  string   `json:"workerSid"`
	Activity   string   `json:"activity"`
	Available  bool     `json:"available"`
	Activities []string `json:"activities"`
	Tasks      []Task   `json:"tasks"`
	// Calls are the live calls the agent is on (hold, mute, transfer,
	// consult, leave); Supervisor says the agent may monitor, coach and
	// barge into LiveCalls, every live call.
	Calls      []LiveCall `json:"calls"`
	Supervisor bool       `json:"supervisor"`
	LiveCalls  []LiveCall `json:"liveCalls,omitempty"`
}

// Task is one reservation the agent holds, with its task.
type Task struct {
	ReservationSID    string                     `json:"reservationSid"`
	ReservationStatus string                     `json:"reservationStatus"`
	TaskSID           string                     `json:"taskSid"`
	Channel           string                     `json:"channel"`
	AssignmentStatus  string                     `json:"assignmentStatus"`
	Queue             string                     `json:"queue"`
	Age               int                        `json:"age"`
	Priority          int                        `json:"priority"`
	Attributes        map[string]any             `json:"attributes"`
	Conversation      *conversation.Conversation `json:"conversation,omitempty"`
}

// Snapshot reads the worker's state now.
func (s *Session) Snapshot() (Snapshot, error) {
	r, ws := s.d.router, s.d.workspace
	w, err := r.Worker(ws, s.workerSID)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Type: "desk", WorkerSID: w.SID, Activity: w.ActivityName, Available: w.Available, Tasks: []Task{}, Calls: []LiveCall{}}
	mine, all, sup := s.myCalls()
	snap.Calls, snap.LiveCalls, snap.Supervisor = append(snap.Calls, mine...), all, sup
	acts, err := r.Activities(ws)
	if err != nil {
		return Snapshot{}, err
	}
	for _, a := range acts {
		snap.Activities = append(snap.Activities, a.FriendlyName)
	}
	resvs, err := r.Reservations(ws, "", s.workerSID, "")
	if err != nil {
		return Snapshot{}, err
	}
	for _, res := range resvs {
		switch res.Status {
		case taskrouter.ResPending, taskrouter.ResAccepted, taskrouter.ResWrapping:
		default:
			continue
		}
		t, err := r.Task(ws, res.TaskSID)
		if err != nil {
			continue
		}
		dt := Task{ReservationSID: res.SID, ReservationStatus: res.Status, TaskSID: t.SID, Channel: t.TaskChannelUniqueName,
			AssignmentStatus: t.AssignmentStatus, Queue: t.QueueName, Age: t.Age, Priority: t.Priority}
		_ = json.Unmarshal([]byte(t.Attributes), &dt.Attributes)
		if s.d.convs != nil && res.Status != taskrouter.ResPending {
			if c, ok := s.d.convs.ByTask(t.SID, dt.Attributes); ok {
				dt.Conversation = &c
			}
		}
		snap.Tasks = append(snap.Tasks, dt)
	}
	return snap, nil
}

// Request is an action from the desktop.
type Request struct {
	Action         string `json:"action"` // accept, reject, wrap, complete, say, activity; call actions (calls.go)
	ReservationSID string `json:"reservationSid,omitempty"`
	// TaskSID and Target: a call action's call and destination.
	TaskSID  string `json:"taskSid,omitempty"`
	Target   string `json:"target,omitempty"`
	Body     string `json:"body,omitempty"`     // say
	Activity string `json:"activity,omitempty"` // activity: its friendly name
}

// Do carries out a request of the agent.
func (s *Session) Do(req Request) error {
	r, ws := s.d.router, s.d.workspace
	if req.Action == "activity" {
		return s.setActivity(req.Activity)
	}
	if IsCallAction(req.Action) {
		err := s.callAction(req.Action, req.TaskSID, req.Target)
		if err != nil {
			s.d.log.Info("desk: call action refused", "agent", s.agentID, "action", req.Action, "task_sid", req.TaskSID, "error", err)
		} else {
			s.d.log.Info("desk: call action", "agent", s.agentID, "action", req.Action, "task_sid", req.TaskSID, "target", req.Target)
		}
		return err
	}
	res, err := r.Reservation(ws, req.ReservationSID)
	if err != nil || res.WorkerSID != s.workerSID {
		return fmt.Errorf("desk: no reservation %q for you", req.ReservationSID)
	}
	conv := ""
	if s.d.convs != nil {
		var attrs map[string]any
		if t, err := r.Task(ws, res.TaskSID); err == nil {
			_ = json.Unmarshal([]byte(t.Attributes), &attrs)
		}
		if c, ok := s.d.convs.ByTask(res.TaskSID, attrs); ok {
			conv = c.SID
		}
	}
	switch req.Action {
	case "accept":
		_, err = r.UpdateReservation(ws, res.SID, taskrouter.ReservationParams{Status: taskrouter.ResAccepted})
		if err == nil && conv != "" {
			_, _ = s.d.convs.Post(conv, conversation.AuthorSystem, s.agentID+" joined the chat")
		}
	case "reject":
		_, err = r.UpdateReservation(ws, res.SID, taskrouter.ReservationParams{Status: taskrouter.ResRejected})
	case "wrap":
		_, err = r.UpdateTask(ws, res.TaskSID, taskrouter.TaskParams{AssignmentStatus: ptr(taskrouter.TaskWrapping)})
		if err == nil && conv != "" {
			s.d.convs.Close(conv, s.agentID+" left the chat")
		}
	case "complete":
		_, err = r.UpdateTask(ws, res.TaskSID, taskrouter.TaskParams{AssignmentStatus: ptr(taskrouter.TaskCompleted)})
		if err == nil && conv != "" {
			s.d.convs.Close(conv, s.agentID+" left the chat")
		}
	case "say":
		if conv == "" || res.Status != taskrouter.ResAccepted {
			return errors.New("desk: accept the conversation before replying")
		}
		ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
		_, err = s.d.convs.Reply(ctx, conv, s.agentID, req.Body)
		cancel()
	default:
		return fmt.Errorf("desk: unknown action %q", req.Action)
	}
	if err != nil {
		s.d.log.Info("desk: action refused", "agent", s.agentID, "action", req.Action, "reservation_sid", res.SID, "error", err)
	}
	return err
}

func (s *Session) setActivity(name string) error {
	acts, err := s.d.router.Activities(s.d.workspace)
	if err != nil {
		return err
	}
	for _, a := range acts {
		if a.FriendlyName == name {
			_, err := s.d.router.UpdateWorker(s.d.workspace, s.workerSID, taskrouter.WorkerParams{ActivitySID: &a.SID})
			return err
		}
	}
	return fmt.Errorf("desk: no activity %q", name)
}

func ptr[T any](v T) *T { return &v }
