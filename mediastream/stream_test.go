package mediastream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/twiml"
)

const (
	testAccount = "AC00000000000000000000000000000001"
	testCall    = "CA00000000000000000000000000000001"
	testToken   = "0123456789abcdef0123456789abcdef"
)

// eventLog records status events.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

func (l *eventLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.evs {
		out = append(out, e.Name)
	}
	return out
}

func startTest(t *testing.T, ts *testServer, cfg Config) (*Stream, *eventLog) {
	t.Helper()
	log := &eventLog{}
	cfg.URL = ts.wsURL()
	cfg.AccountSID, cfg.CallSID, cfg.AuthToken = testAccount, testCall, testToken
	cfg.OnEvent = log.add
	if cfg.Stats == nil {
		cfg.Stats = &Stats{}
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Stop)
	return s, log
}

// tone returns n frames of a 440 Hz tone.
func tone(n int) [][]int16 {
	frames := make([][]int16, n)
	for f := range frames {
		frames[f] = make([]int16, media.FrameSamples)
		for i := range frames[f] {
			k := f*media.FrameSamples + i
			frames[f][i] = int16(8000 * math.Sin(2*math.Pi*440*float64(k)/media.SampleRate))
		}
	}
	return frames
}

func TestConnectHandshakeStartAndInboundAudio(t *testing.T) {
	ts := newTestServer(t)
	s, _ := startTest(t, ts, Config{
		Bidirectional: true, Track: twiml.TrackBoth, // Connect ignores track: inbound only
		Parameters: []twiml.Parameter{{Name: "FirstName", Value: "Ada"}, {Name: "k", Value: "v"}},
	})
	frames := tone(30)
	for _, f := range frames {
		s.WriteInbound(f)
		s.WriteOutbound(f) // not streamed: <Connect> is inbound only
	}
	msgs := ts.waitFor("30 media frames", countEvent("media", 30))

	if got := ts.header.Get("X-Twilio-Signature"); got != webhook.Signature(testToken, ts.reqURL, nil) {
		t.Errorf("X-Twilio-Signature = %q, want the signature of %s", got, ts.reqURL)
	}
	if msgs[0]["event"] != "connected" || msgs[0]["protocol"] != "Call" || msgs[0]["version"] != "1.0.0" || len(msgs[0]) != 3 {
		t.Errorf("first message = %v", msgs[0])
	}
	start := msgs[1]
	if start["event"] != "start" || start["sequenceNumber"] != "1" || start["streamSid"] != s.SID() {
		t.Errorf("start = %v", start)
	}
	want := map[string]any{
		"accountSid": testAccount, "callSid": testCall, "streamSid": s.SID(),
		"tracks":           []any{"inbound"},
		"mediaFormat":      map[string]any{"encoding": "audio/x-mulaw", "sampleRate": 8000.0, "channels": 1.0},
		"customParameters": map[string]any{"FirstName": "Ada", "k": "v"},
	}
	if got := start["start"].(map[string]any); !equalJSON(got, want) {
		t.Errorf("start.start = %v, want %v", got, want)
	}
	var got []byte
	for i, m := range events(msgs, "media") {
		if m["sequenceNumber"] != strconv.Itoa(i+2) || field(m, "media", "chunk") != strconv.Itoa(i+1) || field(m, "media", "track") != "inbound" || m["streamSid"] != s.SID() {
			t.Fatalf("media %d = %v", i, m)
		}
		if i > 0 {
			prev, _ := strconv.Atoi(field(events(msgs, "media")[i-1], "media", "timestamp").(string))
			cur, _ := strconv.Atoi(field(m, "media", "timestamp").(string))
			if cur != prev+20 {
				t.Errorf("media %d timestamp %d after %d, want +20", i, cur, prev)
			}
		}
		payload, err := base64.StdEncoding.DecodeString(field(m, "media", "payload").(string))
		if err != nil || len(payload) != frameBytes {
			t.Fatalf("media %d payload: %d bytes, %v", i, len(payload), err)
		}
		got = append(got, payload...)
	}
	var sent []byte
	for _, f := range frames {
		sent = media.PCMU.Encode(sent, f)
	}
	if !bytes.Equal(got, sent) {
		t.Errorf("the server received different audio from what the caller sent")
	}
}

func equalJSON(a, b any) bool {
	return fmtJSON(a) == fmtJSON(b)
}

func fmtJSON(v any) string {
	var buf bytes.Buffer
	enc := jsonEncoder(&buf)
	_ = enc.Encode(v)
	return buf.String()
}

