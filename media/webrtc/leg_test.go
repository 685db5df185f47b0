package webrtc

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	pion "github.com/pion/webrtc/v4"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/media/dtmf"
	"github.com/voxgate/voxgate/media/mediatest"
)

// TestLegAnswerNegotiatesPCMUOnly checks that the answer to a browser
// offering Opus first keeps only PCMU and telephone-event, with candidates.
func TestLegAnswerNegotiatesPCMUOnly(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg := connect(t, b)
	answer := leg.pc.LocalDescription().SDP
	for _, want := range []string{"a=rtpmap:0 PCMU/8000", "a=rtpmap:126 telephone-event/8000", "a=candidate:", "a=sendrecv"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
	for _, bad := range []string{"opus", "PCMA"} {
		if strings.Contains(answer, bad) {
			t.Errorf("answer contains %q:\n%s", bad, answer)
		}
	}
	if _, err := leg.Answer(context.Background(), b.pc.LocalDescription().SDP); err == nil {
		t.Error("second Answer succeeded")
	}
}

// TestLegSendsPacedPCMU checks the leg's stream as the browser receives
// it: PCMU packets of 160 bytes, timestamps 160 apart, about 50 per
// second, silence (0xFF) while nothing plays.
func TestLegSendsPacedPCMU(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	connect(t, b)
	var pkts []rtpPacket
	deadline := time.After(3 * time.Second)
	start := time.Now()
	for len(pkts) < 50 {
		select {
		case p := <-b.received:
			pkts = append(pkts, p)
		case <-deadline:
			t.Fatalf("only %d packets in 3 s", len(pkts))
		}
	}
	if el := time.Since(start); el < 800*time.Millisecond || el > 1500*time.Millisecond {
		t.Errorf("50 packets took %v, want about 1 s", el)
	}
	for i, p := range pkts {
		if p.hdr.PayloadType != 0 || len(p.payload) != media.FrameSamples {
			t.Fatalf("packet %d: pt %d, %d bytes; want PCMU, 160", i, p.hdr.PayloadType, len(p.payload))
		}
		if bytes.Count(p.payload, []byte{0xFF}) != len(p.payload) {
			t.Fatalf("packet %d is not silence: % x", i, p.payload[:8])
		}
		if i > 0 {
			if d := p.hdr.Timestamp - pkts[i-1].hdr.Timestamp; d != uint32(media.FrameSamples) {
				t.Errorf("packet %d: timestamp step %d", i, d)
			}
			if d := p.hdr.SequenceNumber - pkts[i-1].hdr.SequenceNumber; d != 1 {
				t.Errorf("packet %d: sequence step %d", i, d)
			}
		}
	}
}

// TestLegAudioBothWays plays a signal into the leg and checks the browser
// receives exactly its μ-law encoding, and sends μ-law from the browser
// and checks Record delivers exactly its decoding.
func TestLegAudioBothWays(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg := connect(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Gateway to browser.
	signal := testSignal(25 * media.FrameSamples) // 0.5 s
	want := media.PCMU.Encode(nil, signal)
	if err := leg.Play(ctx, audio.NewPCMSource(signal, 1)); err != nil {
		t.Fatalf("play: %v", err)
	}
	var got []byte
	collect := time.After(300 * time.Millisecond)
drain:
	for {
		select {
		case p := <-b.received:
			got = append(got, p.payload...)
		case <-collect:
			break drain
		}
	}
	if !bytes.Contains(got, want) {
		t.Errorf("browser did not receive the played signal intact (%d bytes received)", len(got))
	}

	// Browser to gateway.
	sink := &mediatest.CollectSink{}
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- leg.Record(recCtx, sink) }()
	time.Sleep(100 * time.Millisecond) // let Record attach
	sent := media.PCMU.Encode(nil, testSignal(25*media.FrameSamples))
	if err := b.sendAudio(ctx, sent); err != nil {
		t.Fatalf("browser send: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	stopRec()
	if err := <-recDone; err != nil {
		t.Errorf("record: %v", err)
	}
	wantPCM := media.PCMU.Decode(nil, sent)
	rec := sink.Samples()
	if len(rec)%media.FrameSamples != 0 {
		t.Errorf("recorded %d samples, not whole frames", len(rec))
	}
	if !containsSamples(rec, wantPCM) {
		t.Errorf("recording does not contain the browser's audio (%d samples recorded)", len(rec))
	}
}

func containsSamples(haystack, needle []int16) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if slices.Equal(haystack[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

// TestLegDoneOnRemoteClose checks the leg ends when the browser closes its
// PeerConnection, and that Play and Record then report ErrLegClosed.
func TestLegDoneOnRemoteClose(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg := connect(t, b)
	playErr := make(chan error, 1)
	go func() {
		playErr <- leg.Play(context.Background(), audio.NewPCMSource(make([]int16, 100*media.FrameSamples), 1))
	}()
	recErr := make(chan error, 1)
	go func() { recErr <- leg.Record(context.Background(), &mediatest.CollectSink{}) }()

	time.Sleep(100 * time.Millisecond)
	if err := b.pc.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg not done 5 s after the browser closed")
	}
	if r := leg.Reason(); r != "peer-closed" {
		t.Errorf("reason %q, want peer-closed", r)
	}
	for name, ch := range map[string]chan error{"play": playErr, "record": recErr} {
		select {
		case err := <-ch:
			if !errors.Is(err, media.ErrLegClosed) {
				t.Errorf("%s: %v, want ErrLegClosed", name, err)
			}
		case <-time.After(time.Second):
			t.Errorf("%s still running after the leg ended", name)
		}
	}
	if err := leg.Play(context.Background(), audio.NewPCMSource(nil, 1)); !errors.Is(err, media.ErrLegClosed) {
		t.Errorf("play after end: %v", err)
	}
}

// TestLegClose checks Close: idempotent, browser sees its connection go,
// reason recorded.
func TestLegClose(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	closedAtBrowser := make(chan struct{})
	b.pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		if s == pion.PeerConnectionStateClosed || s == pion.PeerConnectionStateFailed || s == pion.PeerConnectionStateDisconnected {
			select {
			case <-closedAtBrowser:
			default:
				close(closedAtBrowser)
			}
		}
	})
	leg := connect(t, b)
	if err := leg.Close("hangup"); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := leg.Close("again"); err != nil {
		t.Errorf("second close: %v", err)
	}
	if r := leg.Reason(); r != "closed: hangup" {
		t.Errorf("reason %q", r)
	}
	select {
	case <-closedAtBrowser:
	case <-time.After(10 * time.Second):
		t.Error("browser did not notice the close")
	}
}

// TestLegCloseBeforeAnswer checks a leg that never connected closes
// cleanly and refuses to answer.
func TestLegCloseBeforeAnswer(t *testing.T) {
	checkNoLeaks(t)
	leg, err := NewLeg(Config{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := leg.Close("unused"); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := leg.Answer(context.Background(), "v=0"); !errors.Is(err, media.ErrLegClosed) {
		t.Errorf("answer after close: %v", err)
	}
	if err := leg.Record(context.Background(), &mediatest.CollectSink{}); !errors.Is(err, media.ErrLegClosed) {
		t.Errorf("record after close: %v", err)
	}
}

// TestLegPlayCancel checks barge-in: cancelling Play returns ctx.Err()
// and silence follows.
func TestLegPlayCancel(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg := connect(t, b)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	loud := make([]int16, 500*media.FrameSamples)
	for i := range loud {
		loud[i] = 8000
	}
	go func() { errc <- leg.Play(ctx, audio.NewPCMSource(loud, 1)) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("play: %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("play did not return after cancel")
	}
	// Drain what was queued, then the stream must be silence again.
	time.Sleep(100 * time.Millisecond)
	for len(b.received) > 0 {
		<-b.received
	}
	for range 5 {
		select {
		case p := <-b.received:
			if p.payload[0] != 0xFF {
				t.Fatalf("audio after cancel: % x", p.payload[:4])
			}
		case <-time.After(time.Second):
			t.Fatal("no packets after cancel")
		}
	}
	// The slot is free again.
	short, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if err := leg.Play(short, audio.NewPCMSource(loud[:media.FrameSamples], 1)); err != nil {
		t.Errorf("play after cancel: %v", err)
	}
}

// TestLegDTMF checks digits from the page (InjectDigit), RFC 4733 digits
// from the browser, and SendDTMF as telephone-event packets.
func TestLegDTMF(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg := connect(t, b)

	for _, k := range []byte("1#a") {
		leg.InjectDigit(k)
	}
	leg.InjectDigit('x')
	for _, want := range []byte("1#A") {
		select {
		case d := <-leg.DTMF():
			if d.Key != want || d.Via != media.ViaSIPInfo {
				t.Errorf("injected digit %q via %v, want %q via signalling", d.Key, d.Via, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("injected %q not delivered", want)
		}
	}

	// RFC 4733 from the browser: key 5, three packets and three end packets.
	bd := b.track.binding()
	if bd.eventPT == 0 {
		t.Fatal("browser track has no telephone-event binding")
	}
	for i := range 6 {
		ev := dtmf.Event{Code: 5, End: i >= 3, Volume: 10, Duration: uint16(min(i+1, 3) * 160)}
		h := rtpHeader(bd.eventPT, i == 0, uint16(2000+i), 99999)
		if err := bd.writeRTP(&h, ev.AppendTo(nil)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case d := <-leg.DTMF():
		if d.Key != '5' || d.Via != media.ViaRFC4733 {
			t.Errorf("digit %q via %v, want '5' via RFC 4733", d.Key, d.Via)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("RFC 4733 digit not delivered")
	}
	select {
	case d := <-leg.DTMF():
		t.Errorf("extra digit %q", d.Key)
	case <-time.After(200 * time.Millisecond):
	}

	// SendDTMF: the browser decodes telephone-event packets.
	for len(b.received) > 0 {
		<-b.received
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := leg.SendDTMF(ctx, "9*"); err != nil {
		t.Fatalf("send dtmf: %v", err)
	}
	var rcv dtmf.Receiver
	var keys []byte
	collect := time.After(200 * time.Millisecond)
loop:
	for {
		select {
		case p := <-b.received:
			if p.hdr.PayloadType == 126 {
				if k, ok := rcv.Packet(p.hdr.SSRC, p.hdr.Timestamp, p.hdr.Marker, p.payload); ok {
					keys = append(keys, k)
				}
			}
		case <-collect:
			break loop
		}
	}
	if string(keys) != "9*" {
		t.Errorf("browser decoded %q, want 9*", keys)
	}
}

// TestCheckOffer covers the offers Answer refuses before negotiating.
func TestCheckOffer(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	tests := []struct {
		name, sdp, wantErr string
	}{
		{"pcmu static", head + "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n", ""},
		{"pcmu dynamic", head + "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 PCMU/8000\r\n", ""},
		{"opus only", head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", "does not include PCMU"},
		{"video only", head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "no audio"},
		{"rejected audio", head + "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n", "no audio"},
		{"garbage", "hello", "parse offer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkOffer(tc.sdp)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestLegPublicIP checks that a configured public address is advertised
// as an extra host candidate, next to the local ones.
func TestLegPublicIP(t *testing.T) {
	checkNoLeaks(t)
	b := newBrowser(t)
	leg, err := NewLeg(Config{Logger: testLogger(), PublicIP: netip.MustParseAddr("203.0.113.7")})
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close("test over")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := leg.Answer(ctx, b.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" 203.0.113.7 ", " 127.0.0.1 "} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer has no candidate with%q:\n%s", want, answer)
		}
	}
}
