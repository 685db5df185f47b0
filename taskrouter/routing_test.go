package taskrouter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// skillsSetup is a workspace with skills-based queues and a workflow with
// escalation timeouts:
//
//	VIP     (vip == true):      vip queue (level >= 3) at priority 100 for 30 s, then everyone
//	Spanish (language == 'es'): spanish queue (languages HAS 'es') for 60 s, then everyone but only level >= 2
//	default: everyone (1==1)
type skillsSetup struct {
	ws                       string
	vip, spanish, everyone   string
	workflow                 string
	available, offline       string
	queueExpr                map[string]*expr.Expr
	workers                  []WorkerView
	workerAttrs              map[string]map[string]any
	secondSpanishTargetLevel float64
}

func newSkillsSetup(t *testing.T, r *Router, workers int) *skillsSetup {
	t.Helper()
	s := &skillsSetup{queueExpr: map[string]*expr.Expr{}, workerAttrs: map[string]map[string]any{}, secondSpanishTargetLevel: 2}
	s.ws = must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("skills")})).SID
	s.available, s.offline = activityByName(t, r, s.ws, "Available"), activityByName(t, r, s.ws, "Offline")
	mkq := func(name, target string) string {
		q := must[TaskQueue](t)(r.CreateTaskQueue(s.ws, QueueParams{FriendlyName: ptr(name), TargetWorkers: ptr(target)}))
		s.queueExpr[q.SID] = expr.MustCompile(target)
		return q.SID
	}
	s.vip = mkq("vip", "level >= 3")
	s.spanish = mkq("spanish", "languages HAS 'es'")
	s.everyone = mkq("everyone", "1==1")
	cfg := fmt.Sprintf(`{"task_routing":{"filters":[
		{"filter_friendly_name":"VIP","expression":"vip == true","targets":[{"queue":%q,"priority":100,"timeout":30},{"queue":%q}]},
		{"filter_friendly_name":"Spanish","expression":"language == 'es'","targets":[{"queue":%q,"timeout":60},{"queue":%q,"expression":"worker.level >= 2"}]}],
		"default_filter":{"queue":%q}}}`, s.vip, s.everyone, s.spanish, s.everyone, s.everyone)
	s.workflow = must[Workflow](t)(r.CreateWorkflow(s.ws, WorkflowParams{FriendlyName: ptr("skills"), Configuration: &cfg})).SID
	for i := range workers {
		langs := [][]string{{"es"}, {"en"}, {"es", "en"}}[i%3]
		attrs := map[string]any{"languages": langs, "level": i % 5, "contact_uri": fmt.Sprintf("client:agent%d", i)}
		js, _ := json.Marshal(attrs)
		w := must[WorkerView](t)(r.CreateWorker(s.ws, WorkerParams{FriendlyName: ptr(fmt.Sprintf("agent%d", i)), Attributes: ptr(string(js))}))
		var decoded map[string]any
		_ = json.Unmarshal(js, &decoded)
		s.workerAttrs[w.SID] = decoded
		s.workers = append(s.workers, w)
	}
	return s
}

// oracleTask is the documented choice for a worker that frees up: among
// the pending tasks of queues whose target_workers it matches (and whose
// target expression it passes), the highest priority, then the oldest.
func (s *skillsSetup) oracleTask(t *testing.T, r *Router, workerSID string) string {
	t.Helper()
	attrs := s.workerAttrs[workerSID]
	pending := must[[]TaskView](t)(r.Tasks(s.ws, TaskFilter{AssignmentStatus: []string{TaskPending}}))
	var best *TaskView
	bestPrio := 0
	for i := range pending {
		tv := &pending[i]
		if !s.queueExpr[tv.TaskQueueSID].Eval(expr.Env{Bare: attrs, Worker: attrs}) {
			continue
		}
		var ta map[string]any
		_ = json.Unmarshal([]byte(tv.Attributes), &ta)
		prio := tv.Task.Priority
		if tv.TaskQueueSID == s.vip {
			prio = 100
		}
		if ta["language"] == "es" && ta["vip"] != true && tv.TaskQueueSID == s.everyone && attrs["level"].(float64) < s.secondSpanishTargetLevel {
			continue
		}
		if best == nil || prio > bestPrio || prio == bestPrio && tv.Created.Before(best.Created) {
			best, bestPrio = tv, prio
		}
	}
	if best == nil {
		return ""
	}
	return best.SID
}

