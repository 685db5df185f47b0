package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// memLeg is an in-memory Leg. Feed hands a frame to its Record sinks on
// the caller's goroutine, as a receive goroutine would. Play reads its
// source one frame per Step (a clock the test drives) or, when pace > 0,
// one frame per pace; what it reads is what the far end hears (Heard).
type memLeg struct {
	pace    time.Duration
	playErr error // when set, Play fails at once with it

	step      chan chan struct{}
	digits    chan Digit
	done      chan struct{}
	closeOnce sync.Once
	playSlot  chan struct{}

	mu      sync.Mutex
	sinks   []*Sink
	players int
	heard   []int16
}

func newMemLeg(pace time.Duration) *memLeg {
	return &memLeg{
		pace:     pace,
		step:     make(chan chan struct{}),
		digits:   make(chan Digit, 4),
		done:     make(chan struct{}),
		playSlot: make(chan struct{}, 1),
	}
}

func (m *memLeg) Play(ctx context.Context, src Source) error {
	if m.playErr != nil {
		return m.playErr
	}
	select {
	case m.playSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-m.done:
		return ErrLegClosed
	}
	defer func() { <-m.playSlot }()
	m.addPlayers(1)
	defer m.addPlayers(-1)

	var tick <-chan time.Time
	if m.pace > 0 {
		ticker := time.NewTicker(m.pace)
		defer ticker.Stop()
		tick = ticker.C
	}
	frame := make([]int16, FrameSamples)
	for {
		var ack chan struct{}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.done:
			return ErrLegClosed
		case <-tick:
		case ack = <-m.step:
		}
		n, err := src.ReadFrame(frame)
		m.mu.Lock()
		m.heard = append(m.heard, frame[:n]...)
		m.mu.Unlock()
		if ack != nil {
			close(ack)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (m *memLeg) Record(ctx context.Context, sink Sink) error {
	job := &sink
	m.mu.Lock()
	m.sinks = append(m.sinks, job)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.sinks = slices.DeleteFunc(m.sinks, func(j *Sink) bool { return j == job })
		m.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return nil
	case <-m.done:
		return ErrLegClosed
	}
}

func (m *memLeg) DTMF() <-chan Digit { return m.digits }

func (m *memLeg) SendDTMF(ctx context.Context, digits string) error {
	return errors.New("memLeg: SendDTMF not supported")
}

func (m *memLeg) Done() <-chan struct{} { return m.done }

func (m *memLeg) Close(reason string) error {
	m.closeOnce.Do(func() { close(m.done) })
	return nil
}

func (m *memLeg) addPlayers(d int) {
	m.mu.Lock()
	m.players += d
	m.mu.Unlock()
}

// Feed delivers frame to every Record sink, as if received.
func (m *memLeg) Feed(t *testing.T, frame []int16) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sinks {
		if err := (*s).WriteFrame(frame); err != nil {
			t.Fatalf("sink: %v", err)
		}
	}
}

// Step makes the running Play read one frame, and waits until it has.
func (m *memLeg) Step(t *testing.T) {
	t.Helper()
	ack := make(chan struct{})
	select {
	case m.step <- ack:
	case <-time.After(2 * time.Second):
		t.Fatal("Step: no Play is running")
	}
	<-ack
}

// Attached reports whether a Play and a Record are running on the leg.
func (m *memLeg) Attached() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.players == 1 && len(m.sinks) == 1
}

// Heard is everything Play has read so far.
func (m *memLeg) Heard() []int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.heard)
}

var _ Leg = (*memLeg)(nil)

// bridgeOutcome is what Bridge returned.
type bridgeOutcome struct {
	res BridgeResult
	err error
}

// runBridge runs Bridge on its own goroutine.
func runBridge(ctx context.Context, a, b Leg, opts *BridgeOptions) <-chan bridgeOutcome {
	out := make(chan bridgeOutcome, 1)
	go func() {
		res, err := Bridge(ctx, a, b, opts)
		out <- bridgeOutcome{res, err}
	}()
	return out
}

