package taskrouter

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/voxgate/voxgate/store"
)

// benchSetup is a workspace with 10 skills: a queue per skill, a workflow
// routing each task to its skill's queue (escalating after 300 s to
// everyone) and workers holding 3 skills each, initially offline.
type benchSetup struct {
	r         *Router
	ws, wf    string
	available string
	workers   []string
	rng       *rand.Rand
}

const benchSkills = 10

func newBenchSetup(b *testing.B, workers int) *benchSetup {
	return newBenchSetupWith(b, workers, Options{Clock: newFakeClock(), EventsKept: 1000})
}

func newBenchSetupWith(b *testing.B, workers int, opts Options) *benchSetup {
	b.Helper()
	r, err := New(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	s := &benchSetup{r: r, rng: rand.New(rand.NewPCG(1, 2))}
	ws, _ := r.CreateWorkspace(WorkspaceParams{FriendlyName: ptr("bench")})
	s.ws = ws.SID
	acts, _ := r.Activities(s.ws)
	for _, a := range acts {
		if a.FriendlyName == "Available" {
			s.available = a.SID
		}
	}
	everyone, _ := r.CreateTaskQueue(s.ws, QueueParams{FriendlyName: ptr("everyone")})
	filters := ""
	for i := range benchSkills {
		q, err := r.CreateTaskQueue(s.ws, QueueParams{FriendlyName: ptr(fmt.Sprint("skill", i)), TargetWorkers: ptr(fmt.Sprintf("routing.skills HAS 's%d'", i))})
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			filters += ","
		}
		filters += fmt.Sprintf(`{"expression":"skill == 's%d'","targets":[{"queue":%q,"timeout":300},{"queue":%q}]}`, i, q.SID, everyone.SID)
	}
	cfg := `{"task_routing":{"filters":[` + filters + `],"default_filter":{"queue":"` + everyone.SID + `"}}}`
	wf, err := r.CreateWorkflow(s.ws, WorkflowParams{FriendlyName: ptr("bench"), Configuration: &cfg})
	if err != nil {
		b.Fatal(err)
	}
	s.wf = wf.SID
	for i := range workers {
		skills := s.rng.Perm(benchSkills)[:3]
		attrs := fmt.Sprintf(`{"routing":{"skills":["s%d","s%d","s%d"]}}`, skills[0], skills[1], skills[2])
		w, err := r.CreateWorker(s.ws, WorkerParams{FriendlyName: ptr(fmt.Sprint("w", i)), Attributes: &attrs})
		if err != nil {
			b.Fatal(err)
		}
		s.workers = append(s.workers, w.SID)
	}
	return s
}