// TestSkillsRoutingOrderAndEscalation routes 200 queued tasks to 20
// workers through skills-based filters with escalation timeouts, and
// checks every reservation against the documented order.
func TestSkillsRoutingOrderAndEscalation(t *testing.T) {
	r, clock := newTestRouter(t, Options{})
	s := newSkillsSetup(t, r, 20)
	start := clock.Now()
	const n = 200
	created := map[string]time.Time{}
	for i := range n {
		lang := []string{"es", "en", "fr"}[i%3]
		attrs := fmt.Sprintf(`{"language":%q,"vip":%v,"n":%d}`, lang, i%10 == 0, i)
		tv := must[TaskView](t)(r.CreateTask(s.ws, TaskParams{WorkflowSID: &s.workflow, Attributes: &attrs, Priority: ptr(i % 4), TaskChannel: ptr("voice")}))
		created[tv.SID] = tv.Created
		advance(r, clock, 100*time.Millisecond)
	}
	// 45 s after the first task: VIP tasks older than 30 s have escalated
	// to everyone; no Spanish task is 60 s old yet.
	advance(r, clock, start.Add(45*time.Second).Sub(clock.Now()))
	tasks := must[[]TaskView](t)(r.Tasks(s.ws, TaskFilter{}))
	if len(tasks) != n {
		t.Fatalf("%d tasks, want %d", len(tasks), n)
	}
	escalated := 0
	for _, tv := range tasks {
		var a map[string]any
		_ = json.Unmarshal([]byte(tv.Attributes), &a)
		age := clock.Now().Sub(created[tv.SID])
		want := s.everyone
		switch {
		case a["vip"] == true && age < 30*time.Second:
			want = s.vip
		case a["vip"] == true:
			escalated++
		case a["language"] == "es":
			want = s.spanish
		}
		if tv.AssignmentStatus != TaskPending || tv.TaskQueueSID != want {
			t.Fatalf("task %v (age %v) is %s in %s, want pending in %s", a, age, tv.AssignmentStatus, tv.QueueName, want)
		}
	}
	if escalated == 0 {
		t.Fatal("no VIP task escalated")
	}
	moved := must[[]Event](t)(r.Events(s.ws, EventFilter{EventType: "task-queue.moved"}))
	if len(moved) != escalated {
		t.Errorf("%d task-queue.moved events, want %d", len(moved), escalated)
	}

	// Workers come online one by one; each reservation must be the
	// oracle's choice.
	for _, w := range s.workers {
		want := s.oracleTask(t, r, w.SID)
		must[WorkerView](t)(r.UpdateWorker(s.ws, w.SID, WorkerParams{ActivitySID: &s.available}))
		checkReservation(t, r, s, w.SID, want)
	}
	// Then work: the oldest pending reservation is accepted and its task
	// completed; the freed worker's next reservation must be the oracle's.
	done := 0
	for range 4 * n {
		res := oldestPending(t, r, s.ws)
		if res == nil {
			break
		}
		must[Reservation](t)(r.UpdateReservation(s.ws, res.SID, ReservationParams{Status: ResAccepted}))
		if w := must[WorkerView](t)(r.Worker(s.ws, res.WorkerSID)); w.Channels != nil {
			t.Fatal("view leaks channels map")
		}
		want := ""
		// The oracle runs before the completion frees the worker.
		tv := must[TaskView](t)(r.Task(s.ws, res.TaskSID))
		if tv.AssignmentStatus != TaskAssigned {
			t.Fatalf("accepted task is %s", tv.AssignmentStatus)
		}
		want = s.oracleTask(t, r, res.WorkerSID)
		must[TaskView](t)(r.UpdateTask(s.ws, res.TaskSID, TaskParams{AssignmentStatus: ptr(TaskCompleted)}))
		done++
		checkReservation(t, r, s, res.WorkerSID, want)
	}
	left := must[[]TaskView](t)(r.Tasks(s.ws, TaskFilter{AssignmentStatus: []string{TaskPending, TaskReserved, TaskAssigned}}))
	if done != n || len(left) != 0 {
		t.Fatalf("%d tasks completed, %d left", done, len(left))
	}
}

