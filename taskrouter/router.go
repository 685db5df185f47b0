// Package taskrouter is Voxgate's TaskRouter: workspaces, activities,
// task channels, workers, task queues, workflows, tasks, reservations and
// events with Twilio's semantics, and the engine that reserves tasks to
// workers.
//
// All state belongs to one Router behind one mutex; every method takes it
// for a short, non-blocking critical section (no I/O happens under it:
// persistence is written behind by one goroutine, event callbacks are
// posted by another). Timers (reservation timeouts, workflow target
// timeouts, task TTLs) sit in one deadline heap served by one goroutine.
//
// Routing (Twilio's documented algorithm on one node): a new task is
// matched against its workflow's filters top-down; the first match (or
// the default filter) gives targets, tried in order. In a target the task
// waits in the target's queue, ordered by priority (highest first), then
// age (oldest first; newest first for a LIFO queue); an eligible worker —
// matching the queue's target_workers and the target's expression, in an
// available activity, with free capacity on the task's channel, not
// having refused the task — gets a reservation, the longest-idle first
// (or by order_by). When the task's age passes the target's timeout it
// moves to the next target; after the last, a workflow.timeout event and
// the default filter. A rejected or timed-out reservation puts the task
// back; a timeout also moves the worker to the workspace's
// timeout_activity.
package taskrouter

import (
	"container/heap"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// Clock gives the time; tests use a fake one.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Options configure a Router. The zero value runs in memory with the wall
// clock.
type Options struct {
	// AccountSID is reported in every resource.
	AccountSID string
	// AuthToken signs event callbacks (X-Twilio-Signature); "" leaves
	// them unsigned.
	AuthToken string
	// Store persists resources (store.SQLite); nil keeps them in memory.
	Store Store
	// Clock is the time source; with a Clock set, timers are not run by a
	// goroutine: the caller runs them with RunDue (tests with fake time).
	Clock Clock
	// Logger receives routing decisions at debug level (default discard).
	Logger *slog.Logger
	// HTTPClient posts event callbacks (default: 15 s timeout).
	HTTPClient *http.Client
	// EventsKept is how many events each workspace keeps (default
	// DefaultEventsKept); older ones are forgotten.
	EventsKept int
	// PublicURL is the gateway's base URL, for resource links ("" = the
	// request's host).
	PublicURL string
	// FinishedRetention is how long a completed or canceled task (and
	// its reservations) is kept before it is deleted (default
	// DefaultFinishedRetention).
	FinishedRetention time.Duration
	// LiveGrace, when positive, keeps the tasks of live contacts (calls,
	// web chats) found at load for that long instead of ending them at
	// once: in a cluster, the new TaskRouter leader's load is not the
	// end of those contacts, whose node adopts each task again
	// (AdoptContactTask). Tasks nobody adopts in time end as at a restart.
	LiveGrace time.Duration
}

// Router owns every TaskRouter resource. Create it with New, end it with
// Close.
type Router struct {
	opts  Options
	clock Clock
	log   *slog.Logger

	mu         sync.Mutex
	workspaces map[string]*workspace
	bySID      map[string]*workspace // workflow, queue, worker, task, reservation SID → its workspace
	deadlines  deadlineHeap
	seq        uint64
	journal    *journal
	callbacks  *callbacker
	subs       map[string]map[*Subscription]struct{} // worker SID → desktop subscriptions

	wake        chan struct{}
	runCtx      context.Context // ends with Close
	assignSlots chan struct{}   // bounds assignment callbacks in flight
	cancel      context.CancelFunc
	done        sync.WaitGroup
}

// New makes a Router and loads what opts.Store holds.
func New(ctx context.Context, opts Options) (*Router, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FinishedRetention <= 0 {
		opts.FinishedRetention = DefaultFinishedRetention
	}
	if opts.EventsKept <= 0 {
		opts.EventsKept = DefaultEventsKept
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	manual := opts.Clock != nil
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	r := &Router{
		opts: opts, clock: opts.Clock, log: opts.Logger,
		workspaces: map[string]*workspace{}, bySID: map[string]*workspace{},
		subs: map[string]map[*Subscription]struct{}{}, wake: make(chan struct{}, 1),
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel, r.runCtx = cancel, runCtx
	r.assignSlots = make(chan struct{}, maxAssignmentCallbacks)
	r.callbacks = newCallbacker(runCtx, opts.HTTPClient, r.log, opts.AuthToken, &r.done)
	if opts.Store != nil {
		r.journal = newJournal(opts.Store, r.log)
		if err := r.load(ctx); err != nil {
			cancel()
			r.done.Wait()
			return nil, err
		}
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			r.journal.run(runCtx, r)
		}()
	}
	if !manual {
		r.done.Add(1)
		go r.timerLoop(runCtx)
	}
	return r, nil
}

// Close stops the timers and callbacks and writes what is not yet
// persisted.
func (r *Router) Close() error {
	r.cancel()
	r.done.Wait()
	return r.Flush()
}

// Flush writes pending changes to the store now.
func (r *Router) Flush() error {
	if r.journal == nil {
		return nil
	}
	return r.journal.flush(r)
}

// timerLoop runs due deadlines until ctx ends.
func (r *Router) timerLoop(ctx context.Context) {
	defer r.done.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		r.mu.Lock()
		wait := time.Hour
		if len(r.deadlines) > 0 {
			wait = max(r.deadlines[0].at.Sub(r.clock.Now()), 0)
		}
		r.mu.Unlock()
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
			r.RunDue()
		}
	}
}

