package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/voxgate/voxgate/store"
)

// callBatchStore is a store that writes many call records in one
// transaction (store.DB does).
type callBatchStore interface {
	PutCalls(ctx context.Context, calls []store.Call) error
}

// writeBehindMaxBatch bounds the records of one transaction.
const writeBehindMaxBatch = 256

// callWriteBehind is the write path of call records: a queue holding the
// newest record of each call not yet written, and one goroutine that
// writes what the queue holds in one transaction (a group commit), again
// and again while records keep coming.
//
// It adds no delay: an idle writer starts a transaction for the first
// record at once; records that arrive while a transaction runs wait for
// the next one, and a call's newer record replaces its older one still
// waiting (each record is the whole call), so under load the store sees
// fewer, bigger transactions and fewer writes per call. A commit costs
// more than the upserts in it (store BenchmarkPutCalls: ~85 µs of CPU per
// record one transaction each, ~24–45 µs in batches of 8–32).
//
// Nothing is lost on a crash that was not already: Write returns once its
// record (or a newer one of the same call) is committed, or after the
// same bounded wait as before (writeSyncWait), so a call's progress is in
// the store as it happens, and recovery (package recovery) ends at the
// next start what a killed process left unfinished. A batch the store
// refuses goes, record by record, to the retry writer, which retries each
// with back-off as it does every other record; the call's later records
// then follow it there, in order, until it has landed.
type callWriteBehind struct {
	log    *slog.Logger
	put    func(context.Context, []store.Call) error
	retry  *retryWriter
	single func(store.Call) func(context.Context) error // one record's write, for retry
	// committed, if set, is told each ended call's record once a batch
	// holding it is committed (not under mu).
	committed func(store.Call)
	syncWait  time.Duration
	timeout   time.Duration // per transaction

	mu       sync.Mutex
	queued   map[string]*queuedCall // by call SID: waiting for a transaction
	order    []*queuedCall          // queued, oldest first
	inFlight map[string]int         // call SIDs in the transaction running
	closed   bool

	kick chan struct{} // a record was queued (buffered 1)
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the goroutine has written the last batch
}

// queuedCall is one call's newest record waiting in the queue.
type queuedCall struct {
	call    store.Call
	written chan struct{} // closed once committed, or handed to retries
}

// newCallWriteBehind starts the writer; Close stops it (and retry).
func newCallWriteBehind(log *slog.Logger, put func(context.Context, []store.Call) error, retry *retryWriter,
	single func(store.Call) func(context.Context) error) *callWriteBehind {
	w := &callWriteBehind{
		log: log, put: put, retry: retry, single: single, syncWait: writeSyncWait, timeout: writeAttemptTimeout,
		queued: map[string]*queuedCall{}, inFlight: map[string]int{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Write queues c, replacing the call's record still waiting, and waits up
// to syncWait for it to be committed.
func (w *callWriteBehind) Write(c store.Call) {
	w.mu.Lock()
	if w.closed || w.retry.Pending(c.SID) {
		// After Close, or behind a record of the call being retried: keep
		// the call's records in order on the retry writer.
		w.mu.Unlock()
		w.retry.Write(c.SID, w.single(c))
		return
	}
	q, ok := w.queued[c.SID]
	if ok {
		q.call = c
	} else {
		q = &queuedCall{call: c, written: make(chan struct{})}
		w.queued[c.SID] = q
		w.order = append(w.order, q)
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	t := time.NewTimer(w.syncWait)
	defer t.Stop()
	select {
	case <-q.written:
	case <-t.C:
	}
}

// Pending reports whether a record of the call is queued, being written
// or being retried.
func (w *callWriteBehind) Pending(callSID string) bool {
	w.mu.Lock()
	_, queued := w.queued[callSID]
	writing := w.inFlight[callSID] > 0
	w.mu.Unlock()
	return queued || writing || w.retry.Pending(callSID)
}

// run writes batches until Close, then writes what is still queued.
func (w *callWriteBehind) run() {
	defer close(w.done)
	var calls []store.Call
	var batch []*queuedCall
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			for w.flush(&calls, &batch) {
			}
			return
		}
		for w.flush(&calls, &batch) {
		}
	}
}

// flush writes the queued records, up to writeBehindMaxBatch, in one
// transaction; calls and batch are reused buffers. It reports whether
// there was anything to write.
func (w *callWriteBehind) flush(calls *[]store.Call, batch *[]*queuedCall) bool {
	w.mu.Lock()
	n := min(len(w.order), writeBehindMaxBatch)
	if n == 0 {
		w.mu.Unlock()
		return false
	}
	*batch = append((*batch)[:0], w.order[:n]...)
	rest := copy(w.order, w.order[n:])
	clear(w.order[rest:])
	w.order = w.order[:rest]
	*calls = (*calls)[:0]
	for _, q := range *batch {
		delete(w.queued, q.call.SID)
		w.inFlight[q.call.SID]++
		*calls = append(*calls, q.call)
	}
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	err := w.put(ctx, *calls)
	cancel()

	if err != nil {
		w.log.Warn("store: a batch of call records failed; retrying them one by one in the background",
			"records", len(*calls), "error", err)
	}
	var ended []store.Call // committed final records, told to committed after mu
	w.mu.Lock()
	for i, q := range *batch {
		sid := q.call.SID
		if w.inFlight[sid]--; w.inFlight[sid] == 0 {
			delete(w.inFlight, sid)
		}
		if _, newer := w.queued[sid]; err != nil && !newer {
			w.retry.Retry(sid, w.single(q.call)) // under mu: the call's next Write sees it pending
		} else if err == nil && w.committed != nil && q.call.Status.Ended() {
			ended = append(ended, q.call)
		}
		close(q.written)
		(*batch)[i] = nil
	}
	w.mu.Unlock()
	for _, c := range ended {
		w.committed(c)
	}
	clear(*calls)
	return true
}

// Close writes what is queued, then closes the retry writer (which
// retries what still fails for a while, then gives up; see retryWriter).
func (w *callWriteBehind) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.retry.Close()
}