func (s *benchSetup) task(b *testing.B, skill string) TaskView {
	attrs := fmt.Sprintf(`{"skill":%q,"n":%d}`, skill, s.rng.IntN(1000))
	t, err := s.r.CreateTask(s.ws, TaskParams{WorkflowSID: &s.wf, Attributes: &attrs, Priority: ptr(s.rng.IntN(3)), TaskChannel: ptr("voice")})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// pendingReservation returns the worker's pending reservation.
func (s *benchSetup) pendingReservation(b *testing.B, worker string) (Reservation, bool) {
	list, err := s.r.Reservations(s.ws, "", worker, ResPending)
	if err != nil {
		b.Fatal(err)
	}
	if len(list) == 0 {
		return Reservation{}, false
	}
	return list[0], true
}

// BenchmarkAssignmentDecisions: 1,000 busy workers and 10,000 waiting
// tasks; each operation is one decision: a worker completes its task and
// the engine picks its next one (highest priority, oldest, among its
// skills' queues), the worker accepts, and a new task arrives to keep the
// backlog at 10,000.
func BenchmarkAssignmentDecisions(b *testing.B) {
	s := newBenchSetup(b, 1000)
	for range 11000 {
		s.task(b, fmt.Sprint("s", s.rng.IntN(benchSkills)))
	}
	assigned := map[string]string{} // worker → its assigned task
	for _, w := range s.workers {
		if _, err := s.r.UpdateWorker(s.ws, w, WorkerParams{ActivitySID: &s.available}); err != nil {
			b.Fatal(err)
		}
		res, ok := s.pendingReservation(b, w)
		if !ok {
			b.Fatalf("worker %s got nothing", w)
		}
		if _, err := s.r.UpdateReservation(s.ws, res.SID, ReservationParams{Status: ResAccepted}); err != nil {
			b.Fatal(err)
		}
		assigned[w] = res.TaskSID
	}
	if n := len(s.r.mustPending(b, s.ws)); n != 10000 {
		b.Fatalf("%d waiting, want 10000", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		w := s.workers[i%len(s.workers)]
		i++
		if _, err := s.r.UpdateTask(s.ws, assigned[w], TaskParams{AssignmentStatus: ptr(TaskCompleted)}); err != nil {
			b.Fatal(err)
		}
		res, ok := s.pendingReservation(b, w)
		if !ok {
			b.Fatalf("worker %s got no next task", w)
		}
		if _, err := s.r.UpdateReservation(s.ws, res.SID, ReservationParams{Status: ResAccepted}); err != nil {
			b.Fatal(err)
		}
		assigned[w] = res.TaskSID
		s.task(b, fmt.Sprint("s", s.rng.IntN(benchSkills)))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func (r *Router) mustPending(b *testing.B, ws string) []TaskView {
	list, err := r.Tasks(ws, TaskFilter{AssignmentStatus: []string{TaskPending}})
	if err != nil {
		b.Fatal(err)
	}
	return list
}

// BenchmarkTaskToReservation: with 10,000 tasks waiting (email, on which
// no worker has capacity) and 1,000 free workers, each
// operation creates a task that a free worker can take and measures the
// time until its reservation exists; the worker then completes it (not
// timed). Reports p50 and p99.
func BenchmarkTaskToReservation(b *testing.B) {
	s := newBenchSetup(b, 1000)
	// The backlog is email, on which no worker has capacity.
	for _, w := range s.workers {
		if _, err := s.r.UpdateWorkerChannel(s.ws, w, "email", ptr(0), nil); err != nil {
			b.Fatal(err)
		}
	}
	for range 10000 {
		attrs := fmt.Sprintf(`{"skill":"s%d"}`, s.rng.IntN(benchSkills))
		if _, err := s.r.CreateTask(s.ws, TaskParams{WorkflowSID: &s.wf, Attributes: &attrs, TaskChannel: ptr("email")}); err != nil {
			b.Fatal(err)
		}
	}
	for _, w := range s.workers {
		if _, err := s.r.UpdateWorker(s.ws, w, WorkerParams{ActivitySID: &s.available}); err != nil {
			b.Fatal(err)
		}
	}
	if n := len(s.r.mustPending(b, s.ws)); n != 10000 {
		b.Fatalf("%d waiting, want 10000", n)
	}
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		t := s.task(b, fmt.Sprint("s", s.rng.IntN(benchSkills)))
		d := time.Since(start)
		if t.AssignmentStatus != TaskReserved {
			b.Fatalf("task %s right after creation", t.AssignmentStatus)
		}
		lat = append(lat, d)
		b.StopTimer()
		if _, err := s.r.UpdateReservation(s.ws, t.ReservationSID, ReservationParams{Status: ResAccepted}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.r.UpdateTask(s.ws, t.SID, TaskParams{AssignmentStatus: ptr(TaskCompleted)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkRESTTaskToReservation is BenchmarkTaskToReservation through
// the REST API (POST …/Tasks over loopback HTTP): the 201 response already
// says "reserved", so its round trip bounds the time to reservation.
func BenchmarkRESTTaskToReservation(b *testing.B) {
	benchREST(b, newBenchSetup(b, 1000))
}

// BenchmarkRESTTaskToReservationSQLite is the same with the gateway's
// SQLite store behind the router (written behind, every 50 ms) and the
// wall clock.
func BenchmarkRESTTaskToReservationSQLite(b *testing.B) {
	db, err := store.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	benchREST(b, newBenchSetupWith(b, 1000, Options{Store: db, EventsKept: 1000}))
}

func benchREST(b *testing.B, s *benchSetup) {
	for _, w := range s.workers {
		if _, err := s.r.UpdateWorker(s.ws, w, WorkerParams{ActivitySID: &s.available}); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(s.r.Handler())
	defer srv.Close()
	client := srv.Client()
	tasksURL := srv.URL + RESTPrefix + "/" + s.ws + "/Tasks"
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		form := url.Values{"WorkflowSid": {s.wf}, "TaskChannel": {"voice"},
			"Attributes": {fmt.Sprintf(`{"skill":"s%d"}`, s.rng.IntN(benchSkills))}}
		start := time.Now()
		resp, err := client.PostForm(tasksURL, form)
		if err != nil {
			b.Fatal(err)
		}
		var t struct {
			SID    string `json:"sid"`
			Status string `json:"assignment_status"`
		}
		err = json.NewDecoder(resp.Body).Decode(&t)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil || t.Status != TaskReserved {
			b.Fatalf("task %+v, %v", t, err)
		}
		lat = append(lat, d)
		b.StopTimer()
		tv, err := s.r.Task(s.ws, t.SID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.r.UpdateReservation(s.ws, tv.ReservationSID, ReservationParams{Status: ResAccepted}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.r.UpdateTask(s.ws, t.SID, TaskParams{AssignmentStatus: ptr(TaskCompleted)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
