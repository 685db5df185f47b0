package tts

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blockingRender is a render that runs until released or cancelled.
type blockingRender struct {
	calls     atomic.Int32
	release   chan struct{}
	cancelled chan struct{}
	returned  atomic.Bool
}

func newBlockingRender() *blockingRender {
	return &blockingRender{release: make(chan struct{}), cancelled: make(chan struct{})}
}

func (b *blockingRender) fn(ctx context.Context) ([]int16, error) {
	b.calls.Add(1)
	defer b.returned.Store(true)
	select {
	case <-b.release:
		return []int16{1, 2, 3}, nil
	case <-ctx.Done():
		close(b.cancelled)
		time.Sleep(20 * time.Millisecond) // like reaping a killed process
		return nil, ctx.Err()
	}
}

// waitForWaiters waits until n callers share the flight for key.
func waitForWaiters(t *testing.T, e *Engine, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		f := e.flights[key]
		ok := f != nil && f.waiters == n
		e.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("never saw %d waiters", n)
}

func TestSharedRenderSurvivesOneImpatientCaller(t *testing.T) {
	e := &Engine{flights: map[string]*flight{}}
	r := newBlockingRender()
	var wg sync.WaitGroup
	var patient []int16
	var patientErr error
	wg.Go(func() { patient, patientErr = e.shared(t.Context(), "k", r.fn) })
	waitForWaiters(t, e, "k", 1)

	ctx, cancel := context.WithCancel(t.Context())
	impatientDone := make(chan error, 1)
	go func() {
		_, err := e.shared(ctx, "k", r.fn)
		impatientDone <- err
	}()
	waitForWaiters(t, e, "k", 2)
	cancel()
	if err := <-impatientDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("impatient caller got %v", err)
	}
	select {
	case <-r.cancelled:
		t.Fatal("the render was cancelled although a caller still waits")
	default:
	}
	close(r.release)
	wg.Wait()
	if patientErr != nil || len(patient) != 3 || r.calls.Load() != 1 {
		t.Fatalf("patient caller: %v, %v; %d renders", patient, patientErr, r.calls.Load())
	}
	if len(e.flights) != 0 {
		t.Fatalf("flights left: %v", e.flights)
	}
}

func TestSharedRenderStopsWhenEveryCallerLeaves(t *testing.T) {
	e := &Engine{flights: map[string]*flight{}}
	r := newBlockingRender()
	ctx1, cancel1 := context.WithCancel(t.Context())
	ctx2, cancel2 := context.WithCancel(t.Context())
	errs := make(chan error, 2)
	go func() { _, err := e.shared(ctx1, "k", r.fn); errs <- err }()
	go func() { _, err := e.shared(ctx2, "k", r.fn); errs <- err }()
	waitForWaiters(t, e, "k", 2)
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	cancel2()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !r.returned.Load() {
		t.Fatal("the last caller returned before the render stopped")
	}
	// A new caller starts a fresh render rather than joining the dead one.
	r2 := newBlockingRender()
	close(r2.release)
	if pcm, err := e.shared(t.Context(), "k", r2.fn); err != nil || len(pcm) != 3 {
		t.Fatalf("fresh render: %v, %v", pcm, err)
	}
}
