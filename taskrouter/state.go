package taskrouter

import (
	"slices"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// workspace is a Workspace and everything in it.
type workspace struct {
	Workspace
	activities   map[string]*Activity
	channels     map[string]*TaskChannel // by SID
	channelNames map[string]*TaskChannel // by unique name
	workers      map[string]*worker
	queues       map[string]*queue
	workflows    map[string]*workflow
	tasks        map[string]*task
	reservations map[string]*reservation
	events       []Event // oldest first, at most Options.EventsKept
}

func newWorkspace(w Workspace) *workspace {
	return &workspace{
		Workspace:  w,
		activities: map[string]*Activity{}, channels: map[string]*TaskChannel{}, channelNames: map[string]*TaskChannel{},
		workers: map[string]*worker{}, queues: map[string]*queue{}, workflows: map[string]*workflow{},
		tasks: map[string]*task{}, reservations: map[string]*reservation{},
	}
}

// worker is a Worker with its parsed attributes and current load.
type worker struct {
	Worker
	attrs  map[string]any
	queues []*queue        // queues whose target_workers it matches
	load   map[string]int  // task channel unique name → tasks reserved, assigned or wrapping
	tasks  map[string]bool // task SIDs it holds (reserved, assigned, wrapping)
	resvs  []*reservation  // every reservation it was offered, oldest first
	avail  bool            // its activity is an available one (activities never change availability)
}

// queue is a TaskQueue with its workers and its waiting tasks in order.
type queue struct {
	TaskQueue
	target  *expr.Expr // nil: nobody (empty target_workers)
	workers map[string]*worker
	members []*worker          // workers as a slice, for fast scans; nil after a change (see list)
	pending map[string][]*task // task channel unique name → pending tasks, best first
	waiting int                // pending tasks on every channel
}

// workflow is a Workflow with its parsed configuration.
type workflow struct {
	Workflow
	routing *routing
}

// task is a Task with its parsed attributes and routing state.
type task struct {
	Task
	attrs    map[string]any
	queue    *queue      // the queue it waits in (pending) or was reserved from
	target   routeTarget // the current target
	prio     int         // effective priority (target priority overrides)
	gen      uint64      // routing generation, bumps on every move
	refused  map[string]bool
	res      *reservation   // the live (pending or accepted) reservation
	resvs    []*reservation // every reservation of the task, oldest first
	onAccept []func(Assignment)
	onEnd    []func(status, reason string)
	// orphan: a live contact's task loaded by a new process, waiting
	// (Options.LiveGrace) for its contact's node to adopt it.
	orphan   bool
	accepted *Assignment // the last assignment (for a handle adopted later)
}

// reservation is a Reservation with its task and worker.
type reservation struct {
	Reservation
	task   *task
	worker *worker
}

// before reports whether a is served before b in queue q.
func (q *queue) before(a, b *task) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if !a.VirtualStart.Equal(b.VirtualStart) {
		if q.TaskOrder == "LIFO" {
			return a.VirtualStart.After(b.VirtualStart)
		}
		return a.VirtualStart.Before(b.VirtualStart)
	}
	if q.TaskOrder == "LIFO" {
		return a.Seq > b.Seq
	}
	return a.Seq < b.Seq
}

// insert puts t in its channel's pending list at its place.
func (q *queue) insert(t *task) {
	if q.pending == nil {
		q.pending = map[string][]*task{}
	}
	list := q.pending[t.TaskChannelUniqueName]
	i, _ := slices.BinarySearchFunc(list, t, func(e, t *task) int {
		if q.before(e, t) {
			return -1
		}
		return 1
	})
	q.pending[t.TaskChannelUniqueName] = slices.Insert(list, i, t)
	q.waiting++
}

// remove takes t out of its pending list (if it is there).
func (q *queue) remove(t *task) {
	list := q.pending[t.TaskChannelUniqueName]
	i, _ := slices.BinarySearchFunc(list, t, func(e, t *task) int {
		if e == t {
			return 0
		}
		if q.before(e, t) {
			return -1
		}
		return 1
	})
	if i >= len(list) || list[i] != t {
		i = slices.Index(list, t) // not where the order says: sort keys changed
	}
	if i >= 0 {
		q.pending[t.TaskChannelUniqueName] = slices.Delete(list, i, i+1)
		q.waiting--
	}
}

// list returns the queue's workers as a slice (rebuilt after a change).
func (q *queue) list() []*worker {
	if q.members == nil || len(q.members) != len(q.workers) {
		q.members = make([]*worker, 0, len(q.workers))
		for _, w := range q.workers {
			q.members = append(q.members, w)
		}
	}
	return q.members
}

// join and leave change the queue's workers.
func (q *queue) join(w *worker) {
	if q.workers[w.SID] == nil {
		q.workers[w.SID] = w
		q.members = nil
	}
}

func (q *queue) leave(sid string) {
	if q.workers[sid] != nil {
		delete(q.workers, sid)
		q.members = nil
	}
}

// matches reports whether w fits the queue's target_workers.
func (q *queue) matches(w *worker) bool {
	return q.target != nil && q.target.Eval(expr.Env{Bare: w.attrs, Worker: w.attrs})
}
