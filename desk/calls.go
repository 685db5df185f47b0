package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Calls are the live calls of voice tasks, each a conference room named
// after its task (package ivr's AgentRooms, adapted by the composition
// root). The desktop drives them: hold, mute, transfers, consults, and a
// supervisor's monitor, coach and barge.
type Calls interface {
	// Call returns the live call of a task (its own room, or the room a
	// transferred task joined).
	Call(taskSID string) (Call, bool)
	// List returns every live call.
	List() []LiveCall
	// Changed is closed at the next change of any call.
	Changed() <-chan struct{}
}

// Call is one live call's controls.
type Call interface {
	Info() LiveCall
	// Add rings a party into the call (returns once ringing has begun).
	Add(p AddParty) error
	// Update changes a party; nil fields stay as they are.
	Update(ctx context.Context, label string, u PartyUpdate) error
	// Remove takes a party out (its leg is hung up).
	Remove(label string) error
	// TransferToQueue routes the caller anew to queue (the caller held
	// meanwhile); from, when set, leaves at once.
	TransferToQueue(queue, from string) error
}

// LiveCall is a call as the desktop shows it.
type LiveCall struct {
	TaskSID       string    `json:"taskSid"`
	ConferenceSID string    `json:"conferenceSid"`
	CallSID       string    `json:"callSid"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Started       time.Time `json:"started"`
	Transferring  int       `json:"transferring"`
	Parties       []Party   `json:"parties"`
}

// Party is a participant of a live call.
type Party struct {
	Label      string `json:"label"`
	Role       string `json:"role"` // customer, agent, external, supervisor
	CallSID    string `json:"callSid"`
	To         string `json:"to,omitempty"`
	TaskSID    string `json:"taskSid,omitempty"`
	Muted      bool   `json:"muted"`
	Hold       bool   `json:"hold"`
	Coaching   bool   `json:"coaching"`
	CoachLabel string `json:"coachLabel,omitempty"`
}

// AddParty is a party to ring into a call.
type AddParty struct {
	To, Label, Role string
	Muted           bool
	Coach           string // the label of the party it is heard by alone
	HoldCaller      bool   // hold the caller until it answers
	Replaces        string // leaves once it has answered
}

// PartyUpdate changes a party.
type PartyUpdate struct {
	Muted, Hold *bool
	Coach       *string // "" = stop coaching
}

// Party roles and labels, as package ivr names them.
const (
	roleCustomer   = "customer"
	roleAgent      = "agent"
	roleExternal   = "external"
	roleSupervisor = "supervisor"
	customerLabel  = "customer"
)

// callTimeout bounds a call action.
const callTimeout = 10 * time.Second

// EnableCalls gives the desktop the live calls of voice tasks and names
// the supervisors (besides them, a worker whose attributes' roles list
// has "supervisor", as Flex marks them, is one).
func (d *Desk) EnableCalls(c Calls, supervisors []string) {
	d.calls = c
	d.supervisors = slices.Clone(supervisors)
}

// isSupervisor reports whether the session's agent may monitor, coach
// and barge.
func (s *Session) isSupervisor() bool {
	if slices.Contains(s.d.supervisors, s.agentID) {
		return true
	}
	w, err := s.d.router.Worker(s.d.workspace, s.workerSID)
	if err != nil {
		return false
	}
	var attrs struct {
		Roles []string `json:"roles"`
	}
	_ = json.Unmarshal([]byte(w.Attributes), &attrs)
	return slices.Contains(attrs.Roles, "supervisor")
}

// supervisorLabel is a supervisor's label in the calls it joins.
func supervisorLabel(agentID string) string { return "supervisor:" + agentID }

// myCalls are the live calls the agent is a party of, and, for a
// supervisor, every live call.
func (s *Session) myCalls() (mine, all []LiveCall, supervisor bool) {
	if s.d.calls == nil {
		return nil, nil, false
	}
	supervisor = s.isSupervisor()
	for _, c := range s.d.calls.List() {
		if c.party(s.agentID) != nil {
			mine = append(mine, c)
		}
		if supervisor {
			all = append(all, c)
		}
	}
	return mine, all, supervisor
}

// party returns the party labelled label, or nil.
func (c LiveCall) party(label string) *Party {
	for i := range c.Parties {
		if c.Parties[i].Label == label {
			return &c.Parties[i]
		}
	}
	return nil
}

// firstAgent is the label of the call's first agent ("" when none).
func (c LiveCall) firstAgent() string {
	for _, p := range c.Parties {
		if p.Role == roleAgent {
			return p.Label
		}
	}
	return ""
}

// Call actions an agent takes on a call it is in.
var agentCallActions = []string{"hold", "unhold", "mute", "unmute", "transfer", "consult", "leave", "kick"}

// Supervisor actions on any live call.
var supervisorActions = []string{"monitor", "coach", "barge", "unmonitor"}

// IsCallAction reports whether action is one of the call actions.
func IsCallAction(action string) bool {
	return slices.Contains(agentCallActions, action) || slices.Contains(supervisorActions, action)
}

// callAction runs a call action of the agent: on the call of taskSID,
// with target (a transfer's or consult's destination: queue:NAME,
// agent:ID or client:ID, a number or SIP address; kick's party label;
// coach's agent label, "" = the first agent).
func (s *Session) callAction(action, taskSID, target string) error {
	if s.d.calls == nil {
		return errors.New("desk: this gateway has no call controls")
	}
	c, ok := s.d.calls.Call(taskSID)
	if !ok {
		return fmt.Errorf("desk: no live call for task %q", taskSID)
	}
	info := c.Info()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if slices.Contains(supervisorActions, action) {
		if !s.isSupervisor() {
			return errors.New("desk: only supervisors monitor, coach and barge")
		}
		return s.supervise(ctx, c, info, action, target)
	}
	me := s.agentID
	if info.party(me) == nil {
		return errors.New("desk: you are not on that call")
	}
	switch action {
	case "hold", "unhold":
		hold := action == "hold"
		return c.Update(ctx, customerLabel, PartyUpdate{Hold: &hold})
	case "mute", "unmute":
		muted := action == "mute"
		return c.Update(ctx, me, PartyUpdate{Muted: &muted})
	case "leave":
		return c.Remove(me)
	case "kick":
		p := info.party(target)
		if p == nil || p.Role == roleCustomer || p.Role == roleSupervisor || target == me {
			return fmt.Errorf("desk: %q cannot be removed", target)
		}
		return c.Remove(target)
	case "transfer", "consult":
		if q, ok := strings.CutPrefix(target, "queue:"); ok {
			if action == "consult" || q == "" {
				return errors.New("desk: a queue takes cold transfers only")
			}
			return c.TransferToQueue(q, me)
		}
		p, err := destination(target)
		if err != nil {
			return err
		}
		if p.Label == me {
			return errors.New("desk: you are already on the call")
		}
		if action == "transfer" {
			p.HoldCaller, p.Replaces = true, me
		}
		return c.Add(p)
	}
	return fmt.Errorf("desk: unknown call action %q", action)
}

// destination turns a transfer or consult target into a party: agent:ID
// or client:ID ring that agent's desktop; anything else (a number, a SIP
// address) is dialled.
func destination(target string) (AddParty, error) {
	target = strings.TrimSpace(target)
	if id, ok := strings.CutPrefix(target, "agent:"); ok {
		target = "client:" + id
	}
	if id, ok := strings.CutPrefix(target, "client:"); ok {
		if id == "" {
			return AddParty{}, errors.New("desk: which agent?")
		}
		return AddParty{To: target, Label: id, Role: roleAgent}, nil
	}
	if target == "" || strings.ContainsAny(target, " \t\r\n<>\"") {
		return AddParty{}, fmt.Errorf("desk: %q is not a number, SIP address, agent:ID or queue:NAME", target)
	}
	return AddParty{To: target, Label: target, Role: roleExternal}, nil
}

// supervise runs monitor (listen only), coach (heard by the agent alone),
// barge (heard by everyone) and unmonitor (leave) for a supervisor,
// ringing the supervisor's desktop into the call the first time.
func (s *Session) supervise(ctx context.Context, c Call, info LiveCall, action, target string) error {
	label := supervisorLabel(s.agentID)
	in := info.party(label) != nil
	if action == "unmonitor" {
		if !in {
			return errors.New("desk: you are not on that call")
		}
		return c.Remove(label)
	}
	coach := ""
	if action == "coach" {
		coach = target
		if coach == "" {
			coach = info.firstAgent()
		}
		if p := info.party(coach); p == nil || p.Role != roleAgent {
			return errors.New("desk: no agent on that call to coach")
		}
	}
	muted := action == "monitor"
	if !in {
		return c.Add(AddParty{To: "client:" + s.agentID, Label: label, Role: roleSupervisor, Muted: muted, Coach: coach})
	}
	return c.Update(ctx, label, PartyUpdate{Muted: &muted, Coach: &coach})
}
