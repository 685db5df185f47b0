package ivr

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/voxgate/voxgate/taskrouter"
)

// workflowHarness is an engine with a TaskRouter holding a FIFO
// workspace whose workers' contact URIs are the fake dialer's targets.
func workflowHarness(t *testing.T, contacts ...string) (*harness, *fakeDialer, *taskrouter.Router, string) {
	t.Helper()
	h, d := dialHarness(t, "")
	r, err := taskrouter.New(context.Background(), taskrouter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	name := "w"
	ws, err := r.CreateWorkspace(taskrouter.WorkspaceParams{FriendlyName: &name, Template: "FIFO"})
	if err != nil {
		t.Fatal(err)
	}
	acts, _ := r.Activities(ws.SID)
	var avail string
	for _, a := range acts {
		if a.FriendlyName == "Available" {
			avail = a.SID
		}
	}
	for i, c := range contacts {
		n, attrs := string(rune('a'+i)), `{"contact_uri":"`+c+`"}`
		if _, err := r.CreateWorker(ws.SID, taskrouter.WorkerParams{FriendlyName: &n, Attributes: &attrs, ActivitySID: &avail}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct idle times: a is the longest idle
	}
	wfs, _ := r.Workflows(ws.SID, "")
	h.eng.cfg.Services = []any{r}
	h.app.set("/voice", `<Response><Enqueue workflowSid="`+wfs[0].SID+`" action="/after"><Task priority="3">{"type":"support"}</Task></Enqueue></Response>`)
	return h, d, r, ws.SID
}

// acceptNext accepts the next pending reservation of the workspace's only
// task and returns the task.
func acceptNext(t *testing.T, r *taskrouter.Router, ws string) taskrouter.TaskView {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := r.Tasks(ws, taskrouter.TaskFilter{AssignmentStatus: []string{taskrouter.TaskReserved}})
		if len(tasks) == 1 {
			if _, err := r.UpdateReservation(ws, tasks[0].ReservationSID, taskrouter.ReservationParams{Status: taskrouter.ResAccepted}); err != nil {
				t.Fatal(err)
			}
			return tasks[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no reservation to accept")
	return taskrouter.TaskView{}
}

// TestEnqueueWorkflowNextWorkerWhenPhoneBusy: the first worker's phone is
// busy, so the task goes back in line and the next worker's phone is
// bridged; when it hangs up the task wraps and the action gets
// QueueResult=bridged with the TaskSid.
func TestEnqueueWorkflowNextWorkerWhenPhoneBusy(t *testing.T) {
	h, d, r, ws := workflowHarness(t, "busy", "sip:b@example.com")
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1) // hold music while routing
	task := acceptNext(t, r, ws)
	if task.Priority != 3 {
		t.Errorf("task priority %d", task.Priority)
	}
	acceptNext(t, r, ws) // back in line after "busy": the second worker
	worker := d.call("sip:b@example.com")
	if worker == nil {
		t.Fatal("the second worker's phone was not dialled")
	}
	time.Sleep(50 * time.Millisecond)
	worker.leg.Close("worker hung up")
	h.wait(t)
	after := h.app.requests("/after")
	if len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" || after[0].form.Get("TaskSid") != task.SID {
		t.Fatalf("action %+v", after)
	}
	tv, _ := r.Task(ws, task.SID)
	res, _ := r.Reservations(ws, task.SID, "", "")
	if tv.AssignmentStatus != taskrouter.TaskWrapping || len(res) != 2 || res[0].Status != taskrouter.ResCanceled || res[1].Status != taskrouter.ResWrapping {
		t.Errorf("task %s, reservations %+v", tv.AssignmentStatus, res)
	}
	if d.reqs[0].Headers[TaskHeader] != task.SID {
		t.Errorf("dial headers %v", d.reqs[0].Headers)
	}
}

// TestEnqueueWorkflowCallerHangsUp: a caller who hangs up while waiting
// cancels the task with a reason.
func TestEnqueueWorkflowCallerHangsUp(t *testing.T) {
	h, _, r, ws := workflowHarness(t) // no workers: the task waits
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Close("caller hangs up")
	h.wait(t)
	tasks, _ := r.Tasks(ws, taskrouter.TaskFilter{})
	if len(tasks) != 1 || tasks[0].AssignmentStatus != taskrouter.TaskCanceled || tasks[0].Reason != "caller hung up" {
		t.Fatalf("tasks %+v", tasks)
	}
	if after := h.app.requests("/after"); len(after) != 1 || after[0].form.Get("QueueResult") != "hangup" {
		t.Errorf("action %+v", after)
	}
}

// queueTasks carries named queues as tasks of one workflow (a cluster).
type queueTasks struct {
	*taskrouter.Router
	wf string
}

func (q queueTasks) QueueTask(name string) (QueueTaskInfo, error) {
	return QueueTaskInfo{WorkflowSID: q.wf, QueueSID: "QU" + name, MaxSize: 5}, nil
}

func (q queueTasks) QueueStats(queueSID, taskSID string) (QueueStats, error) {
	return QueueStats{}, nil
}

// TestNamedEnqueueAsTask: with QueueTasks among the services, a named
// <Enqueue> becomes a task with the queue's name and SID among its
// attributes (over the <Task>'s), bridged to the worker who accepts it;
// the action gets QueueResult=bridged with the QueueSid and TaskSid.
func TestNamedEnqueueAsTask(t *testing.T) {
	h, d, r, ws := workflowHarness(t, "sip:a@example.com")
	wfs, _ := r.Workflows(ws, "")
	h.eng.cfg.Services = []any{queueTasks{Router: r, wf: wfs[0].SID}}
	h.app.set("/voice", `<Response><Enqueue action="/after">sales<Task priority="2">{"type":"vip","queue":"other"}</Task></Enqueue></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1) // hold music while routing
	task := acceptNext(t, r, ws)
	var attrs map[string]any
	_ = json.Unmarshal([]byte(task.Attributes), &attrs)
	if attrs["queue"] != "sales" || attrs["queue_sid"] != "QUsales" || attrs["type"] != "vip" || task.Priority != 2 {
		t.Errorf("task %+v", task)
	}
	worker := d.call("sip:a@example.com")
	if worker == nil {
		t.Fatal("the worker's phone was not dialled")
	}
	time.Sleep(50 * time.Millisecond)
	worker.leg.Close("worker hung up")
	h.wait(t)
	after := h.app.requests("/after")
	if len(after) != 1 || after[0].form.Get("QueueResult") != "bridged" || after[0].form.Get("QueueSid") != "QUsales" || after[0].form.Get("TaskSid") != task.SID {
		t.Fatalf("action %+v", after)
	}
}
