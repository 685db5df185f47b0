package taskrouter

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	tr "github.com/twilio/twilio-go/rest/taskrouter/v1"
)

// sdkClient sends twilio-go's requests (built for taskrouter.twilio.com)
// to the test server.
type sdkClient struct {
	*client.Client
	base *url.URL
}

func (c *sdkClient) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = c.base.Scheme, c.base.Host
	return c.Client.SendRequest(method, u.String(), data, headers, body...)
}

// TestTwilioGoTaskRouter: twilio-go's typed TaskRouter client decodes
// every resource the router returns (dates, integers, links) through a
// workspace's life: a task routed, accepted and completed, events read.
func TestTwilioGoTaskRouter(t *testing.T) {
	r, _ := newTestRouter(t, Options{AccountSID: "AC00000000000000000000000000000001"})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	inner := &client.Client{Credentials: client.NewCredentials("AC00000000000000000000000000000001", "x"), HTTPClient: srv.Client()}
	inner.SetAccountSid("AC00000000000000000000000000000001")
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: "AC00000000000000000000000000000001", Password: "x",
		Client: &sdkClient{Client: inner, base: base}})
	api := rc.TaskrouterV1

	ws, err := api.CreateWorkspace((&tr.CreateWorkspaceParams{}).SetFriendlyName("go").SetTemplate("FIFO"))
	if err != nil {
		t.Fatal(err)
	}
	acts, err := api.ListActivity(*ws.Sid, nil)
	if err != nil || len(acts) != 4 {
		t.Fatalf("activities %d, %v", len(acts), err)
	}
	var available string
	for _, a := range acts {
		if *a.FriendlyName == "Available" {
			available = *a.Sid
		}
	}
	q, err := api.CreateTaskQueue(*ws.Sid, (&tr.CreateTaskQueueParams{}).SetFriendlyName("sales").SetTargetWorkers("skills HAS 'sales'"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := `{"task_routing":{"filters":[{"expression":"type == 'sales'","targets":[{"queue":"` + *q.Sid + `","priority":7}]}]}}`
	wf, err := api.CreateWorkflow(*ws.Sid, (&tr.CreateWorkflowParams{}).SetFriendlyName("sales").SetConfiguration(cfg))
	if err != nil {
		t.Fatal(err)
	}
	w, err := api.CreateWorker(*ws.Sid, (&tr.CreateWorkerParams{}).SetFriendlyName("sam").SetAttributes(`{"skills":["sales"]}`).SetActivitySid(available))
	if err != nil || !*w.Available || *w.ActivityName != "Available" {
		t.Fatalf("worker %+v, %v", w, err)
	}
	task, err := api.CreateTask(*ws.Sid, (&tr.CreateTaskParams{}).SetWorkflowSid(*wf.Sid).SetAttributes(`{"type":"sales"}`).SetTimeout(600))
	if err != nil {
		t.Fatal(err)
	}
	if *task.AssignmentStatus != "reserved" || task.Priority != 7 || task.Timeout != 600 || *task.TaskQueueFriendlyName != "sales" || task.DateCreated == nil {
		t.Fatalf("task %+v", task)
	}
	res, err := api.ListTaskReservation(*ws.Sid, *task.Sid, nil)
	if err != nil || len(res) != 1 || *res[0].WorkerName != "sam" {
		t.Fatalf("reservations %+v, %v", res, err)
	}
	if _, err := api.UpdateTaskReservation(*ws.Sid, *task.Sid, *res[0].Sid, (&tr.UpdateTaskReservationParams{}).SetReservationStatus("accepted")); err != nil {
		t.Fatal(err)
	}
	done, err := api.UpdateTask(*ws.Sid, *task.Sid, (&tr.UpdateTaskParams{}).SetAssignmentStatus("completed").SetReason("done"))
	if err != nil || *done.AssignmentStatus != "completed" || *done.Reason != "done" {
		t.Fatalf("completed %+v, %v", done, err)
	}
	tasks, err := api.ListTask(*ws.Sid, (&tr.ListTaskParams{}).SetAssignmentStatus([]string{"completed"}))
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %d, %v", len(tasks), err)
	}
	events, err := api.ListEvent(*ws.Sid, (&tr.ListEventParams{}).SetTaskSid(*task.Sid))
	if err != nil || len(events) < 5 || events[0].EventDate == nil || events[0].EventDateMs == nil {
		t.Fatalf("events %d, %v", len(events), err)
	}
	stats, err := api.FetchWorkspaceRealTimeStatistics(*ws.Sid, nil)
	if err != nil || stats.TotalWorkers != 1 || stats.TotalTasks != 0 || stats.ActivityStatistics == nil || len(*stats.ActivityStatistics) != 4 {
		t.Fatalf("statistics %+v, %v", stats, err)
	}
	if _, err := api.FetchTask(*ws.Sid, "WT00000000000000000000000000000000"); err == nil {
		t.Error("unknown task fetched")
	} else if e, ok := err.(*client.TwilioRestError); !ok || e.Code != 20404 || e.Status != 404 {
		t.Errorf("unknown task: %v", err)
	}
}
