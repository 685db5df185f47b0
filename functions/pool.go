package functions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// pool keeps the warm runners of one live deployment (an environment and
// its build). Requests go to the least busy runner; a runner that dies,
// hangs or outgrows its memory cap is replaced without touching the others.
type pool struct {
	spec    workerSpec
	size    int
	timeout time.Duration // per request (Twilio's 10 s)
	log     *slog.Logger

	mu      sync.Mutex
	workers []*worker
	changed chan struct{} // closed (and renewed) when a replacement joins
	closed  bool
	wg      sync.WaitGroup // supervisors
	ctx     context.Context
	cancel  context.CancelFunc
}

// errPoolClosed is returned for requests that reach a retired deployment.
var errPoolClosed = errors.New("functions: deployment retired")

// newPool starts size runners and waits until all are ready.
func newPool(ctx context.Context, spec workerSpec, size int, timeout time.Duration) (*pool, error) {
	pctx, cancel := context.WithCancel(context.Background())
	p := &pool{spec: spec, size: size, timeout: timeout, log: spec.log, ctx: pctx, cancel: cancel, changed: make(chan struct{})}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range size {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := startWorker(ctx, spec)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			p.workers = append(p.workers, w)
		}()
	}
	wg.Wait()
	for _, w := range p.workers {
		p.supervise(w)
	}
	p.wg.Add(1)
	go p.watchMemory()
	if len(errs) > 0 {
		p.close(0)
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// supervise replaces w when it exits, until the pool closes.
func (p *pool) supervise(w *worker) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-w.exited:
		case <-p.ctx.Done():
			return
		}
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return
		}
		p.log.Warn("functions: worker ended; starting a new one", "pid", w.cmd.Process.Pid, "exit", fmt.Sprint(w.exitErr))
		for attempt := 0; ; attempt++ {
			nw, err := startWorker(p.ctx, p.spec)
			if err == nil {
				if !p.swap(w, nw) {
					nw.stop(time.Second)
					return
				}
				p.supervise(nw)
				return
			}
			if p.ctx.Err() != nil {
				return
			}
			p.log.Error("functions: starting a replacement worker failed", "error", err)
			select {
			case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
			case <-p.ctx.Done():
				return
			}
		}
	}()
}

// swap puts nw in old's place; false when the pool has closed.
func (p *pool) swap(old, nw *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	defer func() {
		close(p.changed)
		p.changed = make(chan struct{})
	}()
	for i, w := range p.workers {
		if w == old {
			p.workers[i] = nw
			return true
		}
	}
	p.workers = append(p.workers, nw)
	return true
}

// pick returns the live runner with the fewest requests in flight,
// counting the new request in its inflight (the caller ends it), and
// waiting (until ctx ends) for a replacement when none is alive.
func (p *pool) pick(ctx context.Context) (*worker, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		var best *worker
		for _, w := range p.workers {
			if !w.dead.Load() && (best == nil || w.inflight.Load() < best.inflight.Load()) {
				best = w
			}
		}
		changed := p.changed
		if best != nil {
			best.inflight.Add(1) // under p.mu: concurrent picks see it
			p.mu.Unlock()
			return best, nil
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, errWorkerExited
		}
	}
}

// errTimeout is a function that did not call back within the limit.
var errTimeout = errors.New("functions: runtime application timed out")

// run executes a function under the pool's time limit. After a timeout
// the runner is pinged: one whose event loop is stuck is killed (and
// replaced), one that merely lost a callback keeps serving.
func (p *pool) run(ctx context.Context, inv invocation, log *requestLog) (result, error) {
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	w, err := p.pick(cctx)
	if err != nil {
		return result{}, err
	}
	defer w.inflight.Add(-1)
	r, err := w.call(cctx, inv, log)
	if err == nil || ctx.Err() != nil {
		return r, err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if !w.responsive(time.Second) {
			log.Error("functions: the worker is not responding (a function blocks its event loop); killing it", "pid", w.cmd.Process.Pid)
			w.kill()
		}
		return result{}, errTimeout
	}
	return result{}, err
}

// close retires the pool: no new requests; runners finish what they have
// (up to grace) and stop.
func (p *pool) close(grace time.Duration) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	workers := p.workers
	p.mu.Unlock()
	deadline := time.Now().Add(grace)
	for _, w := range workers {
		for w.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	p.cancel()
	p.wg.Wait()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stop(time.Second)
		}()
	}
	wg.Wait()
}