// awaitBridge waits for runBridge's outcome.
func awaitBridge(t *testing.T, out <-chan bridgeOutcome) bridgeOutcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(3 * time.Second):
		t.Fatal("Bridge did not return")
		return bridgeOutcome{}
	}
}

// recordingSink keeps every frame; it fails from frame failAt on (1-based,
// 0 never) and counts the calls.
type recordingSink struct {
	mu      sync.Mutex
	samples []int16
	calls   int
	failAt  int
}

var errTapBroken = errors.New("tap broken")

func (s *recordingSink) WriteFrame(p []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failAt > 0 && s.calls >= s.failAt {
		return errTapBroken
	}
	s.samples = append(s.samples, p...)
	return nil
}

func (s *recordingSink) Snapshot() (samples []int16, calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples), s.calls
}

// otherSignal is a second test signal, unlike testSignal.
func otherSignal(samples int) []int16 {
	out := testSignal(samples)
	slices.Reverse(out)
	for i := range out {
		out[i] = -out[i] / 2
	}
	return out
}

// TestBridgeCarriesAudioBothWays drives both legs' clocks by hand: each
// tick both far ends send a frame and both legs play one. Each leg must
// play the other's frames unchanged, after exactly target-1 frames of
// silence while the jitter buffer fills, and the taps must get exactly
// what was played.
func TestBridgeCarriesAudioBothWays(t *testing.T) {
	const frames = 40
	for _, jitter := range []int{0, 1, 5} {
		t.Run(fmt.Sprintf("JitterFrames=%d", jitter), func(t *testing.T) {
			checkNoLeaks(t)
			a, b := newMemLeg(0), newMemLeg(0)
			tapA, tapB := &recordingSink{}, &recordingSink{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := runBridge(ctx, a, b, &BridgeOptions{TapA: tapA, TapB: tapB, JitterFrames: jitter})
			waitFor(t, 2*time.Second, "bridge attached", func() bool { return a.Attached() && b.Attached() })

			sigA, sigB := testSignal(frames*FrameSamples), otherSignal(frames*FrameSamples)
			for i := range frames {
				a.Feed(t, sigA[i*FrameSamples:(i+1)*FrameSamples])
				b.Feed(t, sigB[i*FrameSamples:(i+1)*FrameSamples])
				a.Step(t)
				b.Step(t)
			}
			cancel()
			o := awaitBridge(t, out)
			if o.err != nil || o.res.Ended != BridgeCancelled {
				t.Fatalf("Bridge = %+v, %v; want Ended %d, nil", o.res, o.err, BridgeCancelled)
			}

			target := NewJitterBuffer(jitter).Target()
			lead := (target - 1) * FrameSamples
			for _, dir := range []struct {
				name  string
				heard []int16
				sent  []int16
				tap   *recordingSink
			}{
				{"a to b", b.Heard(), sigA, tapA},
				{"b to a", a.Heard(), sigB, tapB},
			} {
				want := append(make([]int16, lead), dir.sent[:len(dir.sent)-lead]...)
				if !slices.Equal(dir.heard, want) {
					t.Errorf("%s: played audio differs from what was sent (%d samples, want %d)",
						dir.name, len(dir.heard), len(want))
				}
				tapped, _ := dir.tap.Snapshot()
				if !slices.Equal(tapped, dir.heard) {
					t.Errorf("%s: tap got %d samples differing from the %d played", dir.name, len(tapped), len(dir.heard))
				}
			}
		})
	}
}

// TestBridgeEnds checks what ends a bridge, that Bridge reports it, that
// it closes neither leg, and that its goroutines are gone when it returns.
func TestBridgeEnds(t *testing.T) {
	tests := []struct {
		name   string
		before func(a, b *memLeg, cancel context.CancelFunc) // before Bridge starts
		during func(a, b *memLeg, cancel context.CancelFunc) // once the bridge runs
		want   int
	}{
		{name: "leg a hangs up", during: func(a, _ *memLeg, _ context.CancelFunc) { a.Close("bye") }, want: BridgeLegAEnded},
		{name: "leg b hangs up", during: func(_, b *memLeg, _ context.CancelFunc) { b.Close("bye") }, want: BridgeLegBEnded},
		{name: "context cancelled", during: func(_, _ *memLeg, cancel context.CancelFunc) { cancel() }, want: BridgeCancelled},
		{name: "leg a already ended", before: func(a, _ *memLeg, _ context.CancelFunc) { a.Close("bye") }, want: BridgeLegAEnded},
		{name: "leg b already ended", before: func(_, b *memLeg, _ context.CancelFunc) { b.Close("bye") }, want: BridgeLegBEnded},
		{name: "context already cancelled", before: func(_, _ *memLeg, cancel context.CancelFunc) { cancel() }, want: BridgeCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newMemLeg(FrameDuration), newMemLeg(FrameDuration)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.before != nil {
				tc.before(a, b, cancel)
			}
			const running = 100 * time.Millisecond
			var timer *time.Timer
			if tc.during != nil {
				timer = time.AfterFunc(running, func() { tc.during(a, b, cancel) })
				defer timer.Stop()
			}
			goroutines := runtime.NumGoroutine()

			res, err := Bridge(ctx, a, b, nil)

			if err != nil || res.Ended != tc.want {
				t.Fatalf("Bridge = %+v, %v; want Ended %d, nil", res, err, tc.want)
			}
			if tc.during != nil && (res.Duration < running || res.Duration > running+time.Second) {
				t.Errorf("Duration %v, want about %v", res.Duration, running)
			}
			if isDone(a.Done()) != (tc.want == BridgeLegAEnded) || isDone(b.Done()) != (tc.want == BridgeLegBEnded) {
				t.Errorf("after the bridge: leg a ended %v, leg b ended %v; the bridge must not close legs",
					isDone(a.Done()), isDone(b.Done()))
			}
			// Bridge waited for its Plays and Records to return.
			if isPlaying(a) || isPlaying(b) {
				t.Errorf("a Play or Record still runs after Bridge returned")
			}
			// The AfterFunc goroutine may still be finishing, and a
			// goroutine that returned may not be gone yet.
			waitFor(t, time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
		})
	}
}

func isPlaying(m *memLeg) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.players != 0 || len(m.sinks) != 0
}

