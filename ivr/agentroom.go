package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/taskrouter"
)

// The agent desktop's calls are conference rooms, as Flex's are (its
// "conference" instruction): when a worker accepts a voice task of
// <Enqueue workflowSid>, the caller and the worker's leg become
// participants of a conference.Room named after the task SID, so that
// the desktop can hold the caller, mute the agent, bring in a second
// party (consult, warm and cold transfer) and let a supervisor monitor,
// coach or barge — all with the room's participant controls. The rooms
// are found by task SID in an AgentRooms, which the composition root
// passes in Config.Services beside the *conference.Manager (without both,
// the worker is bridged two-legged as before).

// Party roles.
const (
	RoleCustomer   = "customer"   // the caller; always labelled "customer"
	RoleAgent      = "agent"      // a worker: the first one, a transfer's or a consult's
	RoleExternal   = "external"   // a number or SIP address brought in
	RoleSupervisor = "supervisor" // monitors, coaches or barges; does not keep the call up
)

// CustomerLabel is the caller's participant label in an agent room.
const CustomerLabel = "customer"

// Errors of the agent rooms.
var (
	// ErrNoAgentRoom: no live agent room for that task.
	ErrNoAgentRoom = errors.New("ivr: no live call for that task")
	// ErrPartyExists: a participant with that label is already in the room.
	ErrPartyExists = errors.New("ivr: already in the call")
)

// AgentRooms holds the live agent rooms by task SID (the room's own task
// and every task transferred into it). Its methods are safe for
// concurrent use.
type AgentRooms struct {
	mu      sync.Mutex
	byTask  map[string]*AgentRoom
	changed chan struct{} // closed and replaced at every change
}

// NewAgentRooms returns an empty registry.
func NewAgentRooms() *AgentRooms {
	return &AgentRooms{byTask: map[string]*AgentRoom{}, changed: make(chan struct{})}
}

// Room returns the live room of a task.
func (a *AgentRooms) Room(taskSID string) (*AgentRoom, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.byTask[taskSID]
	return r, ok
}

// List returns every live agent call, oldest first.
func (a *AgentRooms) List() []AgentCall {
	a.mu.Lock()
	rooms := make([]*AgentRoom, 0, len(a.byTask))
	for k, r := range a.byTask {
		if k == r.name {
			rooms = append(rooms, r)
		}
	}
	a.mu.Unlock()
	out := make([]AgentCall, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, r.Info())
	}
	slices.SortFunc(out, func(x, y AgentCall) int { return x.Started.Compare(y.Started) })
	return out
}

// Changed is closed at the next change of any room (a party joins,
// leaves or is updated, a room opens or closes).
func (a *AgentRooms) Changed() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changed
}

func (a *AgentRooms) touch() {
	a.mu.Lock()
	defer a.mu.Unlock()
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *AgentRooms) add(taskSID string, r *AgentRoom) {
	a.mu.Lock()
	a.byTask[taskSID] = r
	a.mu.Unlock()
	a.touch()
}

func (a *AgentRooms) forget(r *AgentRoom) {
	a.mu.Lock()
	for k, v := range a.byTask {
		if v == r {
			delete(a.byTask, k)
		}
	}
	a.mu.Unlock()
	a.touch()
}

// AgentCall is a live agent room as the desktop shows it.
type AgentCall struct {
	TaskSID       string // the task the room is named after
	ConferenceSID string
	CallSID       string // the caller's
	From, To      string // the caller's numbers
	Started       time.Time
	Parties       []Party // in the order they joined; the caller first
	// Transferring is how many parties are being rung or routed.
	Transferring int
}

// Party is one participant of an agent room.
type Party struct {
	Label, CallSID, Role string
	To                   string // what was dialled (client:ID, a number…)
	TaskSID              string // an agent's task, wrapped when it leaves
	Muted, Hold          bool
	Coaching             bool
	CoachLabel           string // the party coached
	Joined               time.Time
}

// PartyRequest brings a party into an agent room.
type PartyRequest struct {
	To    string // client:ID, sip:…, a number
	From  string // caller ID ("" = the caller's)
	Label string // unique in the room ("" = To without "client:")
	Role  string // RoleAgent, RoleExternal, RoleSupervisor
	// Muted joins listening only; Coach joins heard only by the party
	// labelled so (a supervisor's coaching).
	Muted bool
	Coach string
	// HoldCaller holds the caller until the party joins (or fails to):
	// a cold transfer's ring.
	HoldCaller bool
	// Replaces is removed from the room once the party has joined (a
	// cold transfer's first agent); "" = nobody.
	Replaces string
	Timeout  time.Duration // ring time (0: 30 s)
	TaskSID  string        // the party's task, wrapped when it leaves
	Headers  map[string]string
}