func checkReservation(t *testing.T, r *Router, s *skillsSetup, workerSID, want string) {
	t.Helper()
	pending := must[[]Reservation](t)(r.Reservations(s.ws, "", workerSID, ResPending))
	switch {
	case want == "" && len(pending) != 0:
		t.Fatalf("worker %s reserved %s, want nothing", workerSID, pending[0].TaskSID)
	case want != "" && (len(pending) != 1 || pending[0].TaskSID != want):
		for _, sid := range []string{want, pending[0].TaskSID} {
			tv, _ := r.Task(s.ws, sid)
			t.Logf("%s %s prio %d/%d queue %s created %v", sid, tv.Attributes, tv.Task.Priority, tv.Priority, tv.QueueName, tv.Created)
		}
		t.Fatalf("worker %s reservations %+v, want one for %s", workerSID, pending, want)
	}
}

func oldestPending(t *testing.T, r *Router, ws string) *Reservation {
	t.Helper()
	var all []Reservation
	for _, tv := range must[[]TaskView](t)(r.Tasks(ws, TaskFilter{AssignmentStatus: []string{TaskReserved}})) {
		all = append(all, must[[]Reservation](t)(r.Reservations(ws, tv.SID, "", ResPending))...)
	}
	if len(all) == 0 {
		return nil
	}
	best := all[0]
	for _, res := range all[1:] {
		if res.Seq < best.Seq {
			best = res
		}
	}
	return &best
}

// TestReservationTimeoutAndReject: a worker who lets a reservation time
// out goes to the timeout activity and the task goes to the next worker,
// the longest idle; a rejecting worker is not offered the task again.
func TestReservationTimeoutAndReject(t *testing.T) {
	r, clock := newTestRouter(t, Options{})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w"), Template: "FIFO"})).SID
	avail, offline := activityByName(t, r, ws, "Available"), activityByName(t, r, ws, "Offline")
	wf := must[[]Workflow](t)(r.Workflows(ws, ""))[0]
	must[Workflow](t)(r.UpdateWorkflow(ws, wf.SID, WorkflowParams{TaskReservationTimeout: ptr(20)}))
	var workers []string
	for i := range 3 {
		w := must[WorkerView](t)(r.CreateWorker(ws, WorkerParams{FriendlyName: ptr(fmt.Sprint("w", i))}))
		workers = append(workers, w.SID)
		advance(r, clock, time.Second)
		must[WorkerView](t)(r.UpdateWorker(ws, w.SID, WorkerParams{ActivitySID: &avail}))
	}
	task := must[TaskView](t)(r.CreateTask(ws, TaskParams{Attributes: ptr(`{"x":1}`)}))
	res := must[[]Reservation](t)(r.Reservations(ws, task.SID, "", ResPending))
	if len(res) != 1 || res[0].WorkerSID != workers[0] {
		t.Fatalf("first reservation %+v, want the longest idle %s", res, workers[0])
	}
	advance(r, clock, 21*time.Second)
	if w := must[WorkerView](t)(r.Worker(ws, workers[0])); w.ActivitySID != offline {
		t.Errorf("timed-out worker is %s, want Offline", w.ActivityName)
	}
	res = must[[]Reservation](t)(r.Reservations(ws, task.SID, "", ""))
	if len(res) != 2 || res[0].Status != ResTimeout || res[1].WorkerSID != workers[1] || res[1].Status != ResPending {
		t.Fatalf("after timeout: %+v", res)
	}
	must[Reservation](t)(r.UpdateReservation(ws, res[1].SID, ReservationParams{Status: ResRejected}))
	res = must[[]Reservation](t)(r.Reservations(ws, task.SID, "", ""))
	if len(res) != 3 || res[2].WorkerSID != workers[2] {
		t.Fatalf("after reject: %+v", res)
	}
	if w := must[WorkerView](t)(r.Worker(ws, workers[1])); !w.Available {
		t.Error("rejecting worker left available")
	}
	must[Reservation](t)(r.UpdateReservation(ws, res[2].SID, ReservationParams{Status: ResRejected}))
	// Everyone refused: the task waits.
	if tv := must[TaskView](t)(r.Task(ws, task.SID)); tv.AssignmentStatus != TaskPending {
		t.Fatalf("task %s", tv.AssignmentStatus)
	}
	// Task TTL: canceled with Twilio's reason.
	must[TaskView](t)(r.UpdateTask(ws, task.SID, TaskParams{Timeout: ptr(60)}))
	advance(r, clock, time.Minute)
	if tv := must[TaskView](t)(r.Task(ws, task.SID)); tv.AssignmentStatus != TaskCanceled || tv.Reason != "Task TTL Exceeded" {
		t.Fatalf("task %s %q", tv.AssignmentStatus, tv.Reason)
	}
	types := map[string]int{}
	for _, ev := range must[[]Event](t)(r.Events(ws, EventFilter{TaskSID: task.SID})) {
		types[ev.EventType]++
	}
	for _, want := range []string{"task.created", "reservation.created", "reservation.timeout", "reservation.rejected", "task.canceled", "workflow.target-matched"} {
		if types[want] == 0 {
			t.Errorf("no %s event (got %v)", want, types)
		}
	}
}

