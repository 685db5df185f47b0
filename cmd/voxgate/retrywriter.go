package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Retry defaults for records the store failed to take.
const (
	writeAttemptTimeout = 5 * time.Second        // one attempt at a write
	writeRetryFirst     = 100 * time.Millisecond // the wait before the first retry, doubled each time
	writeRetryMax       = 5 * time.Second        // the longest wait between retries
	writeDrainTimeout   = 10 * time.Second       // how long Close keeps trying at shutdown
)

// retryWriter writes records to the store so that a store hiccup (a write
// timing out under load, the disk briefly full) loses none of them. Each
// record has a key (its SID). A write is tried at once, in the caller's
// goroutine; one that fails is kept and retried in the background, with
// back-off, until it succeeds or Close gives up. Writes of one key happen
// in the order given, never at the same time, and a newer write replaces
// one still waiting: each write stores a whole record, so the newest is
// the one that must land.
type retryWriter struct {
	log     *slog.Logger
	timeout time.Duration // per attempt
	first   time.Duration // first back-off
	max     time.Duration // longest back-off

	mu   sync.Mutex
	keys map[string]*pendingWrite // keys with a write running or waiting
	wake chan struct{}            // a key started retrying
	stop context.CancelFunc
	done chan struct{} // closed when the retry loop has returned
}

// pendingWrite is the state of one key while a write of it runs or waits.
type pendingWrite struct {
	next     func(context.Context) error // the newest write not yet done, nil when none
	retrying bool                        // the retry loop owns the key
	failures int
	retryAt  time.Time
	lastErr  error
}

// newRetryWriter starts a writer; Close stops it.
func newRetryWriter(log *slog.Logger) *retryWriter {
	ctx, stop := context.WithCancel(context.Background())
	w := &retryWriter{
		log: log, timeout: writeAttemptTimeout, first: writeRetryFirst, max: writeRetryMax,
		keys: map[string]*pendingWrite{}, wake: make(chan struct{}, 1), stop: stop, done: make(chan struct{}),
	}
	go w.retryLoop(ctx)
	return w
}

// Write stores a record with write, now if nothing else of key is being
// written, else after it. It returns once the record is stored or handed
// to the retry loop.
func (w *retryWriter) Write(key string, write func(context.Context) error) {
	w.mu.Lock()
	if p, ok := w.keys[key]; ok {
		p.next = write // whoever writes key now writes this after
		w.mu.Unlock()
		return
	}
	p := &pendingWrite{}
	w.keys[key] = p
	w.mu.Unlock()
	for write != nil {
		err := w.attempt(write)
		w.mu.Lock()
		if err != nil {
			w.retryLater(key, p, write, err)
			w.mu.Unlock()
			return
		}
		write, p.next = p.next, nil
		if write == nil {
			delete(w.keys, key)
		}
		w.mu.Unlock()
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

// attempt runs write with the per-attempt timeout.
func (w *retryWriter) attempt(write func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	return write(ctx)
}

// retryLater hands key to the retry loop after write failed with err,
// unless a newer write is already waiting. The caller holds mu.
func (w *retryWriter) retryLater(key string, p *pendingWrite, write func(context.Context) error, err error) {
	if p.next == nil {
		p.next = write
	}
	p.failures++
	p.lastErr = err
	p.retryAt = time.Now().Add(w.backoff(p.failures))
	if !p.retrying {
		p.retrying = true
		w.log.Warn("store: write failed; retrying in the background", "sid", key, "error", err)
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// backoff is the wait after the n-th failure in a row.
func (w *retryWriter) backoff(n int) time.Duration {
	d := w.first
	for i := 1; i < n && d < w.max; i++ {
		d *= 2
	}
	return min(d, w.max)
}

// retryLoop retries failed writes when they are due, until ctx ends.
func (w *retryWriter) retryLoop(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := w.retryDue(ctx, time.Now())
		if next.IsZero() {
			next = time.Now().Add(time.Hour)
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// retryDue tries once every key whose retry is due at now and returns
// when the next one is due (zero when none waits).
func (w *retryWriter) retryDue(ctx context.Context, now time.Time) time.Time {
	w.mu.Lock()
	var due []string
	for key, p := range w.keys {
		if p.retrying && !p.retryAt.After(now) {
			due = append(due, key)
		}
	}
	w.mu.Unlock()
	for _, key := range due {
		if ctx.Err() != nil {
			break
		}
		w.retryOne(key)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var next time.Time
	for _, p := range w.keys {
		if p.retrying && (next.IsZero() || p.retryAt.Before(next)) {
			next = p.retryAt
		}
	}
	return next
}

// retryOne tries the waiting write of key once.
func (w *retryWriter) retryOne(key string) {
	w.mu.Lock()
	p := w.keys[key]
	write := p.next
	p.next = nil
	w.mu.Unlock()
	err := w.attempt(write)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.retryLater(key, p, write, err)
		return
	}
	w.log.Info("store: write succeeded after retrying", "sid", key, "failures", p.failures)
	if p.next == nil {
		delete(w.keys, key)
		return
	}
	p.failures, p.retryAt = 0, time.Now() // a newer write came meanwhile: due now
}

// Close stops the retry loop, then keeps trying what is still waiting
// for up to writeDrainTimeout (or until ctx ends). Records that still
// cannot be written are logged one by one; calls among them are ended at
// the next start (see reconcile.go). Writes that start after Close are
// tried once, not retried.
func (w *retryWriter) Close(ctx context.Context) {
	w.stop()
	<-w.done
	ctx, cancel := context.WithTimeout(ctx, writeDrainTimeout)
	defer cancel()
	for ctx.Err() == nil {
		next := w.retryDue(ctx, time.Now().Add(w.max)) // everything is due now
		if next.IsZero() {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.first):
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for key, p := range w.keys {
		if p.retrying {
			w.log.Error("store: record lost at shutdown: the store kept failing", "sid", key, "failures", p.failures, "error", p.lastErr)
		}
	}
}
