package taskrouter

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/voxgate/voxgate/store"
)

// TestEnsureDefaults: configured queues and agents become a workspace
// with queues, a workflow and workers; a task naming a queue reaches an
// agent serving it; a second start (after a restart, with a changed
// config) keeps the SIDs and updates the worker.
func TestEnsureDefaults(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := newFakeClock()
	r, err := New(context.Background(), Options{Store: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults{Agents: []DefaultAgent{{ID: "alice", Name: "Alice", Queues: []string{"support"}}, {ID: "bob", Name: "Bob", Queues: []string{"sales", "it's"}}}}
	ids, err := r.EnsureDefaults(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Queues) != 4 || len(ids.Workers) != 2 || ids.WorkflowSID == "" {
		t.Fatalf("ids %+v", ids)
	}
	avail := activityByName(t, r, ids.WorkspaceSID, "Available")
	for _, w := range ids.Workers {
		must[WorkerView](t)(r.UpdateWorker(ids.WorkspaceSID, w, WorkerParams{ActivitySID: &avail}))
	}
	task := must[TaskView](t)(r.CreateTask(ids.WorkspaceSID, TaskParams{Attributes: ptr(`{"queue":"it's"}`)}))
	res := must[[]Reservation](t)(r.Reservations(ids.WorkspaceSID, task.SID, "", ResPending))
	if task.QueueName != "it's" || len(res) != 1 || res[0].WorkerSID != ids.Workers["bob"] {
		t.Fatalf("task in %q reserved %+v, want bob", task.QueueName, res)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r2, err := New(context.Background(), Options{Store: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	d.Agents[0].Queues = []string{"support", "sales"}
	ids2, err := r2.EnsureDefaults(d)
	if err != nil {
		t.Fatal(err)
	}
	if ids2.WorkspaceSID != ids.WorkspaceSID || ids2.WorkflowSID != ids.WorkflowSID || ids2.Workers["alice"] != ids.Workers["alice"] || ids2.Queues["sales"] != ids.Queues["sales"] {
		t.Errorf("SIDs changed across restarts: %+v then %+v", ids, ids2)
	}
	w := must[WorkerView](t)(r2.Worker(ids.WorkspaceSID, ids.Workers["alice"]))
	if w.Available {
		t.Error("an agent's worker is available after a restart, before its page signed in")
	}
	var attrs map[string]any
	_ = json.Unmarshal([]byte(w.Attributes), &attrs)
	if q, _ := attrs["queues"].([]any); len(q) != 2 || attrs["contact_uri"] != "client:alice" {
		t.Errorf("alice's attributes %s", w.Attributes)
	}
	if got := must[[]WorkerView](t)(r2.Workers(ids.WorkspaceSID, WorkerFilter{TaskQueueName: "sales"})); len(got) != 2 {
		t.Errorf("%d workers in sales, want 2", len(got))
	}
}