func TestBridgeLegFailure(t *testing.T) {
	checkNoLeaks(t)
	boom := errors.New("boom")
	a, b := newMemLeg(FrameDuration), newMemLeg(FrameDuration)
	b.playErr = boom
	res, err := Bridge(context.Background(), a, b, nil)
	if !errors.Is(err, boom) || res.Ended != BridgeLegBEnded {
		t.Fatalf("Bridge = %+v, %v; want Ended %d and an error wrapping %v", res, err, BridgeLegBEnded, boom)
	}
	if !strings.Contains(err.Error(), "play leg b") {
		t.Errorf("error %q does not say which call failed", err)
	}
}

// TestBridgeTapFailure: a failing tap gets no more frames, the audio keeps
// flowing, and Bridge reports the tap's error when it ends.
func TestBridgeTapFailure(t *testing.T) {
	checkNoLeaks(t)
	a, b := newMemLeg(0), newMemLeg(0)
	tap := &recordingSink{failAt: 3}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := runBridge(ctx, a, b, &BridgeOptions{TapA: tap})
	waitFor(t, 2*time.Second, "bridge attached", func() bool { return a.Attached() && b.Attached() })
	for range 10 {
		b.Step(t)
	}
	select {
	case o := <-out:
		t.Fatalf("the bridge ended when its tap failed: %+v, %v", o.res, o.err)
	default:
	}
	if _, calls := tap.Snapshot(); calls != 3 {
		t.Errorf("the tap was called %d times, want 3 (none after it failed)", calls)
	}
	if heard := b.Heard(); len(heard) != 10*FrameSamples {
		t.Errorf("leg b played %d samples, want %d", len(heard), 10*FrameSamples)
	}
	cancel()
	o := awaitBridge(t, out)
	if !errors.Is(o.err, errTapBroken) || o.res.Ended != BridgeCancelled {
		t.Fatalf("Bridge = %+v, %v; want Ended %d and the tap's error", o.res, o.err, BridgeCancelled)
	}
}

