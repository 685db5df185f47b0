package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults for writing records to the store.
const (
	writeAttemptTimeout = 5 * time.Second        // one attempt at a write
	writeSyncWait       = 500 * time.Millisecond // how long Write waits for the first attempt
	writeRetryFirst     = 100 * time.Millisecond // the wait before the first retry, doubled each time
	writeRetryMax       = 5 * time.Second        // the longest wait between retries
	writeDrainTimeout   = 10 * time.Second       // how long Close keeps retrying at shutdown
)

// retryWriter writes records to the store so that a store hiccup (writes
// timing out under load, another process holding the database's lock, the
// disk briefly full) loses none of them and holds up no call. Each record
// has a key (its SID). Writes of one key run in the order given, one at a
// time, in a goroutine of the writer's; a newer write replaces one still
// waiting (each write stores a whole record, so the newest is the one that
// must land). A write that fails is retried with back-off until it
// succeeds or, at shutdown, Close gives up on it.
type retryWriter struct {
	log      *slog.Logger
	timeout  time.Duration // per attempt
	syncWait time.Duration // Write waits this long for the first attempt
	first    time.Duration // first back-off
	max      time.Duration // longest back-off

	mu     sync.Mutex
	keys   map[string]*pendingWrite // keys with a write running or waiting
	closed bool

	wg       sync.WaitGroup  // one goroutine per key in keys
	stopping chan struct{}   // closed by Close: retry quickly until drain ends
	drain    context.Context // ends writeDrainTimeout after Close: give up
	giveUp   context.CancelFunc
}

// pendingWrite is the state of one key while its writes run.
type pendingWrite struct {
	next     func(context.Context) error // the newest write not yet done, nil when none
	failures int                         // in a row
}

// newRetryWriter returns a writer; Close stops it.
func newRetryWriter(log *slog.Logger) *retryWriter {
	drain, giveUp := context.WithCancel(context.Background())
	return &retryWriter{
		log: log, timeout: writeAttemptTimeout, syncWait: writeSyncWait, first: writeRetryFirst, max: writeRetryMax,
		keys: map[string]*pendingWrite{}, stopping: make(chan struct{}), drain: drain, giveUp: giveUp,
	}
}

// Write stores a record with write after the writes of key already
// given. It waits up to syncWait for the write (so that, normally, what
// the REST API reads next is up to date) and returns; a write still
// running or failing goes on in the background.
func (w *retryWriter) Write(key string, write func(context.Context) error) {
	w.write(key, write, true)
}

// Retry is Write without the wait, for a record whose first attempt has
// already failed elsewhere (in a batch of the write-behind queue): it
// counts as failed once, so its success is logged as a retry's.
func (w *retryWriter) Retry(key string, write func(context.Context) error) {
	w.write(key, write, false)
}

func (w *retryWriter) write(key string, write func(context.Context) error, wait bool) {
	failures := 0
	if !wait {
		failures = 1 // Retry
	}
	w.mu.Lock()
	if p, ok := w.keys[key]; ok {
		p.next = write // the key's goroutine writes it next
		w.mu.Unlock()
		return
	}
	if w.closed {
		w.mu.Unlock()
		if err := w.attempt(context.Background(), write); err != nil {
			w.log.Error("store: record lost: written after shutdown began and failed", "sid", key, "error", err)
		}
		return
	}
	p := &pendingWrite{next: write, failures: failures}
	w.keys[key] = p
	w.wg.Add(1)
	w.mu.Unlock()
	firstDone := make(chan struct{})
	go w.run(key, p, firstDone)
	if !wait {
		return
	}
	t := time.NewTimer(w.syncWait)
	defer t.Stop()
	select {
	case <-firstDone:
	case <-t.C:
	}
}

// Pending reports whether a write of key is running or waiting to be
// retried.
func (w *retryWriter) Pending(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.keys[key]
	return ok
}

// run writes key's records until none is waiting; firstDone is closed
// after the first attempt.
func (w *retryWriter) run(key string, p *pendingWrite, firstDone chan struct{}) {
	defer w.wg.Done()
	defer func() {
		if firstDone != nil {
			close(firstDone)
		}
	}()
	for {
		w.mu.Lock()
		write := p.next
		p.next = nil
		if write == nil {
			delete(w.keys, key)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		err := w.attempt(w.drain, write)
		if firstDone != nil {
			close(firstDone)
			firstDone = nil
		}
		w.mu.Lock()
		if err == nil {
			if p.failures > 0 {
				w.log.Info("store: write succeeded after retrying", "sid", key, "failures", p.failures)
			}
			p.failures = 0
			w.mu.Unlock()
			continue
		}
		if p.next == nil {
			p.next = write // retry it, unless a newer record replaced it
		}
		p.failures++
		failures := p.failures
		w.mu.Unlock()
		if failures == 1 {
			w.log.Warn("store: write failed; retrying in the background", "sid", key, "error", err)
		}
		if !w.sleep(w.backoff(failures)) {
			w.mu.Lock()
			delete(w.keys, key)
			w.mu.Unlock()
			w.log.Error("store: record lost at shutdown: the store kept failing", "sid", key, "failures", failures, "error", err)
			return
		}
	}
}

// attempt runs write once, with the per-attempt timeout.
func (w *retryWriter) attempt(ctx context.Context, write func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	return write(ctx)
}

// backoff is the wait after the n-th failure in a row.
func (w *retryWriter) backoff(n int) time.Duration {
	d := w.first
	for i := 1; i < n && d < w.max; i++ {
		d *= 2
	}
	return min(d, w.max)
}

// sleep waits d before a retry (at most the first back-off once Close has
// been called) and reports whether to retry: false once Close gives up.
func (w *retryWriter) sleep(d time.Duration) bool {
	select {
	case <-w.stopping:
		d = min(d, w.first)
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.stopping:
	case <-w.drain.Done():
	}
	return w.drain.Err() == nil
}

// Close retries what is still failing, quickly, for up to
// writeDrainTimeout, and then gives up on it: each record lost is logged
// (calls among them are ended at the next start, by package recovery).
// Writes given after Close are tried once.
func (w *retryWriter) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stopping)
	t := time.AfterFunc(writeDrainTimeout, w.giveUp)
	w.wg.Wait()
	t.Stop()
	w.giveUp()
}
