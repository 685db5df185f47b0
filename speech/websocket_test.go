package speech

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// recognitionServer is an external recognition server as the WebSocket
// recognizer expects one, with PocketSphinx as its engine: it records
// the start message and the audio, sends a partial for every second of
// audio, and on end recognizes what it got.
type recognitionServer struct {
	t     *testing.T
	mu    sync.Mutex
	start map[string]any
	audio []int16
	auth  string
}

func (rs *recognitionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	rs.mu.Lock()
	rs.auth = r.Header.Get("Authorization")
	rs.mu.Unlock()
	var hints []string
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			rs.mu.Lock()
			for i := 0; i+1 < len(data); i += 2 {
				rs.audio = append(rs.audio, int16(binary.LittleEndian.Uint16(data[i:])))
			}
			n := len(rs.audio)
			rs.mu.Unlock()
			if n%4000 == 0 { // every half second of audio
				c.Write(ctx, websocket.MessageText, []byte(`{"type":"partial","text":"hmm","stability":0.2}`))
			}
			continue
		}
		var m map[string]any
		json.Unmarshal(data, &m)
		switch m["type"] {
		case "start":
			rs.mu.Lock()
			rs.start = m
			rs.mu.Unlock()
			for _, h := range m["hints"].([]any) {
				hints = append(hints, h.(string))
			}
		case "end":
			sess, _ := (&Pocketsphinx{}).Start(ctx, Options{Hints: hints})
			rs.mu.Lock()
			sess.Write(rs.audio)
			rs.mu.Unlock()
			res, err := sess.Finish(ctx)
			if err != nil {
				c.Write(ctx, websocket.MessageText, []byte(`{"type":"error","message":"`+err.Error()+`"}`))
				return
			}
			reply, _ := json.Marshal(map[string]any{"type": "final", "text": res.Text, "confidence": 0.875})
			c.Write(ctx, websocket.MessageText, reply)
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

func TestWebSocketRecognizer(t *testing.T) {
	rs := &recognitionServer{t: t}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	rec := &WebSocket{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Header: http.Header{"Authorization": {"Bearer k"}}}
	said := say(t, "support please")
	sess, err := rec.Start(context.Background(), Options{Language: "en-GB", Hints: []string{"sales please", "support please"}, CallSID: "CA1", ProfanityFilter: true})
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(sess, ListenerConfig{})
	var partials []Partial
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range l.Partials() {
			partials = append(partials, p)
		}
	}()
	for _, f := range append(frames(said), frames(make([]int16, 8000))...) {
		l.WriteFrame(f)
	}
	<-l.Ended()
	res, err := l.Result(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-done
	if res.Text != "support please" || !res.HasConfidence || res.Confidence != 0.875 {
		t.Errorf("result = %+v", res)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	want := map[string]any{"type": "start", "language": "en-GB", "hints": []any{"sales please", "support please"}, "model": nil,
		"profanityFilter": true, "callSid": "CA1", "encoding": "audio/l16", "sampleRate": 8000.0, "channels": 1.0}
	delete(want, "model")
	if a, b := mustJSON(rs.start), mustJSON(want); a != b {
		t.Errorf("start = %s, want %s", a, b)
	}
	if rs.auth != "Bearer k" {
		t.Errorf("Authorization = %q", rs.auth)
	}
	// The server got the speech itself: one unbroken run of what the
	// caller said (from the pre-roll to the last loud frame).
	if len(rs.audio) < 4000 || !containsRun(said, rs.audio) {
		t.Errorf("the server received %d samples that are not one run of the caller's speech", len(rs.audio))
	}
	if len(partials) == 0 {
		t.Errorf("no partial results were delivered")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func containsRun(hay, needle []int16) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		if slices.Equal(hay[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

func TestWebSocketRecognizerUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := (&WebSocket{URL: "ws" + strings.TrimPrefix(srv.URL, "http")}).Start(context.Background(), Options{}); err == nil {
		t.Errorf("Start succeeded against a closed port")
	}
}
