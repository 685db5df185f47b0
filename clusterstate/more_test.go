package clusterstate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/taskrouter"
)

// startConvNode is startNode with a conversation store of its own.
func startConvNode(t *testing.T, id, url string, st *store.DB) (*testNode, *conversation.Store) {
	return startConvNodeTB(t, id, url, st)
}

func startConvNodeTB(t testing.TB, id, url string, st *store.DB) (*testNode, *conversation.Store) {
	t.Helper()
	convs := conversation.NewStore(0)
	var mu sync.Mutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hh := h
		mu.Unlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n := New(Options{NodeID: id, InternalURL: srv.URL, Signer: NewSigner("s3cret"), Conversations: convs,
		Election: NewElection(openPool(t, url), LeaderLockKey), Store: st, Promote: promoteInMemory, Interval: 100 * time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle(InternalPrefix, n.InternalHandler())
	mu.Lock()
	h = mux
	mu.Unlock()
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return &testNode{Node: n, srv: srv}, convs
}

// A chat held by a follower, worked from the leader's view: the leader
// reads it (found from the task's attributes), hears its changes, and
// its joined note, reply and close reach the follower's conversation.
func TestConversationOnAnotherNode(t *testing.T) {
	url, st := pgCluster(t)
	leader, _ := startConvNode(t, "gw-l", url, st)
	follower, fconvs := startConvNode(t, "gw-f", url, st)
	if leader.Leading() == nil || follower.Leading() != nil {
		t.Fatal("the first node does not lead")
	}
	ids := leader.Leading().Defaults
	ct, err := follower.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, Channel: "chat",
		Facts: map[string]any{"name": "Vera"}, Live: "chat CH1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ct.Cancel("test over")
	var replies []string
	if err := fconvs.Open(conversation.Params{SID: "CH1", Channel: "chat", Name: "Vera", TaskSID: ct.SID,
		Deliver: func(_ context.Context, _, body string) error { replies = append(replies, body); return nil }}); err != nil {
		t.Fatal(err)
	}
	if _, err := fconvs.Post("CH1", "visitor", "Hello"); err != nil {
		t.Fatal(err)
	}
	tv, err := leader.Leading().Router.Task(ids.WorkspaceSID, ct.SID)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]any
	_ = json.Unmarshal([]byte(tv.Attributes), &attrs)
	if attrs[FactNode] != "gw-f" || attrs[FactNodeURL] != follower.srv.URL || attrs["name"] != "Vera" {
		t.Fatalf("the task's attributes: %v", attrs)
	}
	view := leader.Conversations()
	c, ok := view.ByTask(ct.SID, attrs)
	if !ok || c.SID != "CH1" || len(c.Messages) != 1 || c.Messages[0].Body != "Hello" {
		t.Fatalf("the leader's view: %+v %v", c, ok)
	}
	if _, ok := view.ByTask(ct.SID, nil); !ok {
		t.Error("a conversation followed already is found without attributes")
	}
	// The visitor writes again: the leader hears it.
	changed := view.Changed()
	if _, err := fconvs.Post("CH1", "visitor", "Are you there?"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader's view did not change")
	}
	deadline := time.Now().Add(10 * time.Second)
	for c, _ = view.ByTask(ct.SID, attrs); len(c.Messages) != 2; c, _ = view.ByTask(ct.SID, attrs) {
		if time.Now().After(deadline) {
			t.Fatalf("the leader's view: %+v", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := view.Post("CH1", conversation.AuthorSystem, "alice joined the chat"); err != nil {
		t.Fatal(err)
	}
	if _, err := view.Reply(context.Background(), "CH1", "alice", "Yes, hello"); err != nil {
		t.Fatal(err)
	}
	view.Close("CH1", "alice left the chat")
	got, _ := fconvs.Get("CH1")
	if !got.Closed || len(got.Messages) != 5 || got.Messages[3].Author != "alice" || got.Messages[3].Body != "Yes, hello" ||
		len(replies) != 1 || replies[0] != "Yes, hello" {
		t.Fatalf("the follower's conversation: %+v, delivered %q", got, replies)
	}
	if _, err := view.Post("CH9", "alice", "x"); err == nil {
		t.Error("a conversation nobody holds took a message")
	}
}

// A named queue's callers, read through a follower: the tasks whose
// queue_sid names it, pending or reserved.
func TestQueueMembersThroughFollower(t *testing.T) {
	url, st := pgCluster(t)
	leader, _ := startConvNode(t, "gw-l", url, st)
	follower, _ := startConvNode(t, "gw-f", url, st)
	ids := leader.Leading().Defaults
	var tasks []*taskrouter.ContactTask
	for i, c := range []struct{ call, queue string }{{"CA1", "QU1"}, {"CA2", "QU2"}, {"CA3", "QU1"}} {
		ct, err := follower.CreateContactTask(taskrouter.ContactParams{WorkflowSID: ids.WorkflowSID, CallSID: c.call, From: "+1555000000" + string(rune('0'+i)),
			Attributes: `{"queue":"sales","queue_sid":"` + c.queue + `"}`})
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, ct)
	}
	ctx := context.Background()
	for _, n := range []*testNode{follower, leader} {
		m, err := n.QueueMembers(ctx, "QU1")
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 || m[0].CallSID != "CA1" || m[1].CallSID != "CA3" || m[0].TaskSID != tasks[0].SID {
			t.Errorf("members of QU1 through %s: %+v", n.NodeID(), m)
		}
	}
	tasks[0].Cancel("caller hung up")
	m, err := follower.QueueMembers(ctx, "QU1")
	if err != nil || len(m) != 1 || m[0].CallSID != "CA3" {
		t.Errorf("members after a hang-up: %+v %v", m, err)
	}
	for _, ct := range tasks[1:] {
		ct.Cancel("test over")
	}
}

// BenchmarkRemoteConversationRead: a desktop's read of a conversation
// another node holds (one signed internal GET on loopback; the view
// makes it once per conversation and then on each change).
func BenchmarkRemoteConversationRead(b *testing.B) {
	url, st := pgCluster(b)
	leader, _ := startConvNodeTB(b, "gw-l", url, st)
	follower, fconvs := startConvNodeTB(b, "gw-f", url, st)
	if err := fconvs.Open(conversation.Params{SID: "CH1", Channel: "chat", Name: "Vera", TaskSID: "WT1"}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := fconvs.Post("CH1", "visitor", "a message of some twenty bytes"); err != nil {
			b.Fatal(err)
		}
	}
	rc := &remoteConv{task: "WT1", url: follower.srv.URL}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c, err := leader.Conversations().fetch(ctx, rc, -1); err != nil || len(c.Messages) != 20 {
			b.Fatal(c, err)
		}
	}
}