// TestBridgeLeavesDTMF: digits pressed during the bridge stay on the legs'
// DTMF channels for the caller.
func TestBridgeLeavesDTMF(t *testing.T) {
	a, b := newMemLeg(FrameDuration), newMemLeg(FrameDuration)
	a.digits <- Digit{Key: '*', Via: ViaRFC4733}
	b.digits <- Digit{Key: '5', Via: ViaSIPInfo}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if res, err := Bridge(ctx, a, b, nil); err != nil || res.Ended != BridgeCancelled {
		t.Fatalf("Bridge = %+v, %v", res, err)
	}
	for _, tc := range []struct {
		leg  *memLeg
		want byte
	}{{a, '*'}, {b, '5'}} {
		select {
		case d := <-tc.leg.DTMF():
			if d.Key != tc.want {
				t.Errorf("digit %q, want %q", d.Key, tc.want)
			}
		default:
			t.Errorf("digit %q was consumed by the bridge", tc.want)
		}
	}
}

func TestBridgeNilLeg(t *testing.T) {
	if _, err := Bridge(context.Background(), newMemLeg(0), nil, nil); err == nil {
		t.Fatal("Bridge with a nil leg: no error")
	}
}

// TestBridgeRTPLegs bridges two RTP legs over real sockets: what each fake
// far end sends must reach the other far end, intact but for the G.711
// round trips, within 100 ms.
func TestBridgeRTPLegs(t *testing.T) {
	const frames = 75 // 1.5 s
	tests := []struct {
		name           string
		codecA, codecB Codec
	}{
		{"PCMU to PCMU", PCMU, PCMU},
		{"PCMA to PCMU", PCMA, PCMU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkNoLeaks(t)
			base := freeRange(t, 10)
			pool, err := NewPortPool(loopback, base, base+9)
			if err != nil {
				t.Fatal(err)
			}
			peerA, peerB := listenLoopback(t), listenLoopback(t)
			legA := newPoolLeg(t, pool, peerA, tc.codecA)
			legB := newPoolLeg(t, pool, peerB, tc.codecB)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := runBridge(ctx, legA, legB, nil)
			stop := make(chan struct{})
			heardByA, heardByB := collectUntil(peerA, stop), collectUntil(peerB, stop)
			time.Sleep(50 * time.Millisecond) // let the bridge attach

			sigA, sigB := testSignal(frames*FrameSamples), otherSignal(frames*FrameSamples)
			sentA := sendPaced(peerA, legA.LocalAddr(), tc.codecA, sigA)
			sentB := sendPaced(peerB, legB.LocalAddr(), tc.codecB, sigB)
			startA, startB := <-sentA, <-sentB
			if startA.err != nil || startB.err != nil {
				t.Fatalf("send: %v, %v", startA.err, startB.err)
			}
			time.Sleep(200 * time.Millisecond) // the tail through the jitter buffers
			close(stop)
			cancel()
			if o := awaitBridge(t, out); o.err != nil || o.res.Ended != BridgeCancelled {
				t.Fatalf("Bridge = %+v, %v", o.res, o.err)
			}

			checkArrived(t, "a to b", roundTrip(tc.codecB, roundTrip(tc.codecA, sigA)), <-heardByB, tc.codecB, startA.at)
			checkArrived(t, "b to a", roundTrip(tc.codecA, roundTrip(tc.codecB, sigB)), <-heardByA, tc.codecA, startB.at)
		})
	}
}

// newPoolLeg starts an RTP leg on a port from pool talking to peer. It is
// closed at cleanup.
func newPoolLeg(t *testing.T, pool *PortPool, peer *net.UDPConn, codec Codec) *RTPLeg {
	t.Helper()
	conn, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: addrOf(peer), Codec: codec, Logger: testLogger()})
	t.Cleanup(func() { leg.Close("test over") })
	leg.Start()
	return leg
}

// sendStart is when a paced send began, or why it failed.
type sendStart struct {
	at  time.Time
	err error
}

