package taskrouter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
)

// TestStateSurvivesRestart: after a restart on the same database, tasks
// waiting in queue still wait (and are reserved when a worker comes), a
// task bound to a call of the old process is canceled with a reason, and
// a reservation that was pending is taken back.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := newFakeClock()
	r1, err := New(context.Background(), Options{Store: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ws := must[Workspace](t)(r1.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("persist"), Template: "FIFO"})).SID
	avail := activityByName(t, r1, ws, "Available")
	wf := must[[]Workflow](t)(r1.Workflows(ws, ""))[0].SID
	w1 := must[WorkerView](t)(r1.CreateWorker(ws, WorkerParams{FriendlyName: ptr("alice"), Attributes: ptr(`{"skills":["a"]}`), ActivitySID: &avail}))
	reserved := must[TaskView](t)(r1.CreateTask(ws, TaskParams{Attributes: ptr(`{"n":1}`), Priority: ptr(5)}))
	waiting := must[TaskView](t)(r1.CreateTask(ws, TaskParams{Attributes: ptr(`{"n":2}`)}))
	call, err := r1.CreateContactTask(ContactParams{WorkflowSID: wf, CallSID: "CA00000000000000000000000000000001", From: "+1555", To: "+1666"})
	if err != nil {
		t.Fatal(err)
	}
	if tv := must[TaskView](t)(r1.Task(ws, reserved.SID)); tv.AssignmentStatus != TaskReserved {
		t.Fatalf("first task %s", tv.AssignmentStatus)
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	r2, err := New(context.Background(), Options{Store: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if tv := must[TaskView](t)(r2.Task(ws, call.SID)); tv.AssignmentStatus != TaskCanceled || tv.Reason != RestartReason {
		t.Errorf("call task after restart: %s %q", tv.AssignmentStatus, tv.Reason)
	}
	// The pending reservation was taken back and offered again to the
	// worker, who is still available: the higher-priority task first.
	res := must[[]Reservation](t)(r2.Reservations(ws, reserved.SID, "", ""))
	if len(res) != 2 || res[0].Status != ResRescinded || res[1].Status != ResPending || res[1].WorkerSID != w1.SID {
		t.Fatalf("reservations after restart: %+v", res)
	}
	if tv := must[TaskView](t)(r2.Task(ws, waiting.SID)); tv.AssignmentStatus != TaskPending || tv.QueueName != "Sample Queue" {
		t.Fatalf("waiting task after restart: %s in %q", tv.AssignmentStatus, tv.QueueName)
	}
	must[Reservation](t)(r2.UpdateReservation(ws, res[1].SID, ReservationParams{Status: ResAccepted}))
	must[Reservation](t)(r2.UpdateReservation(ws, res[1].SID, ReservationParams{Status: ResCompleted}))
	next := must[[]Reservation](t)(r2.Reservations(ws, waiting.SID, "", ResPending))
	if len(next) != 1 || next[0].WorkerSID != w1.SID {
		t.Fatalf("waiting task not reserved after the first completed: %+v", next)
	}
	// Everything written by r2 is readable again (4 reservations: the
	// call task had one on the voice channel too).
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := db.LoadTaskRouter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, rec := range recs {
		kinds[rec.Kind]++
	}
	if kinds[PrefixWorkspace] != 1 || kinds[PrefixTask] != 3 || kinds[PrefixWorker] != 1 || kinds[PrefixReservation] != 4 {
		t.Errorf("stored kinds %v", kinds)
	}
	// Deleting a workspace removes its records.
	if err := r2.DeleteWorkspace(ws); err != nil {
		t.Fatal(err)
	}
	_ = r2.Flush()
	if recs, _ := db.LoadTaskRouter(context.Background()); len(recs) != 0 {
		t.Errorf("%d records left after deleting the workspace", len(recs))
	}
	if _, err := r2.Workspace(ws); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted workspace: %v", err)
	}
}

// TestContactRequeue: a call task whose delivery failed goes to the next
// worker, and Wait returns the new assignment.
func TestContactRequeue(t *testing.T) {
	r, clock := newTestRouter(t, Options{})
	ws := must[Workspace](t)(r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("w"), Template: "FIFO"})).SID
	avail := activityByName(t, r, ws, "Available")
	wf := must[[]Workflow](t)(r.Workflows(ws, ""))[0].SID
	for _, n := range []string{"a", "b"} {
		must[WorkerView](t)(r.CreateWorker(ws, WorkerParams{FriendlyName: ptr(n), ActivitySID: &avail, Attributes: ptr(`{"contact_uri":"client:` + n + `"}`)}))
		clock.Advance(time.Second)
	}
	ct, err := r.CreateContactTask(ContactParams{WorkflowSID: wf, CallSID: "CA00000000000000000000000000000002"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"client:a", "client:b"} {
		res := must[[]Reservation](t)(r.Reservations(ws, ct.SID, "", ResPending))
		must[Reservation](t)(r.UpdateReservation(ws, res[0].SID, ReservationParams{Status: ResAccepted}))
		a, err := ct.Wait(context.Background())
		if err != nil || a.To != want {
			t.Fatalf("assignment %d: %+v, %v", i, a, err)
		}
		if i == 0 {
			if err := ct.Requeue("no answer"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ct.Cancel("caller hung up") // assigned: wraps
	if tv := must[TaskView](t)(r.Task(ws, ct.SID)); tv.AssignmentStatus != TaskWrapping {
		t.Errorf("after the call: %s", tv.AssignmentStatus)
	}
}

// TestLiveTasksAdoptedAfterLoad: with LiveGrace, a new process loading
// TaskRouter keeps the tasks of live calls for their node to adopt: a
// waiting one is adopted and then assigned; an assigned one is adopted
// with its assignment ready; one nobody adopts ends when the grace is
// over, as at a restart.
func TestLiveTasksAdoptedAfterLoad(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := newFakeClock()
	r1, err := New(context.Background(), Options{Store: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ws := must[Workspace](t)(r1.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("live"), Template: "FIFO"})).SID
	avail := activityByName(t, r1, ws, "Available")
	wf := must[[]Workflow](t)(r1.Workflows(ws, ""))[0].SID
	alice := must[WorkerView](t)(r1.CreateWorker(ws, WorkerParams{FriendlyName: ptr("alice"), ActivitySID: &avail, Attributes: ptr(`{"contact_uri":"client:alice"}`)}))
	call := func(n string) *ContactTask {
		ct, err := r1.CreateContactTask(ContactParams{WorkflowSID: wf, CallSID: "CA0000000000000000000000000000000" + n})
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	assigned := call("1") // reserved to alice at once, then accepted
	res := must[[]Reservation](t)(r1.Reservations(ws, assigned.SID, "", ResPending))
	must[Reservation](t)(r1.UpdateReservation(ws, res[0].SID, ReservationParams{Status: ResAccepted}))
	waiting, orphan := call("2"), call("3")
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	r2, err := New(context.Background(), Options{Store: db, Clock: clock, LiveGrace: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for _, sid := range []string{assigned.SID, waiting.SID, orphan.SID} {
		if tv := must[TaskView](t)(r2.Task(ws, sid)); finished(tv.AssignmentStatus) || tv.AssignmentStatus == TaskWrapping {
			t.Fatalf("live task %s after the load: %s", sid, tv.AssignmentStatus)
		}
	}
	a1, err := r2.AdoptContactTask(ws, assigned.SID)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := a1.Wait(context.Background()); err != nil || a.To != "client:alice" || a.WorkerSID != alice.SID || a.ReservationSID != res[0].SID {
		t.Errorf("the assigned task's assignment after adoption: %+v %v", a, err)
	}
	a2, err := r2.AdoptContactTask(ws, waiting.SID)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Second)
	r2.RunDue()
	if tv := must[TaskView](t)(r2.Task(ws, orphan.SID)); tv.AssignmentStatus != TaskCanceled || tv.Reason != RestartReason {
		t.Errorf("the task nobody adopted: %s %q", tv.AssignmentStatus, tv.Reason)
	}
	// alice is done with the first call: the adopted waiting task is hers.
	a1.Wrap("call ended")
	must[TaskView](t)(r2.UpdateTask(ws, assigned.SID, TaskParams{AssignmentStatus: ptr(TaskCompleted)}))
	next := must[[]Reservation](t)(r2.Reservations(ws, waiting.SID, "", ResPending))
	if len(next) != 1 {
		t.Fatalf("the adopted task was not reserved: %+v", next)
	}
	must[Reservation](t)(r2.UpdateReservation(ws, next[0].SID, ReservationParams{Status: ResAccepted}))
	if a, err := a2.Wait(context.Background()); err != nil || a.ReservationSID != next[0].SID {
		t.Errorf("the adopted task's assignment: %+v %v", a, err)
	}
	if _, err := r2.AdoptContactTask(ws, orphan.SID); !errors.Is(err, ErrTaskEnded) {
		t.Errorf("adopting an ended task: %v", err)
	}
}
