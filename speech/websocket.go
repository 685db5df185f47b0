package speech

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// WebSocket is a Recognizer that streams the utterance to an external
// recognition server, so any engine can be plugged in. The protocol, one
// WebSocket per utterance, opened when the <Gather> starts listening:
//
//	→ text   {"type":"start","language":"en-US","hints":["sales","support"],
//	          "model":"default","profanityFilter":true,"callSid":"CA…",
//	          "encoding":"audio/l16","sampleRate":8000,"channels":1}
//	→ binary 20 ms frames of 16-bit little-endian PCM (320 bytes), from
//	         just before the caller starts speaking
//	→ text   {"type":"end"}       the caller stopped speaking
//	← text   {"type":"partial","text":"sa","stability":0.4}   any number, optional
//	← text   {"type":"final","text":"sales","confidence":0.93}  once; confidence optional
//	← text   {"type":"error","message":"…"}                   instead of final
//
// The gateway closes the socket after final (or error).
type WebSocket struct {
	// URL is the server's ws:// or wss:// URL.
	URL string
	// Header is sent with the handshake (e.g. Authorization).
	Header http.Header
	// HTTPClient dials (TLS roots); nil = default.
	HTTPClient *http.Client
	// DialTimeout bounds the connection; default 5 s.
	DialTimeout time.Duration
	// FinalTimeout bounds the wait for final after end; default 10 s.
	FinalTimeout time.Duration
}

// wsQueueFrames bounds audio waiting to be sent (10 s).
const wsQueueFrames = 500

type wsStart struct {
	Type            string   `json:"type"`
	Language        string   `json:"language"`
	Hints           []string `json:"hints"`
	Model           string   `json:"model,omitempty"`
	ProfanityFilter bool     `json:"profanityFilter"`
	CallSID         string   `json:"callSid,omitempty"`
	Encoding        string   `json:"encoding"`
	SampleRate      int      `json:"sampleRate"`
	Channels        int      `json:"channels"`
}

type wsReply struct {
	Type       string   `json:"type"`
	Text       string   `json:"text"`
	Stability  float64  `json:"stability"`
	Confidence *float64 `json:"confidence"`
	Message    string   `json:"message"`
}

// Start opens the socket and sends start.
func (w *WebSocket) Start(ctx context.Context, opts Options) (Session, error) {
	timeout := w.DialTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, w.URL, &websocket.DialOptions{HTTPHeader: w.Header, HTTPClient: w.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("speech: recognition server: %w", err)
	}
	if opts.Language == "" {
		opts.Language = "en-US"
	}
	hints := opts.Hints
	if hints == nil {
		hints = []string{}
	}
	start, _ := json.Marshal(wsStart{Type: "start", Language: opts.Language, Hints: hints, Model: opts.Model,
		ProfanityFilter: opts.ProfanityFilter, CallSID: opts.CallSID, Encoding: "audio/l16", SampleRate: 8000, Channels: 1})
	if err := conn.Write(dctx, websocket.MessageText, start); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("speech: recognition server: sending start: %w", err)
	}
	finalTimeout := w.FinalTimeout
	if finalTimeout <= 0 {
		finalTimeout = 10 * time.Second
	}
	s := &wsSession{conn: conn, finalTimeout: finalTimeout, audio: make(chan [frameSamples]int16, wsQueueFrames),
		partials: make(chan Partial, 16), final: make(chan struct{}), sent: make(chan struct{})}
	go s.writeLoop()
	go s.readLoop()
	return s, nil
}

type wsSession struct {
	conn         *websocket.Conn
	finalTimeout time.Duration
	audio        chan [frameSamples]int16
	dropped      atomic.Int64
	endOnce      sync.Once
	sent         chan struct{} // closed when the writer has sent end (or failed)

	partials chan Partial
	final    chan struct{} // closed when result/err are set
	result   Result
	err      error
}

// Write queues a frame; when the server is behind, the frame is dropped.
func (s *wsSession) Write(pcm []int16) {
	var f [frameSamples]int16
	copy(f[:], pcm)
	select {
	case s.audio <- f:
	default:
		s.dropped.Add(1)
	}
}

func (s *wsSession) writeLoop() {
	defer close(s.sent)
	buf := make([]byte, 2*frameSamples)
	ctx := context.Background()
	for f := range s.audio {
		for i, v := range f {
			binary.LittleEndian.PutUint16(buf[2*i:], uint16(v))
		}
		if err := s.conn.Write(ctx, websocket.MessageBinary, buf); err != nil {
			for range s.audio { // drain until Finish/Close ends the queue
			}
			return
		}
	}
	_ = s.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"end"}`))
}

func (s *wsSession) readLoop() {
	defer close(s.partials)
	defer close(s.final)
	for {
		_, data, err := s.conn.Read(context.Background())
		if err != nil {
			s.err = fmt.Errorf("speech: recognition server closed before a final result: %w", err)
			return
		}
		var r wsReply
		if err := json.Unmarshal(data, &r); err != nil {
			s.err = fmt.Errorf("speech: recognition server sent invalid JSON: %w", err)
			return
		}
		switch r.Type {
		case "partial":
			select {
			case s.partials <- Partial{Text: r.Text, Stability: r.Stability}:
			default: // nobody is reading partials fast enough: skip one
			}
		case "final":
			s.result = Result{Text: r.Text}
			if r.Confidence != nil {
				s.result.Confidence, s.result.HasConfidence = *r.Confidence, true
			}
			return
		case "error":
			s.err = fmt.Errorf("speech: recognition server: %s", r.Message)
			return
		}
	}
}

func (s *wsSession) Partials() <-chan Partial { return s.partials }

func (s *wsSession) endAudio() { s.endOnce.Do(func() { close(s.audio) }) }

// Finish sends end and waits for final.
func (s *wsSession) Finish(ctx context.Context) (Result, error) {
	s.endAudio()
	t := time.NewTimer(s.finalTimeout)
	defer t.Stop()
	select {
	case <-s.final:
	case <-t.C:
		s.conn.CloseNow()
		<-s.final
		return Result{}, errors.New("speech: recognition server gave no final result in time")
	case <-ctx.Done():
		s.conn.CloseNow()
		<-s.final
		return Result{}, ctx.Err()
	}
	if s.err != nil {
		return Result{}, s.err
	}
	s.result.DroppedFrames = int(s.dropped.Load())
	return s.result, nil
}

// Close ends the session. The close handshake runs in the background
// (bounded by the library's 5 s handshake timeout) so a gather never
// waits for a slow server to say goodbye.
func (s *wsSession) Close() {
	s.endAudio()
	go func() {
		<-s.sent
		s.conn.Close(websocket.StatusNormalClosure, "")
		<-s.final
	}()
}
