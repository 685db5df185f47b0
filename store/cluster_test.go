package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// TestClusterHeartbeatAndClaim: nodes heartbeat; a node last seen before
// the cut-off is claimed by exactly one of several survivors claiming at
// once; a lapsed claim can be taken again; a node that comes back is up.
func TestClusterHeartbeatAndClaim(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b, c := openTest(t, dir, clock), openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID, c.nodeID = "gw-a", "gw-b", "gw-c"
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, s := range []*DB{a, b, c} {
		if err := s.Heartbeat(ctx, Node{ID: s.nodeID, State: NodeUp, Started: t0, LastSeen: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := a.ClusterNodes(ctx)
	if err != nil || len(nodes) != 3 || nodes[0].ID != "gw-a" || nodes[2].LastSeen != t0.Add(2*time.Minute) || nodes[1].State != NodeUp {
		t.Fatalf("ClusterNodes = %+v, %v", nodes, err)
	}
	// gw-a (seen at t0) is dead for a cut-off of t0+30s; gw-b (t0+1m) is not.
	cut, now := t0.Add(30*time.Second), t0.Add(2*time.Minute)
	if ok, err := b.ClaimDeadNode(ctx, "gw-b", "gw-c", cut, now, now.Add(time.Minute)); ok || err != nil {
		t.Fatalf("claimed a live node: %v, %v", ok, err)
	}
	if ok, err := b.ClaimDeadNode(ctx, "gw-b", "gw-b", now.Add(time.Hour), now, now.Add(time.Minute)); ok || err != nil {
		t.Fatalf("a node claimed itself: %v, %v", ok, err)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for _, s := range []*DB{b, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimDeadNode(ctx, "gw-a", s.nodeID, cut, now, now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won = append(won, s.nodeID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 {
		t.Fatalf("survivors that claimed the dead node: %v, want exactly one", won)
	}
	other := map[string]*DB{"gw-b": c, "gw-c": b}[won[0]]
	// The claim holds until its lease ends, then another survivor may take it.
	if ok, _ := other.ClaimDeadNode(ctx, "gw-a", other.nodeID, cut, now.Add(30*time.Second), now.Add(time.Minute)); ok {
		t.Fatal("a claim was taken while its lease held")
	}
	if ok, _ := other.ClaimDeadNode(ctx, "gw-a", other.nodeID, cut, now.Add(2*time.Minute), now.Add(3*time.Minute)); !ok {
		t.Fatal("a lapsed claim could not be taken")
	}
	if err := other.FinishTakeover(ctx, "gw-a", other.nodeID); err != nil {
		t.Fatal(err)
	}
	nodes, _ = a.ClusterNodes(ctx)
	if nodes[0].State != NodeDead || nodes[0].TakenBy != other.nodeID {
		t.Fatalf("after the takeover gw-a is %+v", nodes[0])
	}
	if ok, _ := b.ClaimDeadNode(ctx, "gw-a", "gw-b", now.Add(time.Hour), now.Add(time.Hour), now.Add(2*time.Hour)); ok {
		t.Fatal("a node taken over was claimed again")
	}
	// It comes back.
	if err := a.Heartbeat(ctx, Node{ID: "gw-a", State: NodeUp, Started: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	if nodes, _ = a.ClusterNodes(ctx); nodes[0].State != NodeUp || nodes[0].TakenBy != "" {
		t.Fatalf("gw-a back: %+v", nodes[0])
	}
}

// TestEndUnfinishedOnce: of two gateways ending the same live call and
// recording, one does; an ended one is left as it is.
func TestEndUnfinishedOnce(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b := openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID = "gw-a", "gw-b"
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	live := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallInProgress, StartTime: start}
	done := Call{SID: sid.New(sid.Call), AccountSID: testAccount, Status: CallCompleted, StartTime: start, EndTime: start.Add(time.Second), Duration: 1}
	for _, c := range []Call{live, done} {
		if _, err := a.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	rec := sampleRecording(live.SID)
	rec.Status = RecordingInProgress
	if _, err := a.PutRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	calls, err := b.NodeUnfinishedCalls(ctx, "gw-a")
	if err != nil || len(calls) != 1 || calls[0].SID != live.SID {
		t.Fatalf("NodeUnfinishedCalls(gw-a) = %+v, %v", calls, err)
	}
	if other, _ := b.NodeUnfinishedCalls(ctx, "gw-b"); len(other) != 0 {
		t.Fatalf("NodeUnfinishedCalls(gw-b) = %+v", other)
	}
	recs, err := b.NodeUnfinishedRecordings(ctx, "gw-a")
	if err != nil || len(recs) != 1 || recs[0].SID != rec.SID {
		t.Fatalf("NodeUnfinishedRecordings(gw-a) = %+v, %v", recs, err)
	}
	ended := live
	ended.Status, ended.EndTime, ended.Duration = CallCompleted, start.Add(7*time.Second), 7
	wins := 0
	for _, s := range []*DB{b, a, b} {
		ok, err := s.EndUnfinishedCall(ctx, ended)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("EndUnfinishedCall succeeded %d times, want 1", wins)
	}
	if ok, err := b.EndUnfinishedCall(ctx, Call{SID: done.SID, AccountSID: testAccount, Status: CallCanceled}); ok || err != nil {
		t.Errorf("EndUnfinishedCall changed an ended call: %v, %v", ok, err)
	}
	got, err := a.GetCall(ctx, live.SID)
	if err != nil || got.Status != CallCompleted || got.Duration != 7 || !got.EndTime.Equal(ended.EndTime) || got.NodeID != "gw-a" {
		t.Errorf("ended call = %+v, %v", got, err)
	}
	rec.Status, rec.Duration, rec.Path = RecordingAbsent, 0, ""
	if ok, err := b.EndUnfinishedRecording(ctx, rec); !ok || err != nil {
		t.Fatalf("EndUnfinishedRecording = %v, %v", ok, err)
	}
	if ok, _ := a.EndUnfinishedRecording(ctx, rec); ok {
		t.Error("an ended recording was ended again")
	}
	if recs, _ := b.NodeUnfinishedRecordings(ctx, "gw-a"); len(recs) != 0 {
		t.Errorf("recordings still unfinished: %+v", recs)
	}
}

// TestCallCallbacks: a REST call's callback is kept in the database while
// it runs, readable by any node, and forgotten when it ends.
func TestCallCallbacks(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	callSID := sid.New(sid.Call)
	if _, err := s.GetCallCallback(ctx, callSID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no callback yet: %v", err)
	}
	cb := CallCallback{CallSID: callSID, URL: "http://example.test/cb", Method: "POST", Events: []string{"initiated", "completed"}}
	if err := s.PutCallCallback(ctx, cb); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCallCallback(ctx, callSID)
	if err != nil || got.URL != cb.URL || got.Method != "POST" || len(got.Events) != 2 || got.Events[1] != "completed" {
		t.Fatalf("GetCallCallback = %+v, %v", got, err)
	}
	if err := s.DeleteCallCallback(ctx, callSID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCallCallback(ctx, callSID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// TestClaimMessages: a node's unfinished messages are its own at start-up;
// a survivor claims a dead node's, once.
func TestClaimMessages(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b := openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID = "gw-a", "gw-b"
	mk := func(s *DB, status string) string {
		m := Message{SID: sid.New("SM"), AccountSID: testAccount, Direction: "outbound-api", From: "+15550001", To: "+15550002", Body: "hi", Status: status}
		if _, err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m.SID
	}
	queued, sent := mk(a, MessageQueued), mk(a, "sent")
	mine := mk(b, MessageQueued)
	if ms, err := b.UnfinishedMessages(ctx); err != nil || len(ms) != 1 || ms[0].SID != mine {
		t.Fatalf("gw-b's unfinished messages = %+v, %v", ms, err)
	}
	ms, err := b.ClaimMessages(ctx, "gw-a")
	if err != nil || len(ms) != 1 || ms[0].SID != queued {
		t.Fatalf("ClaimMessages = %+v, %v (sent %s)", ms, err, sent)
	}
	if again, _ := b.ClaimMessages(ctx, "gw-a"); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	if ms, _ := a.UnfinishedMessages(ctx); len(ms) != 0 {
		t.Fatalf("gw-a still owns %+v", ms)
	}
	if ms, _ := b.UnfinishedMessages(ctx); len(ms) != 2 {
		t.Fatalf("gw-b owns %d unfinished messages, want 2", len(ms))
	}
}

// TestClaimTimer: of the nodes that armed one timer, one fires it.
func TestClaimTimer(t *testing.T) {
	ctx := context.Background()
	dir, clock := t.TempDir(), newFakeClock()
	a, b := openTest(t, dir, clock), openTest(t, dir, clock)
	a.nodeID, b.nodeID = "gw-a", "gw-b"
	wins := 0
	for _, s := range []*DB{a, b, a} {
		ok, err := s.ClaimTimer(ctx, "FN1@2026-01-02T03:04:05Z")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("timer claimed %d times, want 1", wins)
	}
	if ok, _ := b.ClaimTimer(ctx, "FN1@2026-01-02T03:09:05Z"); !ok {
		t.Error("a new deadline of the same execution could not be claimed")
	}
	n, err := a.DeleteOldTimerClaims(ctx, clock.Now().Add(time.Second))
	if err != nil || n != 2 {
		t.Errorf("DeleteOldTimerClaims = %d, %v; want 2", n, err)
	}
	if ok, _ := b.ClaimTimer(ctx, "FN1@2026-01-02T03:04:05Z"); !ok {
		t.Error("a forgotten claim could not be made again")
	}
}