// AgentRoom is the conference of one delivered voice task: the caller,
// its agents and whoever they brought in. The caller's session owns it:
// it ends when the caller hangs up, or when no agent or external party is
// left and none is on the way (the caller's call then goes on after its
// <Enqueue>).
type AgentRoom struct {
	rooms    *AgentRooms
	name     string // the first task's SID
	s        *session
	transfer *roomTransfer // nil: no transfers to queues
	mgr      *conference.Manager
	room     *conference.Room
	started  time.Time
	ctx      context.Context // ends with the call or the room
	cancel   context.CancelFunc
	log      *slog.Logger
	wg       sync.WaitGroup // the parties' goroutines

	mu      sync.Mutex
	parties []*party
	ringing []string // labels of the parties being rung
	pending int      // parties being rung or routed
	closed  bool
	// waiting: the caller was put on hold because everyone else left
	// while a party was on the way; the next agent or external party to
	// join takes it off. Set and cleared under waitMu with the hold.
	waiting bool
	waitMu  sync.Mutex // orders partyGone's and admit's decisions on waiting
}

// party is a participant's bookkeeping; its live state is the room's.
type party struct {
	Party
	part *conference.Participant
	task *taskrouter.ContactTask // wrapped when the party leaves (nil: none)
}

// Name is the room's name: the SID of the task it was made for.
func (r *AgentRoom) Name() string { return r.name }

// runAgentRoom carries a delivered task's call in a conference room: the
// caller and the worker's answered leg child join the room named after
// the task; it returns when the caller's part in it is over.
func (v *workflowEnqueueVerb) runAgentRoom(s *session, rooms *AgentRooms, mgr *conference.Manager, child Call, childSID string, a taskrouter.Assignment) *verbEnd {
	agent := &party{Party: Party{Label: partyLabel("", a.To), CallSID: childSID, Role: RoleAgent, To: a.To, TaskSID: v.task.SID}, task: v.task}
	tr := &roomTransfer{workflowSID: v.v.WorkflowSID}
	if t := v.v.Task; t != nil {
		tr.attributes = t.JSON
	}
	if a.Conference != nil && len(a.Conference.Ignored) > 0 {
		v.log.Info("ivr: conference instruction parameters not carried out", "parameters", a.Conference.Ignored)
	}
	if err := runRoom(s, rooms, mgr, v.task.SID, tr, a.Conference, v.log, agent, child); err != nil {
		v.task.Wrap("call failed")
		return ending(v.done(s, "system-error"))
	}
	return ending(v.done(s, "bridged"))
}

// roomTransfer is how a room's caller is routed anew to a queue: through
// the TaskRouter workflow it came by, with its <Task> attributes.
type roomTransfer struct{ workflowSID, attributes string }

// runRoom puts the caller and first (on its answered call c) in a room
// named name and keeps the caller there until it hangs up or nobody is
// left to talk to; transfer, when set, allows transfers to queues;
// settings, when set, are a conference instruction's room settings. It
// fails only when the caller could not join (c is hung up then).
func runRoom(s *session, rooms *AgentRooms, mgr *conference.Manager, name string, transfer *roomTransfer, settings *taskrouter.ConferenceOptions, log *slog.Logger, first *party, c Call) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	r := &AgentRoom{rooms: rooms, mgr: mgr, name: name, s: s, transfer: transfer, started: s.now(), ctx: ctx, cancel: cancel, log: log}
	callerOpts, firstOpts, err := roomJoinOptions(s, settings)
	if err != nil {
		log.Warn("ivr: the conference instruction's settings are not usable: the desktop's defaults instead", "room", name, "error", err)
		callerOpts, firstOpts, _ = roomJoinOptions(s, nil)
	}
	callerOpts.Leg, callerOpts.CallSID = s.leg(), s.info.SID
	caller, err := mgr.Join(s.cfg.AccountSID, r.name, callerOpts)
	if err != nil {
		log.Error("ivr: the caller cannot join the agent's conference", "room", name, "error", err)
		hangupLeg(s, c)
		return err
	}
	r.room = caller.Room()
	r.log = log.With("conference_sid", r.room.SID())
	r.parties = append(r.parties, &party{Party: Party{Label: CustomerLabel, CallSID: s.info.SID, Role: RoleCustomer, Joined: s.now()}, part: caller})
	r.pending++ // the first agent's join
	rooms.add(r.name, r)
	defer rooms.forget(r)
	r.wg.Go(func() { r.join(first, c, firstOpts) })
	r.log.Info("ivr: caller and agent in a conference", "room", name, "agent", first.Label)
	why := caller.Run(ctx)
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	cancel()
	_ = r.room.End("Caller left", s.info.SID)
	r.wg.Wait()
	r.log.Info("ivr: the agent's conference ended for the caller", "why", why)
	return nil
}