// TestCapacityAcrossChannels: a worker with chat capacity 2 holds two
// chats and a call at once, never a second call.
func TestCapacityAcrossChannels(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w"), Template: "FIFO"})).SID
	avail := activityByName(t, r, ws, "Available")
	w := must[WorkerView](t)(r.CreateWorker(ws, WorkerParams{FriendlyName: ptr("a")}))
	must[WorkerChannelView](t)(r.UpdateWorkerChannel(ws, w.SID, "chat", ptr(2), nil))
	for _, ch := range []string{"voice", "voice", "chat", "chat", "chat", "sms"} {
		must[TaskView](t)(r.CreateTask(ws, TaskParams{TaskChannel: ptr(ch)}))
	}
	must[WorkerView](t)(r.UpdateWorker(ws, w.SID, WorkerParams{ActivitySID: &avail}))
	got := map[string]int{}
	for _, res := range must[[]Reservation](t)(r.Reservations(ws, "", w.SID, ResPending)) {
		got[must[TaskView](t)(r.Task(ws, res.TaskSID)).TaskChannelUniqueName]++
	}
	if got["voice"] != 1 || got["chat"] != 2 || got["sms"] != 1 {
		t.Errorf("reserved per channel %v, want voice 1, chat 2, sms 1", got)
	}
}

// TestBadExpressionsRefusedWithPosition: a workflow or queue with a
// malformed expression is refused when saved, naming where.
func TestBadExpressionsRefusedWithPosition(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w")})).SID
	_, err := r.CreateTaskQueue(ws, QueueParams{FriendlyName: ptr("q"), TargetWorkers: ptr("skills HAS")})
	if e, ok := err.(*Error); !ok || e.Code != codeInvalid || e.Status != 400 ||
		e.Message != `TargetWorkers: invalid expression: position 11: expected a value or an attribute, found the end of the expression` {
		t.Errorf("queue: %v", err)
	}
	q := must[TaskQueue](t)(r.CreateTaskQueue(ws, QueueParams{FriendlyName: ptr("q")}))
	cfg := `{"task_routing":{"filters":[{"expression":"language == 'es' AND","targets":[{"queue":"` + q.SID + `"}]}]}}`
	_, err = r.CreateWorkflow(ws, WorkflowParams{FriendlyName: ptr("f"), Configuration: &cfg})
	if e, ok := err.(*Error); !ok || e.Code != codeInvalid ||
		e.Message != `Invalid Configuration: configuration: task_routing.filters[0].expression: position 21: expected a value or an attribute, found the end of the expression` {
		t.Errorf("workflow: %v", err)
	}
	cfg = `{"task_routing":{"filters":[],"default_filter":{"queue":"WQ00000000000000000000000000000000"}}}`
	if _, err = r.CreateWorkflow(ws, WorkflowParams{FriendlyName: ptr("f"), Configuration: &cfg}); err == nil {
		t.Error("unknown queue accepted")
	}
}

