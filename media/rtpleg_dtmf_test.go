package media

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media/dtmf"
)

const testEventPT = 101

// readDigits collects the digits delivered within d.
func readDigits(leg *RTPLeg, d time.Duration) []Digit {
	var out []Digit
	timeout := time.After(d)
	for {
		select {
		case dg := <-leg.DTMF():
			out = append(out, dg)
		case <-timeout:
			return out
		}
	}
}

func keysOf(ds []Digit) string {
	var b []byte
	for _, d := range ds {
		b = append(b, d.Key)
	}
	return string(b)
}

// sendEvent sends one RFC 4733 key press the way SIPp's pcaps do: a
// marker packet, growing durations, three end packets, all with the
// press's timestamp.
func sendEvent(t *testing.T, lp *legPeer, seq *uint16, ssrc, ts uint32, key byte) {
	t.Helper()
	code, _ := dtmf.KeyToCode(key)
	for i := range 10 {
		ev := dtmf.Event{Code: code, Volume: 10, Duration: uint16(min(i+1, 7) * 320)}
		ev.End = i >= 7
		h := rtpHeader(testEventPT, *seq, ts, ssrc)
		h.Marker = i == 0
		*seq++
		sendRTP(t, lp.peer, lp.leg.LocalAddr(), h, ev.AppendTo(nil))
	}
}

func TestRTPLegTelephoneEventOnOtherSSRC(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.EventPayloadType = testEventPT })
		// Audio on one SSRC carries an in-band tone: with telephone-event
		// negotiated it must not be detected.
		tone := dtmf.AppendTone(nil, '9', 8*FrameSamples, 0.3)
		sendSignal(t, lp.peer, lp.leg, PCMU, tone, 20*time.Millisecond, 0xdee0ee8f)

		var seq uint16 = 500
		const eventSSRC = 0x0e05384e
		sendEvent(t, lp, &seq, eventSSRC, 13280, '1')
		sendEvent(t, lp, &seq, eventSSRC, 92640, '#')
		sendEvent(t, lp, &seq, eventSSRC, 23200, '2') // timestamp goes backwards
		sendEvent(t, lp, &seq, eventSSRC, 92640, '#') // a retransmitted press
		got := readDigits(lp.leg, 300*time.Millisecond)
		if keys := keysOf(got); keys != "1#2" {
			t.Errorf("digits %q, want %q", keys, "1#2")
		}
		for _, d := range got {
			if d.Via != ViaRFC4733 || d.At.IsZero() {
				t.Errorf("digit %+v: want ViaRFC4733 with a time", d)
			}
		}
		// Loss and jitter follow the audio SSRC, not the events.
		if st := lp.leg.Stats(); st.RemoteSSRC != 0xdee0ee8f || st.PacketsLost != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestRTPLegInBandDetection(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil) // no telephone-event
		var pcm []int16
		pcm = append(pcm, make([]int16, 800)...)
		pcm = dtmf.AppendTone(pcm, '5', 800, 0.25)
		pcm = append(pcm, make([]int16, 800)...)
		pcm = dtmf.AppendTone(pcm, '#', 800, 0.25)
		pcm = append(pcm, make([]int16, 800)...)
		sendSignal(t, lp.peer, lp.leg, PCMA, pcm, 20*time.Millisecond, 42) // PCMA accepted too
		got := readDigits(lp.leg, 300*time.Millisecond)
		if keys := keysOf(got); keys != "5#" {
			t.Errorf("in-band digits %q, want %q", keys, "5#")
		}
		for _, d := range got {
			if d.Via != ViaInBand {
				t.Errorf("digit %+v: want ViaInBand", d)
			}
		}
	})
}

func TestRTPLegInjectDigit(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil)
		lp.leg.InjectDigit('7')
		lp.leg.InjectDigit('x') // not a key: ignored
		lp.leg.InjectDigit('d') // lower case accepted
		got := readDigits(lp.leg, 50*time.Millisecond)
		if keys := keysOf(got); keys != "7D" {
			t.Errorf("digits %q, want 7D", keys)
		}
		for _, d := range got {
			if d.Via != ViaSIPInfo {
				t.Errorf("digit %+v: want ViaSIPInfo", d)
			}
		}
		// A full channel drops digits instead of blocking.
		done := make(chan struct{})
		go func() {
			for range digitBuffer + 10 {
				lp.leg.InjectDigit('1')
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Fatal("InjectDigit blocked on a full channel")
		}
		if n := len(readDigits(lp.leg, 50*time.Millisecond)); n != digitBuffer {
			t.Errorf("%d digits buffered, want %d", n, digitBuffer)
		}
	})
}