// partyLabel is label, or a label made of to.
func partyLabel(label, to string) string {
	if label != "" {
		return label
	}
	return strings.TrimPrefix(to, "client:")
}

// join puts an answered leg into the room and keeps it there until it
// leaves; then the leg is hung up and the party's task wrapped.
func (r *AgentRoom) join(p *party, c Call, o conference.JoinOptions) {
	defer hangupLeg(r.s, c)
	o.Leg, o.CallSID, o.Label = c.Leg(), p.CallSID, p.Label
	if o.Beep == "" {
		o.Beep = "false" // the desktop's rooms do not beep
	}
	o.StartConferenceOnEnter = true
	part, err := r.admit(p, o)
	if err != nil {
		r.log.Warn("ivr: a party could not join the task's conference", "label", p.Label, "error", err)
		r.partyGone(p)
		return
	}
	r.rooms.touch()
	r.log.Info("ivr: party joined the task's conference", "label", p.Label, "role", p.Role, "call_sid", p.CallSID)
	why := part.Run(r.ctx)
	r.log.Info("ivr: party left the task's conference", "label", p.Label, "why", why)
	r.mu.Lock()
	r.parties = slices.DeleteFunc(r.parties, func(x *party) bool { return x == p })
	r.mu.Unlock()
	r.partyGone(p)
}

// admit joins p to the room and lists it (no longer pending); a caller
// left alone on hold is taken off it when p is someone to talk to.
func (r *AgentRoom) admit(p *party, o conference.JoinOptions) (*conference.Participant, error) {
	part, err := r.mgr.Join(r.s.cfg.AccountSID, r.name, o)
	r.waitMu.Lock() // partyGone sees p listed, or the caller's hold already lifted
	defer r.waitMu.Unlock()
	r.mu.Lock()
	if err == nil && (r.closed || part.Room() != r.room) { // the room ended meanwhile
		r.mu.Unlock()
		done, stop := context.WithCancel(r.ctx)
		stop()
		part.Run(done) // leaves at once
		r.mu.Lock()
		err = conference.ErrEnded
	}
	r.pending--
	resume := false
	if err == nil {
		p.part, p.Joined = part, r.s.now()
		r.parties = append(r.parties, p)
		if p.Role == RoleAgent || p.Role == RoleExternal {
			resume, r.waiting = r.waiting, false
		}
	}
	r.mu.Unlock()
	if resume {
		r.hold(false)
	}
	return part, err
}

// partyGone wraps a party's task and ends the room when nobody but the
// caller and supervisors is left and nobody is on the way.
func (r *AgentRoom) partyGone(p *party) {
	if p.task != nil {
		p.task.Wrap("left the call")
	}
	r.waitMu.Lock()
	defer r.waitMu.Unlock()
	r.mu.Lock()
	talking := false
	for _, x := range r.parties {
		talking = talking || x.Role == RoleAgent || x.Role == RoleExternal
	}
	keep := talking || r.pending > 0 || r.closed
	wait := !talking && r.pending > 0 && !r.closed && !r.waiting
	r.waiting = r.waiting || wait
	r.mu.Unlock()
	if wait { // alone while someone is on the way: hold music, not silence
		r.hold(true)
	}
	r.rooms.touch()
	if !keep {
		r.log.Info("ivr: the last agent left the task's conference")
		_ = r.room.End("Last agent left", p.CallSID)
	}
}

// Info is the room's state now.
func (r *AgentRoom) Info() AgentCall {
	r.waitMu.Lock() // not between a party's listing and the caller's hold lifted
	defer r.waitMu.Unlock()
	r.mu.Lock()
	parties := make([]Party, 0, len(r.parties))
	for _, p := range r.parties {
		parties = append(parties, p.Party)
	}
	out := AgentCall{TaskSID: r.name, ConferenceSID: r.room.SID(), CallSID: r.s.info.SID, From: r.s.info.From, To: r.s.info.To,
		Started: r.started, Transferring: r.pending}
	r.mu.Unlock()
	// The parties were in the room before they were listed: one missing
	// from the room now has left.
	live := map[string]conference.ParticipantInfo{}
	for _, p := range r.room.Participants() {
		live[p.CallSID] = p
	}
	byCall := map[string]string{}
	for _, p := range parties {
		byCall[p.CallSID] = p.Label
	}
	for _, q := range parties {
		l, ok := live[q.CallSID]
		if !ok {
			continue
		}
		q.Muted, q.Hold, q.Coaching = l.Muted, l.Hold, l.Coaching
		if l.Coaching {
			q.CoachLabel = byCall[l.CallSIDToCoach]
		}
		out.Parties = append(out.Parties, q)
	}
	return out
}

