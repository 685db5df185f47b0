package taskrouter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/store"
)

// Store is where a Router keeps its resources (*store.SQLite).
type Store = store.TaskRouterStore

// flushInterval is how long a change may wait before it is written.
const flushInterval = 50 * time.Millisecond

// RestartReason is the reason given to call tasks canceled because the
// gateway holding their call restarted.
const RestartReason = "Gateway restarted: the caller's call ended"

// journal writes changed resources behind the router: routing marks SIDs
// dirty under the router's lock, one goroutine writes them in batches.
type journal struct {
	st      Store
	log     *slog.Logger
	dirty   map[string]bool // SID → true: write it; false: delete it (guarded by Router.mu)
	writeMu sync.Mutex      // one batch at a time, in order
}

func newJournal(st Store, log *slog.Logger) *journal {
	return &journal{st: st, log: log, dirty: map[string]bool{}}
}

// run writes batches until ctx ends.
func (j *journal) run(ctx context.Context, r *Router) {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := j.flush(r); err != nil {
				j.log.Error("taskrouter: persisting", "error", err)
			}
		}
	}
}

// dirty marks resources changed; r.mu held.
func (r *Router) dirty(ws *workspace, sids ...string) {
	if r.journal == nil {
		return
	}
	for _, s := range sids {
		r.journal.dirty[s] = true
	}
}

// forget marks resources deleted; r.mu held.
func (r *Router) forget(sids ...string) {
	if r.journal == nil {
		return
	}
	for _, s := range sids {
		r.journal.dirty[s] = false
	}
}

// flush writes what changed since the last flush.
func (j *journal) flush(r *Router) error {
	j.writeMu.Lock()
	defer j.writeMu.Unlock()
	r.mu.Lock()
	var puts []store.TaskRouterRecord
	var dels []string
	for sid, put := range j.dirty {
		if !put {
			dels = append(dels, sid)
			continue
		}
		rec, ok, err := r.record(sid)
		if err != nil {
			r.mu.Unlock()
			return err
		}
		if ok {
			puts = append(puts, rec)
		} else {
			dels = append(dels, sid)
		}
	}
	clear(j.dirty)
	r.mu.Unlock()
	if len(puts) == 0 && len(dels) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return j.st.SaveTaskRouter(ctx, puts, dels)
}

// record marshals the resource with sid; r.mu held.
func (r *Router) record(sid string) (store.TaskRouterRecord, bool, error) {
	ws := r.bySID[sid]
	if ws == nil {
		return store.TaskRouterRecord{}, false, nil
	}
	var v any
	switch sid[:2] {
	case PrefixWorkspace:
		v = ws.Workspace
	case PrefixActivity:
		v = ws.activities[sid]
	case PrefixTaskChannel:
		v = ws.channels[sid]
	case PrefixWorker:
		v = ws.workers[sid].Worker
	case PrefixTaskQueue:
		v = ws.queues[sid].TaskQueue
	case PrefixWorkflow:
		v = ws.workflows[sid].Workflow
	case PrefixTask:
		v = ws.tasks[sid].Task
	case PrefixReservation:
		v = ws.reservations[sid].Reservation
	default:
		return store.TaskRouterRecord{}, false, nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return store.TaskRouterRecord{}, false, fmt.Errorf("taskrouter: persist %s: %w", sid, err)
	}
	return store.TaskRouterRecord{SID: sid, WorkspaceSID: ws.SID, Kind: sid[:2], Body: body}, true, nil
}