// RunDue fires every deadline that has passed. The timer goroutine calls
// it; with a fake Clock, tests do.
func (r *Router) RunDue() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	for len(r.deadlines) > 0 && !r.deadlines[0].at.After(now) {
		d := heap.Pop(&r.deadlines).(deadline)
		r.fire(d)
	}
}

// deadline kinds.
const (
	dlReservation = iota // reservation timeout
	dlTarget             // workflow target timeout
	dlTTL                // task TTL
	dlForget             // a finished task's retention ended
	dlLiveGrace          // a loaded live task was not adopted in time
)

type deadline struct {
	at   time.Time
	kind int
	sid  string // reservation or task
	gen  uint64 // the task's routing generation when set (dlTarget)
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// schedule adds a deadline; r.mu held.
func (r *Router) schedule(d deadline) {
	earliest := len(r.deadlines) == 0 || d.at.Before(r.deadlines[0].at)
	heap.Push(&r.deadlines, d)
	if earliest {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// fire handles one due deadline; stale ones are ignored. r.mu held.
func (r *Router) fire(d deadline) {
	ws := r.bySID[d.sid]
	if ws == nil {
		return
	}
	switch d.kind {
	case dlReservation:
		if res := ws.reservations[d.sid]; res != nil && res.Status == ResPending {
			r.timeoutReservation(ws, res)
		}
	case dlTarget:
		if t := ws.tasks[d.sid]; t != nil && t.gen == d.gen && (t.AssignmentStatus == TaskPending || t.AssignmentStatus == TaskReserved) {
			r.targetTimedOut(ws, t)
		}
	case dlForget:
		if t := ws.tasks[d.sid]; t != nil && finished(t.AssignmentStatus) {
			r.dropTask(ws, t)
		}
	case dlTTL:
		if t := ws.tasks[d.sid]; t != nil && (t.AssignmentStatus == TaskPending || t.AssignmentStatus == TaskReserved) {
			r.cancelTask(ws, t, "Task TTL Exceeded")
		}
	case dlLiveGrace:
		if t := ws.tasks[d.sid]; t != nil && t.orphan {
			t.orphan = false
			r.endLive(ws, t)
		}
	}
}

// now is the clock's time truncated to milliseconds, so that persisted
// and reported times agree.
func (r *Router) now() time.Time { return r.clock.Now().UTC().Truncate(time.Millisecond) }

func newSID(prefix string) string { return sid.New(prefix) }