// callSID returns the call SID of the party labelled label.
func (r *AgentRoom) callSID(label string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.parties {
		if p.Label == label {
			return p.CallSID, true
		}
	}
	return "", false
}

// Add rings req.To and brings it into the room once it answers; it
// returns at once with the new leg's call SID. A party that does not
// answer is forgotten (and the caller taken off hold).
func (r *AgentRoom) Add(req PartyRequest) (string, error) {
	req.Label = partyLabel(req.Label, req.To)
	if req.To == "" || req.Label == "" {
		return "", errors.New("ivr: a party needs a To")
	}
	if req.Role == "" {
		req.Role = RoleExternal
	}
	var coachSID string
	if req.Coach != "" {
		var ok bool
		if coachSID, ok = r.callSID(req.Coach); !ok {
			return "", fmt.Errorf("ivr: no %q in the call to coach", req.Coach)
		}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return "", ErrNoAgentRoom
	}
	taken := slices.Contains(r.ringing, req.Label)
	for _, p := range r.parties {
		taken = taken || p.Label == req.Label
	}
	if taken {
		r.mu.Unlock()
		return "", ErrPartyExists
	}
	r.ringing = append(r.ringing, req.Label)
	r.pending++
	r.wg.Add(1) // under mu: never after the owner's Wait began
	r.mu.Unlock()
	if req.HoldCaller {
		r.hold(true)
	}
	childSID := sid.New(sid.Call)
	p := &party{Party: Party{Label: req.Label, CallSID: childSID, Role: req.Role, To: req.To, TaskSID: req.TaskSID}}
	go func() {
		defer r.wg.Done()
		r.ring(p, req, coachSID)
	}()
	r.rooms.touch()
	return childSID, nil
}

// ring dials a party and joins it (a goroutine of the room's).
func (r *AgentRoom) ring(p *party, req PartyRequest, coachSID string) {
	defer func() {
		r.mu.Lock()
		r.ringing = slices.DeleteFunc(r.ringing, func(l string) bool { return l == p.Label })
		r.mu.Unlock()
	}()
	s := r.s
	from := req.From
	if from == "" {
		from = s.info.From
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = defaultAgentRing
	}
	headers := map[string]string{TaskHeader: r.name}
	for k, v := range req.Headers {
		headers[k] = v
	}
	r.log.Info("ivr: ringing a party for the task's conference", "to", req.To, "label", p.Label, "role", p.Role)
	var c Call
	err := errors.New("no dialer")
	if s.cfg.Dialer != nil {
		c, err = s.cfg.Dialer.Dial(r.ctx, DialRequest{CallSID: p.CallSID, ParentSID: s.info.SID, To: req.To, From: from, Timeout: timeout, Headers: headers})
	}
	if req.HoldCaller {
		r.hold(false) // answered or not: the caller hears the room again
	}
	if err != nil {
		r.log.Info("ivr: the party did not answer", "to", req.To, "status", dialStatus(err))
		r.mu.Lock()
		r.pending--
		r.mu.Unlock()
		r.partyGone(&party{Party: p.Party, task: nil})
		return
	}
	if req.Replaces != "" { // a cold transfer: the first agent goes once the new party answered
		if err := r.Remove(req.Replaces); err != nil {
			r.log.Info("ivr: transfer: the first agent was gone", "error", err)
		}
	}
	r.join(p, c, conference.JoinOptions{Muted: req.Muted, Coach: coachSID})
}

// hold holds or releases the caller.
func (r *AgentRoom) hold(on bool) {
	if _, err := r.room.UpdateParticipant(r.ctx, CustomerLabel, conference.Update{Hold: &on}); err != nil && r.ctx.Err() == nil {
		r.log.Info("ivr: holding the caller", "hold", on, "error", err)
	}
	r.rooms.touch()
}

// PartyUpdate changes a party; nil fields stay as they are.
type PartyUpdate struct {
	Muted, Hold *bool
	// Coach, when set, makes the party heard only by the party labelled
	// so; an empty string stops coaching (heard by everyone).
	Coach *string
}