func TestRTPLegSendDTMFEvents(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.EventPayloadType = testEventPT })
		stop := make(chan struct{})
		got := collectUntil(lp.peer, stop)
		time.Sleep(60 * time.Millisecond)

		// Audio playing meanwhile is paused by each digit, not lost.
		signal := testSignal(SampleRate / 2)
		playErr := make(chan error, 1)
		go func() { playErr <- lp.leg.Play(context.Background(), &sliceSource{samples: signal}) }()
		time.Sleep(40 * time.Millisecond)

		start := time.Now()
		if err := lp.leg.SendDTMF(context.Background(), "1#"); err != nil {
			t.Fatalf("SendDTMF: %v", err)
		}
		// Two keys: 8 packets each, 5 ticks of gap between: 21 ticks. A
		// pacer catching up after a stall on a loaded machine may send a
		// few of them back to back, so only "clearly waited for the
		// digits" is checked, not the exact span.
		if took := time.Since(start); took < 15*FrameDuration || took > 2*time.Second {
			t.Errorf("SendDTMF took %v, want about 420 ms", took)
		}
		if err := <-playErr; err != nil {
			t.Fatalf("Play: %v", err)
		}
		time.Sleep(60 * time.Millisecond)
		close(stop)
		pkts := <-got

		// One stream: SSRC, sequence numbers continuous throughout.
		for i, p := range pkts {
			if p.SSRC != pkts[0].SSRC || p.SequenceNumber != pkts[0].SequenceNumber+uint16(i) {
				t.Fatalf("packet %d: SSRC %x seq %d breaks the stream", i, p.SSRC, p.SequenceNumber)
			}
		}
		var keys []byte
		var audio []int16
		silence := silencePayload(PCMU)
		for i := 0; i < len(pkts); {
			p := pkts[i]
			if p.PayloadType != testEventPT {
				if string(p.Payload) != string(silence) {
					audio = PCMU.Decode(audio, p.Payload)
				}
				i++
				continue
			}
			// An event: marker first, one timestamp, growing durations, then
			// exactly three end packets.
			ev0, err := dtmf.ParseEvent(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Marker {
				t.Errorf("first packet of event %d has no marker", ev0.Code)
			}
			// The event starts at the media clock of the frame it replaces
			// (the next one unless the host stalled the sender).
			if onGrid := (p.Timestamp-pkts[0].Timestamp)%uint32(FrameSamples) == 0; i == 0 || !onGrid || p.Timestamp == pkts[i-1].Timestamp {
				t.Errorf("event timestamp %d does not continue the media clock", p.Timestamp)
			}
			var ends, n int
			var lastDur uint16
			for ; i < len(pkts) && pkts[i].PayloadType == testEventPT; i, n = i+1, n+1 {
				q := pkts[i]
				ev, err := dtmf.ParseEvent(q.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if q.Timestamp != p.Timestamp || ev.Code != ev0.Code || (n > 0 && q.Marker) {
					t.Errorf("event packet %d: ts %d code %d marker %v", n, q.Timestamp, ev.Code, q.Marker)
				}
				if ev.Duration < lastDur {
					t.Errorf("event duration went down: %d after %d", ev.Duration, lastDur)
				}
				lastDur = ev.Duration
				if ev.End {
					ends++
				} else if ends > 0 {
					t.Error("event packet without E bit after an end packet")
				}
			}
			if ends != 3 {
				t.Errorf("event %d: %d end packets, want 3", ev0.Code, ends)
			}
			k, _ := dtmf.CodeToKey(ev0.Code)
			keys = append(keys, k)
			// Audio resumes as a new talkspurt on the media clock.
			if i < len(pkts) {
				q := pkts[i]
				if !q.Marker || q.Timestamp < p.Timestamp+uint32(n*FrameSamples) || (q.Timestamp-p.Timestamp)%uint32(FrameSamples) != 0 {
					t.Errorf("audio after event: marker %v ts +%d, want marker and +%d", q.Marker, q.Timestamp-p.Timestamp, n*FrameSamples)
				}
			}
		}
		if string(keys) != "1#" {
			t.Errorf("events for %q, want 1#", keys)
		}
		if !slices.Equal(audio, roundTrip(PCMU, signal)) {
			t.Errorf("the played audio did not arrive whole around the digits (%d of %d samples)", len(audio), len(signal))
		}
	})
}

func TestRTPLegSendDTMFInBand(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, nil) // no telephone-event: tones
		stop := make(chan struct{})
		got := collectUntil(lp.peer, stop)
		if err := lp.leg.SendDTMF(context.Background(), "4w9"); err != nil {
			t.Fatalf("SendDTMF: %v", err)
		}
		time.Sleep(60 * time.Millisecond)
		close(stop)
		det := dtmf.NewDetector()
		var keys []byte
		for _, p := range <-got {
			if p.PayloadType != PCMU.PayloadType {
				t.Fatalf("in-band DTMF sent PT %d", p.PayloadType)
			}
			if k, ok := det.Frame(PCMU.Decode(nil, p.Payload)); ok {
				keys = append(keys, k)
			}
		}
		if string(keys) != "49" {
			t.Errorf("tones decode to %q, want 49", keys)
		}
	})
}

func TestRTPLegSendDTMFErrors(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		lp := m.newLegPeer(t, func(c *RTPConfig) { c.EventPayloadType = testEventPT })
		if err := lp.leg.SendDTMF(context.Background(), "12x"); err == nil {
			t.Error("SendDTMF with an invalid digit succeeded")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := lp.leg.SendDTMF(ctx, "123456"); err != context.DeadlineExceeded {
			t.Errorf("SendDTMF past its deadline = %v", err)
		}
		// After the cancelled digits, the leg goes back to audio.
		time.Sleep(20 * time.Millisecond)
		collect(lp.peer, 40*time.Millisecond)
		for _, p := range collect(lp.peer, 100*time.Millisecond) {
			if p.PayloadType == testEventPT {
				t.Fatal("telephone-event packets after SendDTMF was cancelled")
			}
		}
	})
}

// TestRTPLegDetectorLazy checks that the in-band detector (about 2 KB) is
// made only once a frame arrives with in-band detection on, not for every
// leg.
func TestRTPLegDetectorLazy(t *testing.T) {
	leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: netip.MustParseAddrPort("127.0.0.1:9"),
		InactivityTimeout: -1, Logger: testLogger()})
	defer leg.Close("test")
	frame := make([]int16, FrameSamples)
	if leg.rx.detector != nil {
		t.Fatal("detector made with the leg")
	}
	leg.deliverFrame(frame, false, time.Now())
	if leg.rx.detector != nil {
		t.Fatal("detector made for a frame with in-band detection off")
	}
	leg.deliverFrame(frame, true, time.Now())
	if leg.rx.detector == nil {
		t.Fatal("no detector after a frame with in-band detection on")
	}
}