// takeFrames plays n frames of the stream as the call's pacer would and
// returns the μ-law it got.
func takeFrames(t *testing.T, s *Stream, n int) []byte {
	t.Helper()
	var out []byte
	pcm := make([]int16, media.FrameSamples)
	for range n {
		k, err := s.ReadFrame(pcm)
		if err != nil || k != media.FrameSamples {
			t.Fatalf("ReadFrame = %d, %v", k, err)
		}
		out = media.PCMU.Encode(out, pcm)
	}
	return out
}

func waitQueued(t *testing.T, s *Stream, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.play.mu.Lock()
		q := s.play.queued()
		s.play.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("playout holds %d bytes, want %d", q, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func marksQueued(s *Stream) int {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return len(s.out.control)
}

func TestServerAudioIsPlayedAndMarksEchoAfterIt(t *testing.T) {
	ts := newTestServer(t)
	s, _ := startTest(t, ts, Config{Bidirectional: true})
	ts.waitFor("start", countEvent("start", 1))

	// Irregular chunks, as TTS engines send them; μ-law values chosen so
	// they survive the decode/encode round trip.
	audio := make([]byte, 4333)
	for i := range audio {
		audio[i] = byte(0x10 + i%0x60)
	}
	for _, cut := range [][2]int{{0, 1000}, {1000, 4333}} {
		ts.send(map[string]any{"event": "media", "streamSid": s.SID(), "media": map[string]any{"payload": base64.StdEncoding.EncodeToString(audio[cut[0]:cut[1]])}})
	}
	ts.send(map[string]any{"event": "mark", "streamSid": s.SID(), "mark": map[string]any{"name": "m1"}})
	waitQueued(t, s, len(audio))

	played := takeFrames(t, s, len(audio)/frameBytes) // 27 frames: 13 bytes still queued
	if n := marksQueued(s); n != 0 {
		t.Fatalf("mark echoed before its audio was played (%d queued)", n)
	}
	played = append(played, takeFrames(t, s, 1)...)
	if !bytes.Equal(played[:len(audio)], audio) {
		t.Errorf("played audio differs from what the server sent")
	}
	if !bytes.Equal(played[len(audio):], bytes.Repeat([]byte{ulawSilence}, len(played)-len(audio))) {
		t.Errorf("the frame after the audio is not padded with silence")
	}
	msgs := ts.waitFor("mark echo", countEvent("mark", 1))
	if m := events(msgs, "mark")[0]; field(m, "mark", "name") != "m1" || m["streamSid"] != s.SID() || m["sequenceNumber"] == nil {
		t.Errorf("mark echo = %v", m)
	}

	// With nothing queued a mark comes back at once; silence plays.
	ts.send(map[string]any{"event": "mark", "streamSid": s.SID(), "mark": map[string]any{"name": "empty"}})
	msgs = ts.waitFor("second mark echo", countEvent("mark", 2))
	if field(events(msgs, "mark")[1], "mark", "name") != "empty" {
		t.Errorf("second echo = %v", events(msgs, "mark")[1])
	}
	if got := takeFrames(t, s, 1); !bytes.Equal(got, bytes.Repeat([]byte{ulawSilence}, frameBytes)) {
		t.Errorf("an idle stream plays non-silence")
	}
}

func TestClearDropsAudioAndReturnsPendingMarks(t *testing.T) {
	ts := newTestServer(t)
	s, _ := startTest(t, ts, Config{Bidirectional: true})
	ts.waitFor("start", countEvent("start", 1))
	fiveSeconds := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x20}, 5*media.SampleRate))
	for _, name := range []string{"a", "b"} {
		ts.send(map[string]any{"event": "media", "streamSid": s.SID(), "media": map[string]any{"payload": fiveSeconds}})
		ts.send(map[string]any{"event": "mark", "streamSid": s.SID(), "mark": map[string]any{"name": name}})
	}
	waitQueued(t, s, 10*media.SampleRate)
	takeFrames(t, s, 50)
	ts.send(map[string]any{"event": "clear", "streamSid": s.SID()})
	msgs := ts.waitFor("both marks", countEvent("mark", 2))
	marks := events(msgs, "mark")
	if field(marks[0], "mark", "name") != "a" || field(marks[1], "mark", "name") != "b" {
		t.Errorf("marks after clear = %v", marks)
	}
	if got := takeFrames(t, s, 1); !bytes.Equal(got, bytes.Repeat([]byte{ulawSilence}, frameBytes)) {
		t.Errorf("audio still plays after clear")
	}
	// New audio after clear plays.
	ts.send(map[string]any{"event": "media", "streamSid": s.SID(), "media": map[string]any{"payload": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x30}, frameBytes))}})
	waitQueued(t, s, frameBytes)
	if got := takeFrames(t, s, 1); !bytes.Equal(got, bytes.Repeat([]byte{0x30}, frameBytes)) {
		t.Errorf("audio after clear does not play")
	}
}

