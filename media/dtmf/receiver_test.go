package dtmf

import (
	"math/rand/v2"
	"testing"
)

// rtpEvent is one telephone-event RTP packet as the leg hands it over.
type rtpEvent struct {
	ssrc      uint32
	timestamp uint32
	marker    bool
	payload   []byte
}

// SIPp's telephone-event pcaps (/usr/share/sip-tester/dtmf_2833_*.pcap) all
// use this SSRC, which differs from the audio pcap's 0xDEE0EE8F.
const (
	sippDTMFSSRC  = 0x0E05384E
	sippAudioSSRC = 0xDEE0EE8F
)

// sippTimestamps is the fixed RTP timestamp of each SIPp digit pcap.
var sippTimestamps = map[byte]uint32{
	'0': 17632, '1': 13280, '2': 23200, '3': 31040, '4': 37120, '5': 43200,
	'6': 48800, '7': 54720, '8': 60800, '9': 67840, '*': 85760, '#': 92640,
}

// sippDigit returns the ten packets of SIPp's pcap for key: a marker packet
// with duration 0, updates with durations 320..1920, then three end packets
// with duration 2240, all with volume 10.
func sippDigit(t testing.TB, key byte) []rtpEvent {
	t.Helper()
	ts, ok := sippTimestamps[key]
	if !ok {
		t.Fatalf("no SIPp pcap for %q", key)
	}
	return eventPackets(t, sippDTMFSSRC, ts, key, []uint16{0, 320, 640, 960, 1280, 1600, 1920}, 2240, 3)
}

// baresipDigit returns the twelve packets baresip sends for one key in its
// audio stream: a marker packet, eight updates 20 ms apart, and three end
// packets with duration 1440.
func baresipDigit(t testing.TB, ssrc, ts uint32, key byte) []rtpEvent {
	t.Helper()
	return eventPackets(t, ssrc, ts, key, []uint16{160, 320, 480, 640, 800, 960, 1120, 1280, 1440}, 1440, 3)
}

// eventPackets builds one press: a marker packet and updates with the given
// durations, then ends end packets with duration final.
func eventPackets(t testing.TB, ssrc, ts uint32, key byte, durations []uint16, final uint16, ends int) []rtpEvent {
	t.Helper()
	code, ok := KeyToCode(key)
	if !ok {
		t.Fatalf("bad key %q", key)
	}
	var pkts []rtpEvent
	for i, d := range durations {
		ev := Event{Code: code, Volume: 10, Duration: d}
		pkts = append(pkts, rtpEvent{ssrc, ts, i == 0, ev.AppendTo(nil)})
	}
	for range ends {
		ev := Event{Code: code, End: true, Volume: 10, Duration: final}
		pkts = append(pkts, rtpEvent{ssrc, ts, false, ev.AppendTo(nil)})
	}
	return pkts
}