// sendPaced sends pcm from c to to as 20 ms RTP packets in real time, on
// its own goroutine, and reports when it started once it is done.
func sendPaced(c *net.UDPConn, to netip.AddrPort, codec Codec, pcm []int16) <-chan sendStart {
	res := make(chan sendStart, 1)
	go func() {
		start := time.Now()
		for i := 0; i*FrameSamples < len(pcm); i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * FrameDuration)))
			h := rtp.Header{Version: 2, PayloadType: codec.PayloadType, SequenceNumber: uint16(i),
				Timestamp: uint32(i * FrameSamples), SSRC: 0x5eed, Marker: i == 0}
			b, err := (&rtp.Packet{Header: h, Payload: codec.Encode(nil, pcm[i*FrameSamples:(i+1)*FrameSamples])}).Marshal()
			if err == nil {
				_, err = c.WriteToUDPAddrPort(b, to)
			}
			if err != nil {
				res <- sendStart{err: err}
				return
			}
		}
		res <- sendStart{at: start}
	}()
	return res
}

// checkArrived finds want in the audio of the packets a far end received
// (frame-aligned, as the bridge moves whole frames) and checks that it came
// through nearly unchanged and in time.
func checkArrived(t *testing.T, dir string, want []int16, pkts []packet, codec Codec, sentAt time.Time) {
	t.Helper()
	var got []int16
	var frameAt []time.Time
	for _, p := range pkts {
		if p.PayloadType != codec.PayloadType || len(p.Payload) != FrameSamples {
			t.Fatalf("%s: unexpected packet: pt %d, %d bytes", dir, p.PayloadType, len(p.Payload))
		}
		got = codec.Decode(got, p.Payload)
		frameAt = append(frameAt, p.At)
	}
	bestCorr, bestFrame := -1.0, -1
	for f := 0; (f*FrameSamples)+len(want) <= len(got); f++ {
		if c := correlation(want, got[f*FrameSamples:f*FrameSamples+len(want)]); c > bestCorr {
			bestCorr, bestFrame = c, f
		}
	}
	if bestFrame < 0 {
		t.Fatalf("%s: received only %d samples, want at least %d", dir, len(got), len(want))
	}
	latency := frameAt[bestFrame].Sub(sentAt)
	exact := slices.Equal(want, got[bestFrame*FrameSamples:bestFrame*FrameSamples+len(want)])
	t.Logf("%s: correlation %.4f, samples identical %v, latency %v", dir, bestCorr, exact, latency)
	if bestCorr < 0.98 {
		t.Errorf("%s: correlation %.4f with what was sent, want >= 0.98", dir, bestCorr)
	}
	if latency > 100*time.Millisecond {
		t.Errorf("%s: latency %v, want <= 100ms", dir, latency)
	}
}

// correlation is the normalized cross-correlation of x and y (same length).
func correlation(x, y []int16) float64 {
	var xy, xx, yy float64
	for i := range x {
		xy += float64(x[i]) * float64(y[i])
		xx += float64(x[i]) * float64(x[i])
		yy += float64(y[i]) * float64(y[i])
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}

// BenchmarkBridgeFrame is one direction's per-frame path: the Record sink
// push on the receive side, and the Play source read (with a tap) on the
// sending side.
func BenchmarkBridgeFrame(b *testing.B) {
	for _, tc := range []struct {
		name string
		tap  Sink
	}{
		{"no-tap", nil},
		{"tap", &discardSink{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			src := &bridgeSource{buf: NewJitterBuffer(DefaultJitterFrames), tap: tc.tap}
			var sink Sink = src.buf
			var play Source = src
			in := testSignal(FrameSamples)
			out := make([]int16, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				sink.WriteFrame(in)
				play.ReadFrame(out)
			}
		})
	}
}

// BenchmarkBridgeFrameConcurrent runs the two sides of one direction on
// two goroutines, as in a call, to include the mutex handoff.
func BenchmarkBridgeFrameConcurrent(b *testing.B) {
	src := &bridgeSource{buf: NewJitterBuffer(DefaultJitterFrames)}
	in := testSignal(FrameSamples)
	b.ReportAllocs()
	var wg sync.WaitGroup
	wg.Go(func() {
		out := make([]int16, FrameSamples)
		for range b.N {
			src.ReadFrame(out)
		}
	})
	for range b.N {
		src.buf.WriteFrame(in)
	}
	wg.Wait()
}