func TestDTMFAndStop(t *testing.T) {
	ts := newTestServer(t)
	s, log := startTest(t, ts, Config{Bidirectional: true, Name: "bot"})
	ts.waitFor("start", countEvent("start", 1))
	for _, k := range []byte("1#") {
		s.DTMF(k)
	}
	msgs := ts.waitFor("2 digits", countEvent("dtmf", 2))
	for i, d := range []string{"1", "#"} {
		m := events(msgs, "dtmf")[i]
		if field(m, "dtmf", "digit") != d || field(m, "dtmf", "track") != "inbound_track" || m["streamSid"] != s.SID() {
			t.Errorf("dtmf %d = %v", i, m)
		}
	}
	s.Stop()
	if err := s.Err(); err != nil {
		t.Errorf("Err after Stop = %v", err)
	}
	msgs = ts.waitFor("stop", countEvent("stop", 1))
	last := msgs[len(msgs)-1]
	if last["event"] != "stop" || field(last, "stop", "accountSid") != testAccount || field(last, "stop", "callSid") != testCall || last["streamSid"] != s.SID() {
		t.Errorf("last message = %v", last)
	}
	// sequenceNumber: start 1, two dtmf, stop 4.
	if last["sequenceNumber"] != "4" {
		t.Errorf("stop sequenceNumber = %v, want 4", last["sequenceNumber"])
	}
	if code := <-ts.closed; code != websocket.StatusNormalClosure {
		t.Errorf("close code = %d, want 1000", code)
	}
	if got := log.names(); !equalJSON(got, []string{"stream-started", "stream-stopped"}) {
		t.Errorf("events = %v", got)
	}
	if _, err := s.ReadFrame(make([]int16, 160)); err != io.EOF {
		t.Errorf("ReadFrame after the end = %v, want EOF", err)
	}
}

func TestServerClosingEndsTheStream(t *testing.T) {
	ts := newTestServer(t)
	s, log := startTest(t, ts, Config{Bidirectional: true})
	ts.waitFor("start", countEvent("start", 1))
	ts.conn.Close(websocket.StatusNormalClosure, "bye")
	<-s.Done()
	if err := s.Err(); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Err = %v, want ErrServerClosed", err)
	}
	if got := log.names(); !equalJSON(got, []string{"stream-started", "stream-stopped"}) {
		t.Errorf("events = %v", got)
	}

	ts2 := newTestServer(t)
	s2, log2 := startTest(t, ts2, Config{Bidirectional: true})
	ts2.waitFor("start", countEvent("start", 1))
	ts2.conn.Close(websocket.StatusInternalError, "oops")
	var e *Error
	if err := s2.Err(); !errors.As(err, &e) || e.Code != CodeCloseError {
		t.Errorf("Err after an error close = %v, want %d", err, CodeCloseError)
	}
	if got := log2.names(); !equalJSON(got, []string{"stream-started", "stream-error"}) {
		t.Errorf("events = %v", got)
	}
}

func TestForkBothTracksIgnoresServerMessages(t *testing.T) {
	ts := newTestServer(t)
	stats := &Stats{}
	s, _ := startTest(t, ts, Config{Track: twiml.TrackBoth, Stats: stats})
	ts.waitFor("start", countEvent("start", 1))
	ts.send(map[string]any{"event": "media", "streamSid": s.SID(), "media": map[string]any{"payload": "AAAA"}})
	frames := tone(5)
	for _, f := range frames {
		s.WriteInbound(f)
		s.WriteOutbound(f)
		s.DTMF('5') // one-way streams carry no dtmf
	}
	msgs := ts.waitFor("10 media", countEvent("media", 10))
	if tr := field(msgs[1], "start", "tracks"); !equalJSON(tr, []string{"inbound", "outbound"}) {
		t.Errorf("tracks = %v", tr)
	}
	chunks := map[string]int{}
	for _, m := range events(msgs, "media") {
		tr := field(m, "media", "track").(string)
		chunks[tr]++
		if field(m, "media", "chunk") != strconv.Itoa(chunks[tr]) {
			t.Errorf("%s chunk = %v, want %d", tr, field(m, "media", "chunk"), chunks[tr])
		}
	}
	if chunks["inbound"] != 5 || chunks["outbound"] != 5 {
		t.Errorf("frames per track = %v", chunks)
	}
	if len(events(msgs, "dtmf")) != 0 {
		t.Errorf("a one-way stream sent dtmf")
	}
	if _, err := s.ReadFrame(make([]int16, 160)); err != io.EOF {
		t.Errorf("ReadFrame on a one-way stream = %v, want EOF", err)
	}
	waitUntil(t, "warning 31924", func() bool { return stats.Warnings()[CodeProtocolError] == 1 })
}

