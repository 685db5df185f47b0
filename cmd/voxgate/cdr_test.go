package main

import (
	"context"
	"errors"
	"github.com/voxgate/voxgate/recording"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

const testAccount = "AC11111111111111111111111111111111"

// flakyStore is a real store whose call and recording writes fail while
// failures is above zero (each failure counts it down), or while blocked.
type flakyStore struct {
	store.Store
	mu       sync.Mutex
	failures int
	blocked  bool
	attempts int
}

var errHiccup = errors.New("flaky store: database is locked")

func (f *flakyStore) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.blocked {
		return errHiccup
	}
	if f.failures > 0 {
		f.failures--
		return errHiccup
	}
	return nil
}

func (f *flakyStore) set(failures int, blocked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures, f.blocked = failures, blocked
}

func (f *flakyStore) PutCall(ctx context.Context, c store.Call) (store.Call, error) {
	if err := f.fail(); err != nil {
		return store.Call{}, err
	}
	return f.Store.PutCall(ctx, c)
}

func (f *flakyStore) PutRecording(ctx context.Context, r store.Recording) (store.Recording, error) {
	if err := f.fail(); err != nil {
		return store.Recording{}, err
	}
	return f.Store.PutRecording(ctx, r)
}

func newFlakyCDR(t *testing.T) (*cdrWriter, *flakyStore) {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fs := &flakyStore{Store: db}
	w := newCDRWriter(fs, testAccount, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.writes.first, w.writes.max = time.Millisecond, 20*time.Millisecond
	return w, fs
}

func callEvent(callSID, status string, at time.Time) ivr.Event {
	return ivr.Event{Info: ivr.CallInfo{SID: callSID, From: "+15550002000", To: "+15550001000", Direction: ivr.Inbound},
		Status: status, At: at, Duration: 3 * time.Second}
}

// waitCall polls the store until the call has status want.
func waitCall(t *testing.T, db store.Store, callSID string, want store.CallStatus) store.Call {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := db.GetCall(context.Background(), callSID)
		if err == nil && c.Status == want {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s: %+v, %v; want status %s", callSID, c, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A final record the store refuses a few times still lands, complete.
func TestCDRFinalRecordRetried(t *testing.T) {
	w, fs := newFlakyCDR(t)
	defer w.Close()
	callSID := sid.New(sid.Call)
	t0 := time.Now().UTC()
	w.event(callEvent(callSID, "ringing", t0))
	w.event(callEvent(callSID, "in-progress", t0.Add(time.Second)))
	fs.set(3, false)
	w.event(callEvent(callSID, "completed", t0.Add(4*time.Second)))
	c := waitCall(t, fs.Store, callSID, store.CallCompleted)
	if c.Duration != 3 || !c.EndTime.Equal(t0.Add(4*time.Second)) || !c.StartTime.Equal(t0.Add(time.Second)) {
		t.Errorf("stored call %+v: want duration 3, start %v, end %v", c, t0.Add(time.Second), t0.Add(4*time.Second))
	}
	// The writer forgets the call just after the store returns: give it
	// a moment, but it must happen.
	for deadline := time.Now().Add(2 * time.Second); w.live(callSID); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call still counts as live once its final record is stored")
		}
	}
}

// While an earlier record of a call waits to be retried, a later one
// never lands first and is never overwritten by the earlier one.
func TestCDRRetryKeepsOrder(t *testing.T) {
	w, fs := newFlakyCDR(t)
	defer w.Close()
	callSID := sid.New(sid.Call)
	t0 := time.Now().UTC()
	fs.set(0, true)
	w.event(callEvent(callSID, "ringing", t0))
	w.event(callEvent(callSID, "in-progress", t0.Add(time.Second)))
	w.event(callEvent(callSID, "completed", t0.Add(4*time.Second)))
	if !w.live(callSID) {
		t.Fatal("the call's records are not pending while the store fails")
	}
	fs.set(0, false)
	c := waitCall(t, fs.Store, callSID, store.CallCompleted)
	if c.StartTime.IsZero() || c.Duration != 3 {
		t.Errorf("stored call %+v", c)
	}
	// Nothing older may overwrite it later.
	w.Close()
	if c, _ := fs.Store.GetCall(context.Background(), callSID); c.Status != store.CallCompleted {
		t.Errorf("after Close the call is %s", c.Status)
	}
}

// Close, at shutdown, keeps retrying records that are still failing.
func TestCDRCloseDrains(t *testing.T) {
	w, fs := newFlakyCDR(t)
	callSID := sid.New(sid.Call)
	fs.set(1_000_000, false) // fails until Close's retries
	w.event(callEvent(callSID, "completed", time.Now().UTC()))
	recSID := sid.New(sid.Recording)
	w.recording(recording.Recording{SID: recSID, CallSID: callSID, Status: "completed", Duration: 2 * time.Second, Channels: 1, Path: "/x.wav"})
	fs.set(2, false)
	w.Close()
	if c, err := fs.Store.GetCall(context.Background(), callSID); err != nil || c.Status != store.CallCompleted {
		t.Errorf("call after Close: %+v, %v", c, err)
	}
	if r, err := fs.Store.GetRecording(context.Background(), recSID); err != nil || r.Status != store.RecordingCompleted || r.Duration != 2 {
		t.Errorf("recording after Close: %+v, %v", r, err)
	}
}

// Many calls ending while the store fails for a while all end up with
// their final status: none stays in progress.
func TestCDRFloodWhileStoreFails(t *testing.T) {
	w, fs := newFlakyCDR(t)
	defer w.Close()
	const n = 200
	sids := make([]string, n)
	fs.set(0, true)
	var wg sync.WaitGroup
	for i := range sids {
		sids[i] = sid.New(sid.Call)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now().UTC()
			w.event(callEvent(sids[i], "ringing", t0))
			w.event(callEvent(sids[i], "in-progress", t0))
			w.event(callEvent(sids[i], "completed", t0.Add(time.Second)))
		}()
	}
	wg.Wait()
	fs.set(0, false)
	for _, s := range sids {
		waitCall(t, fs.Store, s, store.CallCompleted)
	}
}

// hangingStore's call writes wait until release is closed.
type hangingStore struct {
	store.Store
	release chan struct{}
}

func (h *hangingStore) PutCall(ctx context.Context, c store.Call) (store.Call, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
		return store.Call{}, ctx.Err()
	}
	return h.Store.PutCall(ctx, c)
}

// A store that hangs does not hold up the call reporting to it: the event
// returns and the record lands once the store answers.
func TestCDRHangingStoreHoldsUpNoCall(t *testing.T) {
	w, fs := newFlakyCDR(t)
	hs := &hangingStore{Store: fs.Store, release: make(chan struct{})}
	w.store = hs
	w.writes.syncWait = time.Millisecond
	defer w.Close()
	callSID := sid.New(sid.Call)
	returned := make(chan struct{})
	go func() {
		w.event(callEvent(callSID, "in-progress", time.Now().UTC()))
		w.event(callEvent(callSID, "completed", time.Now().UTC()))
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the call's events waited for a hanging store")
	}
	close(hs.release)
	waitCall(t, fs.Store, callSID, store.CallCompleted)
}
