package media

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler runs the send side of many RTP legs from a few goroutines
// instead of one goroutine and one timer per leg.
//
// A leg started with a Scheduler (RTPConfig.Scheduler) has no send loop
// of its own: one of the scheduler's workers (one per CPU by default) calls
// the leg's send tick at its deadlines. The 20 ms frame period is cut into
// slots of 1 ms; a leg joins the slot holding the fewest legs (the soonest
// of those, so it starts sending within 20 ms), and its frame n is due at
// that slot's start + n*20 ms, so its deadlines are absolute as
// with its own loop, and the pacer's rules (catch up at most 3 frames,
// skip beyond) are the same. Each worker wakes at every slot boundary
// while it has legs (on Linux from a timerfd, precise to tens of
// microseconds where a Go timer can be a millisecond late; see
// timerfdClock), then sends one packet for each leg of the slot, in the
// order the legs joined, so a leg's position inside the slot, and its
// interval, stay steady. Workers' slots are staggered by a fraction of a
// slot so that their bursts do not coincide.
//
// On Linux the worker also receives for its legs (see epollIO): one epoll
// set holds its timerfd and its legs' sockets, and the worker reads each
// socket when it becomes readable, then hands the packet to the leg as
// its receive loop would. Elsewhere each leg keeps its receive loop.
//
// What changes for a leg is only who runs its tick and reads its socket:
// Play, Record, SendDTMF, hold and the inactivity timeout behave as with
// its own loops. The tick reads the running Play's Source, and received
// frames go to the Record sinks, on the worker's goroutine, so Sources
// and Sinks must not block (none of Voxgate's do: they read or write
// memory, a jitter buffer or a buffered file).
//
// Per tick a worker allocates nothing. With thousands of legs this saves
// a goroutine wake-up, a timer and a select per packet, which profiles of
// the gateway under load showed as a fifth of its CPU time.
type Scheduler struct {
	workers []*schedWorker
	next    atomic.Uint32 // round-robin choice of worker for the next leg
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

const (
	// schedSlot is the width of a scheduler slot: legs of one slot are
	// sent in one burst.
	schedSlot = time.Millisecond
	// schedSlots is the number of slots in one frame period.
	schedSlots = int(FrameDuration / schedSlot)
)

// NewScheduler starts a scheduler with the given number of worker
// goroutines; workers <= 0 means one per CPU (GOMAXPROCS). Close stops it.
func NewScheduler(workers int) *Scheduler {
	return NewSchedulerOptions(SchedulerOptions{Workers: workers})
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Workers is the number of worker goroutines; <= 0: one per CPU.
	Workers int
	// Late, when set, hears how late each slot of legs began to be
	// served after its start time: the delay every send of that slot had
	// before its own turn came (the wake-up, and the slots served before
	// it). It is called on the worker's goroutine, about a thousand times
	// a second per worker while it has legs: it must be quick and must
	// not block (a Prometheus histogram's Observe is).
	Late func(time.Duration)
}

// NewSchedulerOptions is NewScheduler with options.
func NewSchedulerOptions(opts SchedulerOptions) *Scheduler {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s := &Scheduler{stop: make(chan struct{})}
	base := time.Now()
	for i := range workers {
		epoch := base.Add(time.Duration(i) * schedSlot / time.Duration(workers))
		w := &schedWorker{
			epoch: epoch,
			late:  opts.Late,
			io:    newWorkerIO(epoch, schedSlot, s.stop),
			wake:  make(chan struct{}, 1),
			stop:  s.stop,
		}
		s.workers = append(s.workers, w)
		s.wg.Go(w.run)
	}
	return s
}

// Close stops the workers and waits for them. Legs still attached stop
// sending and, on Linux, receiving; close them first.
func (s *Scheduler) Close() {
	s.once.Do(func() {
		close(s.stop)
		for _, w := range s.workers {
			w.interruptClock()
		}
	})
	s.wg.Wait()
}

// Legs returns how many legs the scheduler is sending for (legs that
// ended are counted until their slot next comes round).
func (s *Scheduler) Legs() int {
	n := 0
	for _, w := range s.workers {
		n += int(w.legs.Load())
	}
	return n
}

// add hands a started leg to a worker. The leg's first frame is due at the
// start of the worker's next slot.
func (s *Scheduler) add(l *RTPLeg) {
	w := s.workers[int(s.next.Add(1))%len(s.workers)]
	w.mu.Lock()
	w.pending = append(w.pending, l)
	w.mu.Unlock()
	w.legs.Add(1)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// schedWorker is one goroutine's share of the legs, in slots by phase.
type schedWorker struct {
	epoch time.Time // start of slot 0
	late  func(time.Duration)
	wake  chan struct{}
	stop  <-chan struct{}
	legs  atomic.Int64 // legs placed or pending

	mu      sync.Mutex
	pending []*RTPLeg // added, not yet in a slot
	io      workerIO  // replaced (under mu) by a Go timer if it fails

	// Owned by the worker goroutine.
	slots  [schedSlots][]*RTPLeg
	placed []*RTPLeg // reused buffer for taking pending
	ready  []*RTPLeg // reused buffer: legs with packets to read
	next   int64     // the next slot to serve
	armed  bool
}

// slotTime is when slot number k (counted from the epoch, not modulo the
// frame) starts.
func (w *schedWorker) slotTime(k int64) time.Time {
	return w.epoch.Add(time.Duration(k) * schedSlot)
}

// slotAt is the number of the slot running at t.
func (w *schedWorker) slotAt(t time.Time) int64 {
	return int64(t.Sub(w.epoch) / schedSlot)
}

// interruptClock makes the worker's wait return (Scheduler.Close).
func (w *schedWorker) interruptClock() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.io.interrupt()
}

// run serves the worker's slots and receives for its legs until the
// scheduler closes. While it has legs, its clock ticks at every slot
// boundary; without legs it sleeps until one is added.
func (w *schedWorker) run() {
	defer func() { _ = w.io.close() }()
	for {
		if w.legs.Load() == 0 {
			if w.armed {
				w.ioFailed(w.io.disarm())
				w.armed = false
			}
			select {
			case <-w.stop:
				return
			case <-w.wake:
				continue
			}
		}
		if !w.armed {
			w.next = w.slotAt(time.Now()) + 1
			w.ioFailed(w.io.arm(w.next))
			w.armed = true
		}
		var err error
		w.ready, err = w.io.wait(w.ready[:0])
		if err != nil {
			if errors.Is(err, errClockInterrupted) {
				return
			}
			w.ioFailed(err)
			continue
		}
		// Sending first: serve every slot from the next one due to the
		// one running now. After a late wake-up, the slots skipped over
		// are served too (at most one whole frame of them; the legs'
		// pacers handle longer delays).
		now := w.slotAt(time.Now())
		w.place(now + 1)
		for k := max(w.next, now-int64(schedSlots)+1); k <= now; k++ {
			if w.late != nil && len(w.slots[int(k%int64(schedSlots))]) > 0 {
				w.late(time.Since(w.slotTime(k)))
			}
			w.serve(k)
		}
		w.next = max(w.next, now+1)
		// Then what arrived.
		for i, l := range w.ready {
			if !l.closed() {
				l.receiveReady()
			}
			w.ready[i] = nil
		}
	}
}

// ioFailed replaces a workerIO that returned err (when err is not nil) by
// a Go timer, armed as the old one was; the legs it received for get
// receive loops of their own.
func (w *schedWorker) ioFailed(err error) {
	if err == nil {
		return
	}
	fallback := newGoTimerClock(w.epoch, schedSlot, w.stop)
	if w.armed {
		w.next = max(w.next, w.slotAt(time.Now())+1)
		_ = fallback.arm(w.next) // a Go timer cannot fail
	}
	w.mu.Lock()
	old := w.io
	w.io = fallback
	w.mu.Unlock()
	for _, l := range old.watching() {
		go l.recvLoop()
	}
	_ = old.close()
}

// place puts the pending legs into slots: each into the slot holding the
// fewest legs, the soonest of those from slot first on, so its first
// frame goes out within one frame period. Calls tend to arrive at a
// steady rate (a load generator, a busy trunk), so the next free slot
// would pile them up in a few slots; balancing keeps every slot's burst,
// and so every leg's wait behind the others of its slot, small.
func (w *schedWorker) place(first int64) {
	w.mu.Lock()
	w.placed = append(w.placed[:0], w.pending...)
	clear(w.pending)
	w.pending = w.pending[:0]
	w.mu.Unlock()
	for i, l := range w.placed {
		w.placed[i] = nil
		if l.closed() {
			w.legs.Add(-1)
			continue
		}
		k := w.emptiestSlot(first)
		l.tx.clock = newPacer(w.slotTime(k), FrameDuration)
		idx := int(k % int64(schedSlots))
		w.slots[idx] = append(w.slots[idx], l)
		if !w.io.watch(l) {
			go l.recvLoop()
		}
	}
}

// emptiestSlot returns the slot number, from first to first+schedSlots-1,
// whose slot holds the fewest legs (the earliest of equals).
func (w *schedWorker) emptiestSlot(first int64) int64 {
	best, fewest := first, -1
	for j := range int64(schedSlots) {
		n := len(w.slots[(first+j)%int64(schedSlots)])
		if fewest < 0 || n < fewest {
			best, fewest = first+j, n
		}
	}
	return best
}

// serve runs the send tick of every leg in slot k whose frame is due, and
// drops the legs that have ended, keeping the others in order.
func (w *schedWorker) serve(k int64) {
	idx := int(k % int64(schedSlots))
	legs := w.slots[idx]
	kept := legs[:0]
	for _, l := range legs {
		if l.closed() {
			w.io.unwatch(l)
			w.legs.Add(-1)
			continue
		}
		l.sendDue(time.Now())
		kept = append(kept, l)
	}
	clear(legs[len(kept):])
	w.slots[idx] = kept
}