// TestFinishedTasksForgotten: a finished task and its reservations are
// deleted once the retention has passed.
func TestFinishedTasksForgotten(t *testing.T) {
	r, clock := newTestRouter(t, Options{FinishedRetention: time.Hour})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w"), Template: "FIFO"})).SID
	w := must[WorkerView](t)(r.CreateWorker(ws, WorkerParams{FriendlyName: ptr("a"), ActivitySID: ptr(activityByName(t, r, ws, "Available"))}))
	task := must[TaskView](t)(r.CreateTask(ws, TaskParams{}))
	res := must[[]Reservation](t)(r.Reservations(ws, task.SID, "", ResPending))[0]
	must[Reservation](t)(r.UpdateReservation(ws, res.SID, ReservationParams{Status: ResAccepted}))
	must[TaskView](t)(r.UpdateTask(ws, task.SID, TaskParams{AssignmentStatus: ptr(TaskCompleted)}))
	advance(r, clock, 59*time.Minute)
	if _, err := r.Task(ws, task.SID); err != nil {
		t.Fatalf("task forgotten too early: %v", err)
	}
	advance(r, clock, 2*time.Minute)
	if _, err := r.Task(ws, task.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("finished task still there: %v", err)
	}
	if _, err := r.Reservation(ws, res.SID); !errors.Is(err, ErrNotFound) {
		t.Errorf("its reservation still there: %v", err)
	}
	if got := must[[]Reservation](t)(r.Reservations(ws, "", w.SID, "")); len(got) != 0 {
		t.Errorf("worker still lists %d reservations", len(got))
	}
}

// TestAssignmentCallback: the workflow's assignment callback gets each
// reservation (signed) and its JSON answer is carried out: reject for
// the first worker, accept for the second.
func TestAssignmentCallback(t *testing.T) {
	got := make(chan url.Values, 10)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		if req.Header.Get("X-Twilio-Signature") != signature("0123456789abcdef0123456789abcdef", "http://"+req.Host+req.URL.Path, req.PostForm) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		got <- req.PostForm
		if req.PostForm.Get("WorkerName") == "first" {
			fmt.Fprint(w, `{"instruction":"reject"}`)
			return
		}
		fmt.Fprint(w, `{"instruction":"accept"}`)
	}))
	defer app.Close()
	r, clock := newTestRouter(t, Options{AuthToken: "0123456789abcdef0123456789abcdef"})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w"), Template: "FIFO"})).SID
	avail := activityByName(t, r, ws, "Available")
	wf := must[[]Workflow](t)(r.Workflows(ws, ""))[0]
	must[Workflow](t)(r.UpdateWorkflow(ws, wf.SID, WorkflowParams{AssignmentCallbackURL: ptr(app.URL + "/assign")}))
	for _, name := range []string{"first", "second"} {
		must[WorkerView](t)(r.CreateWorker(ws, WorkerParams{FriendlyName: ptr(name), ActivitySID: &avail}))
		clock.Advance(time.Second)
	}
	task := must[TaskView](t)(r.CreateTask(ws, TaskParams{Attributes: ptr(`{"a":1}`)}))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if tv, _ := r.Task(ws, task.SID); tv.AssignmentStatus == TaskAssigned {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := must[[]Reservation](t)(r.Reservations(ws, task.SID, "", ""))
	if len(res) != 2 || res[0].Status != ResRejected || res[0].WorkerName != "first" || res[1].Status != ResAccepted || res[1].WorkerName != "second" {
		t.Fatalf("reservations %+v", res)
	}
	first := <-got
	if first.Get("TaskSid") != task.SID || first.Get("ReservationSid") != res[0].SID || first.Get("TaskAttributes") != `{"a":1}` || first.Get("WorkflowSid") != wf.SID {
		t.Errorf("callback form %v", first)
	}
}
