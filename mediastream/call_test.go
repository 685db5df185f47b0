package mediastream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// fakeLeg is an in-memory media.Leg: Record delivers the frames of said
// (then silence) every 2 ms, Play takes frames every 2 ms and keeps them.
type fakeLeg struct {
	said   [][]int16
	digits chan media.Digit
	done   chan struct{}

	mu     sync.Mutex
	played []byte // μ-law of what was played
}

func newFakeLeg(said [][]int16) *fakeLeg {
	return &fakeLeg{said: said, digits: make(chan media.Digit, 8), done: make(chan struct{})}
}

func (l *fakeLeg) Play(ctx context.Context, src media.Source) error {
	buf := make([]int16, media.FrameSamples)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			return media.ErrLegClosed
		case <-tick.C:
		}
		n, err := src.ReadFrame(buf)
		if err == io.EOF {
			return nil
		}
		l.mu.Lock()
		l.played = media.PCMU.Encode(l.played, buf[:n])
		l.mu.Unlock()
	}
}

func (l *fakeLeg) Record(ctx context.Context, sink media.Sink) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	silence := make([]int16, media.FrameSamples)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-l.done:
			return media.ErrLegClosed
		case <-tick.C:
		}
		f := silence
		if i < len(l.said) {
			f = l.said[i]
		}
		_ = sink.WriteFrame(f)
	}
}

func (l *fakeLeg) DTMF() <-chan media.Digit                          { return l.digits }
func (l *fakeLeg) SendDTMF(ctx context.Context, digits string) error { return nil }
func (l *fakeLeg) Done() <-chan struct{}                             { return l.done }
func (l *fakeLeg) Close(reason string) error                         { close(l.done); return nil }

func (l *fakeLeg) playedAudio() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.played...)
}

func TestConnectOnALegUntilTheServerCloses(t *testing.T) {
	ts := newTestServer(t)
	said := tone(20)
	leg := newFakeLeg(said)
	type result struct {
		s   *Stream
		err error
	}
	res := make(chan result, 1)
	go func() {
		s, err := Connect(context.Background(), leg, Config{URL: ts.wsURL(), CallSID: testCall, AccountSID: testAccount})
		res <- result{s, err}
	}()
	msgs := ts.waitFor("the caller's 20 frames", countEvent("media", 20))
	var heard []byte
	for _, m := range events(msgs, "media")[:20] {
		p, _ := base64.StdEncoding.DecodeString(field(m, "media", "payload").(string))
		heard = append(heard, p...)
	}
	var want []byte
	for _, f := range said {
		want = media.PCMU.Encode(want, f)
	}
	if !bytes.Equal(heard, want) {
		t.Errorf("the server did not hear what the caller said")
	}
	sid := msgs[1]["streamSid"].(string)
	leg.digits <- media.Digit{Key: '7', Via: media.ViaRFC4733}
	ts.waitFor("dtmf", countEvent("dtmf", 1))

	reply := bytes.Repeat([]byte{0x42}, 800)
	ts.send(map[string]any{"event": "media", "streamSid": sid, "media": map[string]any{"payload": base64.StdEncoding.EncodeToString(reply)}})
	ts.send(map[string]any{"event": "mark", "streamSid": sid, "mark": map[string]any{"name": "done"}})
	ts.waitFor("mark echo", countEvent("mark", 1))
	if !bytes.Contains(leg.playedAudio(), reply) {
		t.Errorf("the caller did not hear the server's audio before its mark came back")
	}
	ts.conn.Close(1000, "")
	r := <-res
	if r.err != nil || !errors.Is(r.s.Err(), ErrServerClosed) {
		t.Errorf("Connect = %v, stream err %v; want nil, ErrServerClosed", r.err, r.s.Err())
	}
}

func TestConnectEndsWithTheCall(t *testing.T) {
	ts := newTestServer(t)
	leg := newFakeLeg(nil)
	ctx, hangUp := context.WithCancel(context.Background())
	res := make(chan *Stream, 1)
	go func() {
		s, _ := Connect(ctx, leg, Config{URL: ts.wsURL(), CallSID: testCall, AccountSID: testAccount})
		res <- s
	}()
	ts.waitFor("media", countEvent("media", 3))
	hangUp()
	s := <-res
	if s.Err() != nil {
		t.Errorf("Err = %v", s.Err())
	}
	msgs := ts.waitFor("stop", countEvent("stop", 1))
	if msgs[len(msgs)-1]["event"] != "stop" {
		t.Errorf("stop is not the last message")
	}
}

func TestRegistryForksAndStops(t *testing.T) {
	ts := newTestServer(t)
	leg := newFakeLeg(nil)
	reg := &Registry{MaxForksPerCall: 2}
	ctx := t.Context()
	if _, err := reg.StartFork(testCall, Config{URL: ts.wsURL()}); !errors.Is(err, ErrCallNotLive) {
		t.Fatalf("fork before the call = %v", err)
	}
	reg.CallStarted(testCall, func(cfg Config) (*Stream, error) {
		cfg.CallSID, cfg.AccountSID = testCall, testAccount
		return Fork(ctx, leg, cfg)
	})
	a, err := reg.StartFork(testCall, Config{URL: ts.wsURL(), Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.StartFork(testCall, Config{URL: ts.wsURL(), Name: "a"}); !errors.Is(err, ErrNameInUse) {
		t.Errorf("a second stream named a = %v", err)
	}
	b, err := reg.StartFork(testCall, Config{URL: ts.wsURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.StartFork(testCall, Config{URL: ts.wsURL()}); !errors.Is(err, ErrTooMany) {
		t.Errorf("a third fork = %v", err)
	}
	if _, err := reg.Stop(testCall, "nope"); !errors.Is(err, ErrNoStream) {
		t.Errorf("stop unknown = %v", err)
	}
	if s, err := reg.Stop(testCall, "a"); err != nil || s != a {
		t.Errorf("stop by name = %v, %v", s, err)
	}
	if s, err := reg.Stop(testCall, b.SID()); err != nil || s != b {
		t.Errorf("stop by SID = %v, %v", s, err)
	}
	ts.waitFor("two stops", countEvent("stop", 2))

	bidi, err := Start(ctx, Config{URL: ts.wsURL(), Bidirectional: true, CallSID: testCall})
	if err != nil {
		t.Fatal(err)
	}
	reg.Add(testCall, bidi)
	if _, err := reg.Stop(testCall, bidi.SID()); !errors.Is(err, ErrBidirectional) {
		t.Errorf("REST stop of a Connect stream = %v", err)
	}
	c, _ := reg.StartFork(testCall, Config{URL: ts.wsURL(), Name: "c"})
	reg.StopForks(testCall, "")
	<-c.Done()
	select {
	case <-bidi.Done():
		t.Errorf("<Stop><Stream/> stopped the Connect stream")
	default:
	}
	reg.CallEnded(testCall)
	<-bidi.Done()
}