// load rebuilds the state from the store: resources in dependency order,
// then waiting tasks back in their queues. Tasks bound to a call of the
// previous process are canceled (pending, reserved) or wrapped (assigned):
// that call is gone.
func (r *Router) load(ctx context.Context) error {
	recs, err := r.opts.Store.LoadTaskRouter(ctx)
	if err != nil {
		return fmt.Errorf("taskrouter: load: %w", err)
	}
	order := []string{PrefixWorkspace, PrefixActivity, PrefixTaskChannel, PrefixTaskQueue, PrefixWorkflow, PrefixWorker, PrefixTask, PrefixReservation}
	slices.SortStableFunc(recs, func(a, b store.TaskRouterRecord) int {
		return slices.Index(order, a.Kind) - slices.Index(order, b.Kind)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		if err := r.restore(rec); err != nil {
			r.log.Warn("taskrouter: skipping a stored record", "sid", rec.SID, "error", err)
		}
	}
	r.resume()
	return nil
}

// restore adds one stored record; r.mu held.
func (r *Router) restore(rec store.TaskRouterRecord) error {
	if rec.Kind == PrefixWorkspace {
		var w Workspace
		if err := json.Unmarshal(rec.Body, &w); err != nil {
			return err
		}
		ws := newWorkspace(w)
		r.workspaces[w.SID], r.bySID[w.SID] = ws, ws
		return nil
	}
	ws := r.workspaces[rec.WorkspaceSID]
	if ws == nil {
		return fmt.Errorf("no workspace %s", rec.WorkspaceSID)
	}
	switch rec.Kind {
	case PrefixActivity:
		var a Activity
		if err := json.Unmarshal(rec.Body, &a); err != nil {
			return err
		}
		ws.activities[a.SID] = &a
	case PrefixTaskChannel:
		var c TaskChannel
		if err := json.Unmarshal(rec.Body, &c); err != nil {
			return err
		}
		ws.channels[c.SID], ws.channelNames[c.UniqueName] = &c, &c
	case PrefixTaskQueue:
		var tq TaskQueue
		if err := json.Unmarshal(rec.Body, &tq); err != nil {
			return err
		}
		q := &queue{TaskQueue: tq, workers: map[string]*worker{}}
		q.target, _ = compileTarget(tq.TargetWorkers)
		ws.queues[tq.SID] = q
	case PrefixWorkflow:
		var wf Workflow
		if err := json.Unmarshal(rec.Body, &wf); err != nil {
			return err
		}
		rt, err := parseRouting(wf.Configuration, func(s string) bool { return ws.queues[s] != nil })
		if err != nil {
			return err
		}
		ws.workflows[wf.SID] = &workflow{Workflow: wf, routing: rt}
	case PrefixWorker, PrefixTask, PrefixReservation:
		if err := r.restoreWork(ws, rec); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown kind %q", rec.Kind)
	}
	r.bySID[rec.SID] = ws
	return nil
}

// restoreWork adds a stored worker, task or reservation; r.mu held.
func (r *Router) restoreWork(ws *workspace, rec store.TaskRouterRecord) error {
	switch rec.Kind {
	case PrefixWorker:
		var wk Worker
		if err := json.Unmarshal(rec.Body, &wk); err != nil {
			return err
		}
		attrs, err := decodeAttributes(wk.Attributes)
		if err != nil {
			return err
		}
		if wk.Channels == nil {
			wk.Channels = map[string]*WorkerChannel{}
		}
		r.addWorker(ws, &worker{Worker: wk, attrs: attrs, load: map[string]int{}, tasks: map[string]bool{}})
	case PrefixTask:
		var tk Task
		if err := json.Unmarshal(rec.Body, &tk); err != nil {
			return err
		}
		attrs, err := decodeAttributes(tk.Attributes)
		if err != nil {
			return err
		}
		ws.tasks[tk.SID] = &task{Task: tk, attrs: attrs, prio: tk.Priority}
		r.seq = max(r.seq, tk.Seq)
	case PrefixReservation:
		var res Reservation
		if err := json.Unmarshal(rec.Body, &res); err != nil {
			return err
		}
		t, w := ws.tasks[res.TaskSID], ws.workers[res.WorkerSID]
		if t == nil || w == nil {
			return fmt.Errorf("reservation of a missing task or worker")
		}
		rv := &reservation{Reservation: res, task: t, worker: w}
		ws.reservations[res.SID] = rv
		t.resvs = append(t.resvs, rv) // records load in any order: resume sorts
		w.resvs = append(w.resvs, rv)
		r.seq = max(r.seq, res.Seq)
	}
	return nil
}

// resume re-links tasks, reservations and workers after a load and
// restarts routing; r.mu held.
func (r *Router) resume() {
	bySeq := func(a, b *reservation) int { return cmp.Compare(a.Seq, b.Seq) }
	for _, ws := range r.workspaces {
		for _, t := range ws.tasks {
			slices.SortFunc(t.resvs, bySeq)
		}
		for _, w := range ws.workers {
			slices.SortFunc(w.resvs, bySeq)
		}
		for _, res := range ws.reservations {
			t := res.task
			switch res.Status {
			case ResPending, ResAccepted, ResWrapping:
				t.res = res
				res.worker.load[t.TaskChannelUniqueName]++
				res.worker.tasks[t.SID] = true
			}
		}
		for _, t := range sortedTasks(ws) {
			r.resumeTask(ws, t)
		}
		for _, w := range ws.workers {
			r.tryWorker(ws, w)
		}
	}
}

// endLive ends a live contact's task after a restart: the contact went
// with the process that held it; r.mu held.
func (r *Router) endLive(ws *workspace, t *task) {
	reason := RestartReason
	if !strings.HasPrefix(t.Live, "call ") {
		reason = "Gateway restarted: the " + t.Live + " ended"
	}
	switch t.AssignmentStatus {
	case TaskPending, TaskReserved:
		r.cancelTask(ws, t, reason)
	case TaskAssigned:
		r.wrapTask(ws, t, reason)
	}
}

// resumeTask puts one loaded task back where it was; r.mu held.
func (r *Router) resumeTask(ws *workspace, t *task) {
	if finished(t.AssignmentStatus) {
		r.schedule(deadline{at: t.Updated.Add(r.opts.FinishedRetention), kind: dlForget, sid: t.SID})
		return
	}
	wf := ws.workflows[t.WorkflowSID]
	if wf != nil {
		if tg, ok := wf.routing.target(t.FilterIndex, t.TargetIndex); ok {
			t.target = tg
			t.queue = ws.queues[tg.queue]
			if tg.priority != nil {
				t.prio = *tg.priority
			}
		}
	}
	if t.queue == nil {
		t.queue = ws.queues[t.TaskQueueSID]
	}
	if t.Live != "" {
		if r.opts.LiveGrace <= 0 || t.AssignmentStatus == TaskWrapping {
			r.endLive(ws, t)
			return
		}
		// Its contact may live on in another node, which adopts it.
		t.orphan = true
		r.schedule(deadline{at: r.now().Add(r.opts.LiveGrace), kind: dlLiveGrace, sid: t.SID})
		if t.AssignmentStatus == TaskAssigned {
			return
		}
	}
	r.schedule(deadline{at: t.Created.Add(time.Duration(t.Timeout) * time.Second), kind: dlTTL, sid: t.SID})
	if t.AssignmentStatus == TaskReserved && t.res != nil && t.res.Status == ResPending {
		// The worker's desktop lost the offer with the old process: take
		// it back without holding it against the worker.
		res := t.res
		res.Status, res.Updated = ResRescinded, r.now()
		r.dirty(ws, res.SID)
		r.release(ws, res.worker, t)
		t.AssignmentStatus, t.res = TaskPending, nil
		r.dirty(ws, t.SID)
	}
	if t.AssignmentStatus != TaskPending {
		return
	}
	if t.queue == nil {
		r.routeTask(ws, t)
		return
	}
	t.gen++
	if t.target.timeout > 0 {
		r.schedule(deadline{at: t.Created.Add(time.Duration(t.target.timeout) * time.Second), kind: dlTarget, sid: t.SID, gen: t.gen})
	}
	t.queue.insert(t)
}