func TestInvalidServerMessagesAreIgnored(t *testing.T) {
	ts := newTestServer(t)
	stats := &Stats{}
	s, _ := startTest(t, ts, Config{Bidirectional: true, Stats: stats})
	ts.waitFor("start", countEvent("start", 1))
	ts.sendRaw(websocket.MessageBinary, []byte{1, 2, 3})
	ts.sendRaw(websocket.MessageText, []byte("not json"))
	ts.send(map[string]any{"event": "mark", "streamSid": "MZwrong", "mark": map[string]any{"name": "x"}})
	ts.send(map[string]any{"event": "dance", "streamSid": s.SID()})
	ts.send(map[string]any{"event": "mark", "streamSid": s.SID(), "mark": map[string]any{"name": "ok"}, "extra": 1})
	ts.send(map[string]any{"event": "mark", "streamSid": s.SID(), "mark": map[string]any{"name": "good"}})
	msgs := ts.waitFor("the valid mark", countEvent("mark", 1))
	if field(events(msgs, "mark")[0], "mark", "name") != "good" {
		t.Errorf("echoed %v", events(msgs, "mark"))
	}
	// Messages are handled in order: the warnings came before the echo.
	if w := stats.Warnings(); w[CodeMalformedMessage] != 1 || w[CodeInvalidMessage] != 4 {
		t.Errorf("warnings = %v", w)
	}
	select {
	case <-s.Done():
		t.Errorf("the stream ended: %v", s.Err())
	default:
	}
}

func TestDialErrorsHaveTwilioCodes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().String()
	l.Close()
	notWS := httptest.NewServer(http.NotFoundHandler())
	defer notWS.Close()
	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrusted.Close()
	for _, tc := range []struct {
		url  string
		code int
	}{
		{"ws://" + closedPort + "/x", CodeConnectionRefused},
		{"ws" + notWS.URL[len("http"):] + "/x", CodeHandshakeError},
		{"http://example.com/x", CodeSchemeUnsupported},
		{"ws://%zz", CodeMalformedURL},
		{"wss://" + notWS.Listener.Addr().String() + "/x", CodeTLSError},
		{"wss://" + untrusted.Listener.Addr().String() + "/x", CodeTLSError},
	} {
		log := &eventLog{}
		_, err := Start(context.Background(), Config{URL: tc.url, CallSID: testCall, OnEvent: log.add})
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code {
			t.Errorf("%s: err = %v, want code %d", tc.url, err, tc.code)
		}
		if got := log.names(); !equalJSON(got, []string{"stream-error"}) {
			t.Errorf("%s: events = %v", tc.url, got)
		}
	}
}

func TestDeadServerNeverBlocksTheCall(t *testing.T) {
	ts := newTestServer(t)
	ts.noRead = true
	stats := &Stats{}
	s, log := startTest(t, ts, Config{Stats: stats, QueueFrames: 8, WriteTimeout: 300 * time.Millisecond})
	frame := make([]int16, media.FrameSamples)
	// Far more than the socket buffers hold: writes stall, the queue
	// fills and frames are dropped, but WriteInbound returns (a blocking
	// one would hang this loop until the test times out).
	for i := 0; ; i++ {
		s.WriteInbound(frame)
		if stats.FramesDropped.Load() > 0 && i%1000 == 0 {
			select {
			case <-s.Done():
				var e *Error
				if err := s.Err(); !errors.As(err, &e) || e.Code != CodeConnectionTimeout {
					t.Errorf("Err = %v, want %d", err, CodeConnectionTimeout)
				}
				if got := log.names(); !equalJSON(got, []string{"stream-started", "stream-error"}) {
					t.Errorf("events = %v", got)
				}
				return
			default:
			}
		}
		if i%200 == 0 {
			time.Sleep(time.Millisecond)
		}
		if i > 5_000_000 {
			t.Fatalf("the stream never gave up on a server that does not read (sent %d, dropped %d)", stats.FramesSent.Load(), stats.FramesDropped.Load())
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