// deliver feeds pkts to r and returns the keys it reports, in order.
func deliver(r *Receiver, pkts []rtpEvent) string {
	var keys []byte
	for _, p := range pkts {
		if k, ok := r.Packet(p.ssrc, p.timestamp, p.marker, p.payload); ok {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

func concat(parts ...[]rtpEvent) []rtpEvent {
	var all []rtpEvent
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestReceiverSIPpPcaps(t *testing.T) {
	tests := []string{
		"12#",          // the judge scenario's order: timestamps rise
		"#21",          // timestamps fall between every press
		"1#0",          // 13280, 92640, 17632: up then down
		"0123456789*#", // every pcap
		"#*9876543210",
		"5#15",      // "1" after "#": backwards; "5" twice would be a replay, see below
		"9102*#834", // mixed
	}
	for _, digits := range tests {
		t.Run(digits, func(t *testing.T) {
			var r Receiver
			var pkts []rtpEvent
			want := ""
			seen := map[byte]bool{}
			for i := 0; i < len(digits); i++ {
				pkts = append(pkts, sippDigit(t, digits[i])...)
				// Replaying the same pcap repeats SSRC, timestamp and code:
				// that is the same press again, so it counts once.
				if !seen[digits[i]] {
					want += digits[i : i+1]
				}
				seen[digits[i]] = true
			}
			if got := deliver(&r, pkts); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestReceiverReportsOnFirstPacket(t *testing.T) {
	var r Receiver
	pkts := sippDigit(t, '7')
	for i, p := range pkts {
		k, ok := r.Packet(p.ssrc, p.timestamp, p.marker, p.payload)
		if i == 0 && (!ok || k != '7') {
			t.Fatalf("marker packet: got %q, %v; want '7', true", k, ok)
		}
		if i > 0 && ok {
			t.Fatalf("packet %d reported %q again", i, k)
		}
	}
}

func TestReceiverAudioSSRCAndEventSSRC(t *testing.T) {
	// Events in the audio stream (baresip, linphone) and on a separate SSRC
	// (SIPp) in one call: each press once.
	var r Receiver
	pkts := concat(
		baresipDigit(t, sippAudioSSRC, 160000, '4'),
		sippDigit(t, '1'),
		baresipDigit(t, sippAudioSSRC, 161600, '4'), // a second press of 4: new timestamp
		sippDigit(t, '#'),
		baresipDigit(t, sippAudioSSRC, 13280, '1'), // same timestamp and code as SIPp's 1, other SSRC
	)
	if got, want := deliver(&r, pkts), "414#1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReceiverBaresip(t *testing.T) {
	var r Receiver
	pkts := baresipDigit(t, 0x1234, 48000, '4')
	if len(pkts) != 12 {
		t.Fatalf("baresip sends 12 packets, built %d", len(pkts))
	}
	var ts uint32 = 48000
	for _, k := range []byte("4455*") {
		pkts = append(pkts, baresipDigit(t, 0x1234, ts, k)...)
		ts += 2400 // 300 ms later
	}
	// The first "4" at 48000 and the loop's first "4" share a timestamp:
	// a duplicate.
	if got, want := deliver(&r, pkts), "4455*"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReceiverRetransmitsAndReordering(t *testing.T) {
	one, two, pound := sippDigit(t, '1'), sippDigit(t, '2'), sippDigit(t, '#')
	doubled := func(p []rtpEvent) []rtpEvent { return concat(p, p) }
	reversed := func(p []rtpEvent) []rtpEvent {
		out := make([]rtpEvent, len(p))
		for i := range p {
			out[len(p)-1-i] = p[i]
		}
		return out
	}
	tests := []struct {
		name string
		pkts []rtpEvent
		want string
	}{
		{"each press sent twice", concat(doubled(one), doubled(two), doubled(pound)), "12#"},
		{"press reversed (ends first)", concat(reversed(one), reversed(two)), "12"},
		{"presses interleaved", concat(one[:4], two[:3], one[4:], pound, two[3:]), "12#"},
		{"late packets of earlier presses", concat(one, two, pound, one[9:], two[:1], one[:1]), "12#"},
		{"end packets only (start lost)", concat(one[7:], two[7:], pound[7:]), "12#"},
		{"marker lost", concat(one[1:], two[1:]), "12"},
		{"only the last end packet", concat(pound[9:], one[9:]), "#1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Receiver
			if got := deliver(&r, tt.pkts); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReceiverShuffledPresses(t *testing.T) {
	// Twelve presses, each on its own timestamp, with every packet sent
	// twice and the whole lot shuffled within a window of 8 packets: every
	// key exactly once.
	rng := rand.New(rand.NewPCG(1, 2))
	const keys = "0123456789*#"
	for round := range 50 {
		var pkts []rtpEvent
		for i := 0; i < len(keys); i++ {
			p := sippDigit(t, keys[i])
			pkts = append(pkts, concat(p, p)...)
		}
		for i := range pkts {
			j := min(len(pkts)-1, i+rng.IntN(8))
			pkts[i], pkts[j] = pkts[j], pkts[i]
		}
		var r Receiver
		got := deliver(&r, pkts)
		if len(got) != len(keys) {
			t.Fatalf("round %d: got %q, want each of %q once", round, got, keys)
		}
		for i := 0; i < len(keys); i++ {
			if n := countByte(got, keys[i]); n != 1 {
				t.Fatalf("round %d: got %q: %q %d times", round, got, keys[i], n)
			}
		}
	}
}

func countByte(s string, b byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			n++
		}
	}
	return n
}

func TestReceiverMemoryIsBounded(t *testing.T) {
	var r Receiver
	first := sippDigit(t, '1')
	if got := deliver(&r, first); got != "1" {
		t.Fatalf("got %q", got)
	}
	// Fifteen more presses: the first is still remembered.
	for i := range recentPresses - 1 {
		if got := deliver(&r, baresipDigit(t, 99, uint32(i)*1000, '5')); got != "5" {
			t.Fatalf("press %d: got %q", i, got)
		}
	}
	if got := deliver(&r, first[9:]); got != "" {
		t.Errorf("late end packet after %d presses reported %q", recentPresses-1, got)
	}
	// One more press pushes it out: a very late packet is then a new press.
	deliver(&r, baresipDigit(t, 99, 1<<20, '5'))
	if got := deliver(&r, first[9:]); got != "1" {
		t.Errorf("packet of a forgotten press: got %q, want %q", got, "1")
	}
}

func TestReceiverIgnoresNonKeys(t *testing.T) {
	var r Receiver
	flash := Event{Code: 16, Volume: 10, Duration: 160}.AppendTo(nil)
	cases := []rtpEvent{
		{1, 100, true, nil},
		{1, 100, true, []byte{1, 2, 3}},
		{1, 200, true, flash},
		{1, 300, true, []byte{200, 0x80, 0, 0}},
	}
	if got := deliver(&r, cases); got != "" {
		t.Errorf("got %q from non-key packets", got)
	}
	// They take no memory: a real press is still found.
	if got := deliver(&r, sippDigit(t, '3')); got != "3" {
		t.Errorf("got %q, want %q", got, "3")
	}
}

func TestReceiverLongEventSegments(t *testing.T) {
	// RFC 4733 §2.5.1.3: an event longer than 0xFFFF units goes on in a new
	// segment, without marker, at the timestamp where the first one ended.
	var r Receiver
	const ssrc, ts = 7, 1000
	seg1 := eventPackets(t, ssrc, ts, '9', []uint16{160, 32000, 0xFFFF}, 0, 0)
	seg2 := eventPackets(t, ssrc, ts+0xFFFF, '9', []uint16{160, 320}, 480, 3)
	seg2[0].marker = false
	if got := deliver(&r, concat(seg1, seg2)); got != "9" {
		t.Errorf("segmented long press: got %q, want %q", got, "9")
	}
	// A fresh press that starts with a marker is a new press.
	if got := deliver(&r, eventPackets(t, ssrc, ts+0xFFFF+480+800, '9', []uint16{160}, 320, 3)); got != "9" {
		t.Errorf("next press: got %q, want %q", got, "9")
	}
	// After an ended segment the same timing is a new press too.
	var r2 Receiver
	ended := eventPackets(t, ssrc, ts, '9', []uint16{160, 0xFFFF}, 0xFFFF, 3)
	next := eventPackets(t, ssrc, ts+0xFFFF, '9', []uint16{160}, 320, 3)
	next[0].marker = false
	if got := deliver(&r2, concat(ended, next)); got != "99" {
		t.Errorf("after an ended press: got %q, want %q", got, "99")
	}
}

func TestReceiverReset(t *testing.T) {
	var r Receiver
	p := sippDigit(t, '8')
	deliver(&r, p)
	r.Reset()
	if got := deliver(&r, p); got != "8" {
		t.Errorf("after Reset got %q, want %q", got, "8")
	}
}

func TestReceiverPacketNoAlloc(t *testing.T) {
	var r Receiver
	pkts := concat(sippDigit(t, '1'), sippDigit(t, '#'), []rtpEvent{{1, 2, true, []byte{1}}})
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		p := pkts[i%len(pkts)]
		r.Packet(p.ssrc, p.timestamp+uint32(i/len(pkts)), p.marker, p.payload)
		i++
	})
	if allocs != 0 {
		t.Errorf("Packet allocates %.2f times per packet", allocs)
	}
}
