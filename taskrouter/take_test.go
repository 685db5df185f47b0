package taskrouter

import (
	"context"
	"errors"
	"testing"
)

// TestTakeContactTask: a waiting contact's task taken outside routing
// (a cluster's <Dial><Queue>) leaves its queue assigned, the contact
// gets the taker's assignment, and wrapping it completes it; a taken task
// whose delivery failed is canceled; a task nobody follows, or one no
// longer pending, cannot be taken.
func TestTakeContactTask(t *testing.T) {
	r, _ := newTestRouter(t, Options{})
	ids, err := r.EnsureDefaults(Defaults{Agents: []DefaultAgent{{ID: "alice", Queues: []string{"sales"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ws := ids.WorkspaceSID
	ct, err := r.CreateContactTask(ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA1", Attributes: `{"queue":"sales"}`})
	if err != nil {
		t.Fatal(err)
	}
	tv := must[TaskView](t)(r.TakeContactTask(ws, ct.SID, Assignment{Instruction: "dequeue", To: "sip:vxq-1@b"}))
	if tv.AssignmentStatus != TaskAssigned {
		t.Fatalf("taken task %s", tv.AssignmentStatus)
	}
	a, err := ct.Wait(context.Background())
	if err != nil || a.To != "sip:vxq-1@b" || a.TaskSID != ct.SID || a.ReservationSID != "" {
		t.Fatalf("assignment %+v %v", a, err)
	}
	if _, err := r.TakeContactTask(ws, ct.SID, Assignment{To: "sip:vxq-2@b"}); err == nil {
		t.Error("an assigned task taken again")
	}
	q := must[[]TaskView](t)(r.Tasks(ws, TaskFilter{AssignmentStatus: []string{TaskPending}}))
	if len(q) != 0 {
		t.Errorf("pending tasks %+v", q)
	}
	ct.Wrap("call ended")
	if tv := must[TaskView](t)(r.Task(ws, ct.SID)); tv.AssignmentStatus != TaskCompleted {
		t.Errorf("a taken task wrapped: %s", tv.AssignmentStatus)
	}

	ct2, err := r.CreateContactTask(ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: "CA2", Attributes: `{"queue":"sales"}`})
	if err != nil {
		t.Fatal(err)
	}
	must[TaskView](t)(r.TakeContactTask(ws, ct2.SID, Assignment{Instruction: "redirect", URL: "http://app/moved"}))
	if a, err := ct2.Wait(context.Background()); err != nil || a.Instruction != "redirect" || a.URL != "http://app/moved" {
		t.Fatalf("assignment %+v %v", a, err)
	}
	if err := ct2.Requeue("the taker did not answer"); err != nil {
		t.Fatal(err)
	}
	if tv := must[TaskView](t)(r.Task(ws, ct2.SID)); tv.AssignmentStatus != TaskCanceled {
		t.Errorf("a taken task whose delivery failed: %s", tv.AssignmentStatus)
	}
	if _, err := ct2.Wait(context.Background()); !errors.Is(err, ErrTaskEnded) {
		t.Errorf("waiting on it: %v", err)
	}

	plain := must[TaskView](t)(r.CreateTask(ws, TaskParams{Attributes: ptr(`{"queue":"sales"}`)}))
	if _, err := r.TakeContactTask(ws, plain.SID, Assignment{To: "sip:x@b"}); err == nil {
		t.Error("a task no contact follows was taken")
	}
}
