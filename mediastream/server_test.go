package mediastream

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// testServer is a real WebSocket server that records every message the
// gateway sends, with the handshake's headers, and lets a test send
// messages back.
type testServer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	msgs    []map[string]any
	header  http.Header
	reqURL  string
	conn    *websocket.Conn
	arrived chan struct{} // signalled on every message
	closed  chan websocket.StatusCode
	noRead  bool // accept, then never read (a dead server)
}

func newTestServer(t *testing.T) *testServer {
	ts := &testServer{t: t, arrived: make(chan struct{}, 1), closed: make(chan websocket.StatusCode, 1)}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *testServer) wsURL() string { return "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/media" }

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		ts.t.Errorf("accept: %v", err)
		return
	}
	c.SetReadLimit(1 << 20)
	ts.mu.Lock()
	ts.header, ts.reqURL, ts.conn = r.Header.Clone(), "ws://"+r.Host+r.URL.String(), c
	noRead := ts.noRead
	ts.mu.Unlock()
	select {
	case ts.arrived <- struct{}{}:
	default:
	}
	if noRead {
		<-r.Context().Done()
		return
	}
	for {
		typ, data, err := c.Read(context.Background())
		if err != nil {
			ts.closed <- websocket.CloseStatus(err)
			return
		}
		if typ != websocket.MessageText {
			ts.t.Errorf("gateway sent a binary frame")
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			ts.t.Errorf("gateway sent invalid JSON %q: %v", data, err)
			continue
		}
		ts.mu.Lock()
		ts.msgs = append(ts.msgs, m)
		ts.mu.Unlock()
		select {
		case ts.arrived <- struct{}{}:
		default:
		}
	}
}

// send sends v as a text message to the gateway.
func (ts *testServer) send(v any) {
	ts.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.sendRaw(websocket.MessageText, data)
}

func (ts *testServer) sendRaw(typ websocket.MessageType, data []byte) {
	ts.t.Helper()
	ts.mu.Lock()
	c := ts.conn
	ts.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, data); err != nil {
		ts.t.Fatalf("server write: %v", err)
	}
}

// waitFor waits until pred holds for the messages received so far and
// returns them.
func (ts *testServer) waitFor(what string, pred func(msgs []map[string]any) bool) []map[string]any {
	ts.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ts.mu.Lock()
		msgs := append([]map[string]any(nil), ts.msgs...)
		ts.mu.Unlock()
		if pred(msgs) {
			return msgs
		}
		select {
		case <-ts.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			ts.t.Fatalf("timed out waiting for %s; got %d messages: %v", what, len(msgs), brief(msgs))
		}
	}
}

// events returns the messages of one event kind.
func events(msgs []map[string]any, event string) []map[string]any {
	var out []map[string]any
	for _, m := range msgs {
		if m["event"] == event {
			out = append(out, m)
		}
	}
	return out
}

func countEvent(event string, n int) func([]map[string]any) bool {
	return func(msgs []map[string]any) bool { return len(events(msgs, event)) >= n }
}

func brief(msgs []map[string]any) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m["event"].(string))
	}
	if len(out) > 20 {
		out = append(out[:10], "…")
	}
	return out
}

// field digs into a message: field(m, "media", "chunk").
func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[p]
	}
	return v
}
