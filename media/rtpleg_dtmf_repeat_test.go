package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/voxgate/voxgate/media/dtmf"
)

// pressPackets is one RFC 4733 key press as SIPp's dtmf_2833_N.pcap holds
// it: a marker packet, growing durations, then (withEnd) three end
// packets, all with the same SSRC, timestamp and sequence numbers from seq.
func pressPackets(t testing.TB, ssrc, ts uint32, seq uint16, key byte, withEnd bool) [][]byte {
	t.Helper()
	code, ok := dtmf.KeyToCode(key)
	if !ok {
		t.Fatalf("bad key %q", key)
	}
	var out [][]byte
	for i := range 10 {
		end := i >= 7
		if end && !withEnd {
			break
		}
		ev := dtmf.Event{Code: code, Volume: 10, Duration: uint16(min(i, 7) * 320), End: end}
		h := rtpHeader(testEventPT, seq+uint16(min(i, 7)), ts, ssrc)
		h.Marker = i == 0
		b, err := (&rtp.Packet{Header: h, Payload: ev.AppendTo(nil)}).Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// TestRTPLegRepeatedPressOverSocket replays the very same key press
// packets (as SIPp does when it plays one pcap twice) from a fake peer
// socket: after a quiet spell the replay is a second press; sent again at
// once it is a retransmit. (The exact limits are checked with chosen
// arrival times in TestRTPLegEventMemoryExpiry: a loaded machine can delay
// the receive loop enough to move a real-time packet across them.)
func TestRTPLegRepeatedPressOverSocket(t *testing.T) {
	forLegModes(t, func(t *testing.T, m legMode) {
		for _, tc := range []struct {
			name    string
			withEnd bool
			gap     time.Duration // from the last packet of the first press to the replay
			want    string
		}{
			{"replayed 1 s later", true, time.Second, "55"},
			{"replayed 700 ms after the end", true, 700 * time.Millisecond, "55"},
			{"retransmitted at once", true, 0, "5"},
			{"no end packets, resent 1.5 s later", false, 1500 * time.Millisecond, "55"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lp := m.newLegPeer(t, func(c *RTPConfig) { c.EventPayloadType = testEventPT })
				press := pressPackets(t, 0x0e05384e, 40960, 7984, '5', tc.withEnd)
				send := func() {
					for _, b := range press {
						if _, err := lp.peer.WriteToUDPAddrPort(b, lp.leg.LocalAddr()); err != nil {
							t.Fatalf("send: %v", err)
						}
					}
				}
				send()
				time.Sleep(tc.gap)
				send()
				if got := keysOf(readDigits(lp.leg, 200*time.Millisecond)); got != tc.want {
					t.Errorf("digits %q, want %q", got, tc.want)
				}
			})
		}
	})
}

// TestRTPLegEventMemoryExpiry feeds the receive path packets at chosen
// arrival times and checks exactly where the leg stops treating identical
// packets as the same press.
func TestRTPLegEventMemoryExpiry(t *testing.T) {
	type arrival struct {
		at      time.Duration // since the leg's epoch
		key     byte
		ts      uint32
		withEnd bool
		spacing time.Duration // between the press's packets
		resend  int           // extra copies of an update packet, for a long press
	}
	const ms = time.Millisecond
	for _, tc := range []struct {
		name  string
		press []arrival
		want  string
	}{
		{"end packets spread over 40 ms stay one press", []arrival{{0, '5', 100, true, 20 * ms, 0}}, "5"},
		{"replay 299 ms after the end is a retransmit", []arrival{{0, '5', 100, true, 0, 0}, {299 * ms, '5', 100, true, 0, 0}}, "5"},
		{"replay 300 ms after the end is a new press", []arrival{{0, '5', 100, true, 0, 0}, {300 * ms, '5', 100, true, 0, 0}}, "55"},
		{"no end: resent 999 ms later is a retransmit", []arrival{{0, '5', 100, false, 0, 0}, {999 * ms, '5', 100, false, 0, 0}}, "5"},
		{"no end: resent 1 s later is a new press", []arrival{{0, '5', 100, false, 0, 0}, {time.Second, '5', 100, false, 0, 0}}, "55"},
		{"long press, a packet every 50 ms for 3 s", []arrival{{0, '8', 100, false, 50 * ms, 60}}, "8"},
		{"other presses in between do not matter", []arrival{
			{0, '1', 100, true, 0, 0}, {100 * ms, '2', 200, true, 0, 0}, {200 * ms, '1', 100, true, 0, 0}, {600 * ms, '1', 100, true, 0, 0},
		}, "121"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := netip.MustParseAddrPort("127.0.0.1:40000")
			leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(t), Remote: from, EventPayloadType: testEventPT, Logger: testLogger()})
			for i, a := range tc.press {
				pkts := pressPackets(t, 0x0e05384e, a.ts, uint16(100*i), a.key, a.withEnd)
				for j := range a.resend {
					pkts = append(pkts, pkts[1+j%6])
				}
				at := a.at
				for _, b := range pkts {
					leg.handlePacket(b, from, leg.epoch.Add(at))
					at += a.spacing
				}
			}
			var got []byte
			for len(leg.DTMF()) > 0 {
				d := <-leg.DTMF()
				if d.Via != ViaRFC4733 {
					t.Errorf("digit %+v: want ViaRFC4733", d)
				}
				got = append(got, d.Key)
			}
			if string(got) != tc.want {
				t.Errorf("digits %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkRTPReceiveEventPacket is the receive path for telephone-event
// packets: presses of ten packets, replayed after a quiet spell each time,
// so the receiver's memory is also reset.
func BenchmarkRTPReceiveEventPacket(b *testing.B) {
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(b), Remote: from, EventPayloadType: testEventPT, Logger: testLogger()})
	press := pressPackets(b, 0x0e05384e, 40960, 7984, '5', true)
	now := leg.epoch
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		leg.handlePacket(press[i], from, now)
		now = now.Add(20 * time.Millisecond)
		if i++; i == len(press) {
			i = 0
			now = now.Add(time.Second)
			select {
			case <-leg.DTMF():
			default:
				b.Fatal("a replayed press was not reported")
			}
		}
	}
}