// Update changes the party labelled label.
func (r *AgentRoom) Update(ctx context.Context, label string, u PartyUpdate) error {
	cu := conference.Update{Muted: u.Muted, Hold: u.Hold}
	if u.Coach != nil {
		on := *u.Coach != ""
		cu.Coaching = &on
		if on {
			target, ok := r.callSID(*u.Coach)
			if !ok {
				return fmt.Errorf("ivr: no %q in the call to coach", *u.Coach)
			}
			cu.CallSIDToCoach = &target
		}
	}
	_, err := r.room.UpdateParticipant(ctx, label, cu)
	if err != nil {
		return fmt.Errorf("ivr: updating %q: %w", label, err)
	}
	r.rooms.touch()
	return nil
}

// Remove takes the party labelled label out of the room (its leg is hung
// up; an agent's task wraps).
func (r *AgentRoom) Remove(label string) error {
	if label == CustomerLabel {
		return errors.New("ivr: the caller cannot be removed from its own call")
	}
	if err := r.room.RemoveParticipant(label); err != nil {
		return fmt.Errorf("ivr: removing %q: %w", label, err)
	}
	return nil
}

// TransferToQueue routes the caller anew through the task's workflow with
// the attribute queue set to name (Flex's cold transfer to a queue): the
// caller is held with music until the new task's worker answers and joins,
// and from, when not "", leaves the room at once.
func (r *AgentRoom) TransferToQueue(name, from string) (string, error) {
	tasks, ok := service[ContactTasks](r.s)
	if !ok || r.transfer == nil {
		return "", errors.New("ivr: this call did not come through a TaskRouter workflow: no transfers to queues")
	}
	attrs := map[string]any{}
	if r.transfer.attributes != "" {
		_ = json.Unmarshal([]byte(r.transfer.attributes), &attrs)
	}
	attrs["queue"], attrs["transferred_from_task"] = name, r.name
	js, _ := json.Marshal(attrs)
	s := r.s
	ct, err := tasks.CreateContactTask(taskrouter.ContactParams{WorkflowSID: r.transfer.workflowSID, CallSID: s.info.SID, From: s.info.From, To: s.info.To, Attributes: string(js)})
	if err != nil {
		return "", fmt.Errorf("ivr: transfer to queue %s: %w", name, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		ct.Cancel("caller left")
		return "", ErrNoAgentRoom
	}
	r.pending++
	r.wg.Add(1)
	r.mu.Unlock()
	r.rooms.add(ct.SID, r)
	r.hold(true)
	r.log.Info("ivr: caller transferred to a queue", "queue", name, "new_task_sid", ct.SID)
	if from != "" {
		if err := r.Remove(from); err != nil {
			r.log.Info("ivr: transfer: the first agent was gone", "error", err)
		}
	}
	go func() {
		defer r.wg.Done()
		r.route(ct)
	}()
	return ct.SID, nil
}

// route waits for a transferred task's worker and brings it in (a
// goroutine of the room's); a worker whose phone does not answer puts the
// task back in line.
func (r *AgentRoom) route(ct *taskrouter.ContactTask) {
	defer r.hold(false)
	for {
		a, err := ct.Wait(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				ct.Cancel("caller left")
			}
			r.log.Info("ivr: the transferred task ended before a worker took it", "error", err)
			r.mu.Lock()
			r.pending--
			r.mu.Unlock()
			r.partyGone(&party{})
			return
		}
		if a.To == "" || r.s.cfg.Dialer == nil {
			_ = ct.Requeue("no contact URI")
			continue
		}
		p := &party{Party: Party{Label: partyLabel("", a.To), CallSID: sid.New(sid.Call), Role: RoleAgent, To: a.To, TaskSID: ct.SID}, task: ct}
		c, err := r.s.cfg.Dialer.Dial(r.ctx, DialRequest{CallSID: p.CallSID, ParentSID: r.s.info.SID, To: a.To, From: r.s.info.From,
			Timeout: defaultAgentRing, Headers: map[string]string{TaskHeader: ct.SID}})
		if err != nil {
			if r.ctx.Err() != nil {
				ct.Cancel("caller left")
				r.mu.Lock()
				r.pending--
				r.mu.Unlock()
				return
			}
			_ = ct.Requeue("worker did not answer: " + dialStatus(err))
			continue
		}
		r.hold(false)
		r.join(p, c, conference.JoinOptions{})
		return
	}
}

// agentRoomServices returns the agent rooms and the conference manager
// when the composition root passed both.
func agentRoomServices(s *session) (*AgentRooms, *conference.Manager, bool) {
	rooms, ok := service[*AgentRooms](s)
	if !ok {
		return nil, nil, false
	}
	mgr, ok := service[*conference.Manager](s)
	return rooms, mgr, ok
}
