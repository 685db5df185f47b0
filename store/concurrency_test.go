package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

// TestConcurrentWritersAndReaders runs many goroutines that write calls
// (each also updating its calls several times, as the engine does),
// recordings and queues while others read, then checks nothing was lost.
func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	const (
		writers      = 16
		callsEach    = 10
		updatesEach  = 3
		readers      = 4
		readRequests = 20
	)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[string]CallStatus{}
		errs   = make(chan error, writers+readers)
	)
	for w := range writers {
		wg.Go(func() {
			for i := range callsEach {
				c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallQueued, To: fmt.Sprint(w)}
				for _, st := range []CallStatus{CallQueued, CallRinging, CallInProgress, CallCompleted}[:updatesEach+1] {
					c.Status = st
					if _, err := s.PutCall(ctx, c); err != nil {
						errs <- err
						return
					}
				}
				mu.Lock()
				stored[c.SID] = c.Status
				mu.Unlock()
				if i == 0 {
					q := Queue{AccountSID: testAccount, FriendlyName: fmt.Sprintf("q%d", w)}
					if _, err := s.CreateQueue(ctx, q); err != nil {
						errs <- err
						return
					}
					// Everyone also races for one shared name: exactly one wins.
					_, _ = s.CreateQueue(ctx, Queue{AccountSID: testAccount, FriendlyName: "shared"})
				}
				r := Recording{SID: sid.New(sid.Recording), AccountSID: testAccount, CallSID: c.SID, Status: RecordingCompleted}
				if _, err := s.PutRecording(ctx, r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			for range readRequests {
				if _, _, err := s.ListCalls(ctx, CallFilter{Status: CallCompleted}, Page{Size: 20}); err != nil {
					errs <- err
					return
				}
				if _, _, err := s.ListRecordings(ctx, RecordingFilter{}, Page{Size: 20}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	calls, _, err := s.ListCalls(ctx, CallFilter{AccountSID: testAccount}, Page{Size: MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != writers*callsEach {
		t.Errorf("%d calls stored, want %d", len(calls), writers*callsEach)
	}
	for _, c := range calls {
		if want, ok := stored[c.SID]; !ok || c.Status != want {
			t.Errorf("call %s status %q, want %q (known %v)", c.SID, c.Status, want, ok)
		}
	}
	recs, _, err := s.ListRecordings(ctx, RecordingFilter{}, Page{Size: MaxPageSize})
	if err != nil || len(recs) != writers*callsEach {
		t.Errorf("%d recordings, %v; want %d", len(recs), err, writers*callsEach)
	}
	queues, _, err := s.ListQueues(ctx, QueueFilter{}, Page{Size: MaxPageSize})
	if err != nil || len(queues) != writers+1 {
		t.Errorf("%d queues, %v; want %d", len(queues), err, writers+1)
	}
}

// TestContextCancelled: a cancelled context stops an operation with its error.
func TestContextCancelled(t *testing.T) {
	s, _ := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.PutCall(ctx, sampleCall()); err == nil {
		t.Error("PutCall with a cancelled context succeeded")
	}
	if _, _, err := s.ListCalls(ctx, CallFilter{}, Page{}); err == nil {
		t.Error("ListCalls with a cancelled context succeeded")
	}
}

// TestTwoHandlesOneFile: two stores on one file (as two processes would
// be) write at once; busy_timeout makes them take turns, nothing fails.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	a, b := openTest(t, dir, clock), openTest(t, dir, clock)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, s := range []*DB{a, b, a, b} {
		wg.Go(func() {
			for range 25 {
				c := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallCompleted}
				if _, err := s.PutCall(ctx, c); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range []*DB{a, b} {
		calls, _, err := s.ListCalls(ctx, CallFilter{}, Page{Size: MaxPageSize})
		if err != nil || len(calls) != 100 {
			t.Errorf("%d calls, %v; want 100", len(calls), err)
		}
	}
}
