package dtmf

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    Event
	}{
		// Payloads from SIPp's dtmf_2833_1.pcap and dtmf_2833_pound.pcap.
		{"sipp 1 start", []byte{0x01, 0x0a, 0x00, 0x00}, Event{Code: 1, Volume: 10}},
		{"sipp 1 update", []byte{0x01, 0x0a, 0x01, 0x40}, Event{Code: 1, Volume: 10, Duration: 320}},
		{"sipp 1 end", []byte{0x01, 0x8a, 0x08, 0xc0}, Event{Code: 1, End: true, Volume: 10, Duration: 2240}},
		{"sipp # end", []byte{0x0b, 0x8a, 0x08, 0xc0}, Event{Code: 11, End: true, Volume: 10, Duration: 2240}},
		{"R bit ignored", []byte{0x05, 0x40 | 0x3f, 0xff, 0xff}, Event{Code: 5, Volume: 63, Duration: 0xffff}},
		{"extra bytes ignored", []byte{0x10, 0x80, 0x00, 0xa0, 0xde, 0xad}, Event{Code: 16, End: true, Duration: 160}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent(tt.payload)
			if err != nil {
				t.Fatalf("ParseEvent(% x): %v", tt.payload, err)
			}
			if got != tt.want {
				t.Errorf("ParseEvent(% x) = %+v, want %+v", tt.payload, got, tt.want)
			}
		})
	}
}

func TestParseEventShort(t *testing.T) {
	for n := range EventSize {
		_, err := ParseEvent(make([]byte, n))
		if !errors.Is(err, ErrShortPayload) {
			t.Errorf("ParseEvent(%d bytes) error = %v, want ErrShortPayload", n, err)
		}
	}
}

func TestEventAppendTo(t *testing.T) {
	tests := []struct {
		ev   Event
		want []byte
	}{
		{Event{Code: 1, Volume: 10}, []byte{0x01, 0x0a, 0x00, 0x00}},
		{Event{Code: 11, End: true, Volume: 10, Duration: 2240}, []byte{0x0b, 0x8a, 0x08, 0xc0}},
		{Event{Code: 15, Volume: 0xff, Duration: 0xffff}, []byte{0x0f, 0x3f, 0xff, 0xff}}, // volume truncated to 6 bits
	}
	for _, tt := range tests {
		prefix := []byte{0xaa}
		got := tt.ev.AppendTo(prefix)
		if !bytes.Equal(got[1:], tt.want) || got[0] != 0xaa {
			t.Errorf("%+v.AppendTo = % x, want aa % x", tt.ev, got, tt.want)
		}
		back, err := ParseEvent(got[1:])
		if err != nil {
			t.Fatal(err)
		}
		want := tt.ev
		want.Volume &= 0x3f
		if back != want {
			t.Errorf("round trip of %+v gave %+v", tt.ev, back)
		}
	}
}

func TestEventAppendToNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 16)
	ev := Event{Code: 3, End: true, Volume: 10, Duration: 800}
	allocs := testing.AllocsPerRun(100, func() { buf = ev.AppendTo(buf[:0]) })
	if allocs != 0 {
		t.Errorf("AppendTo allocates %.0f times with room in dst", allocs)
	}
}

func TestKeyCodes(t *testing.T) {
	const keys = "0123456789*#ABCD"
	for code := range 16 {
		key := keys[code]
		got, ok := KeyToCode(key)
		if !ok || got != uint8(code) {
			t.Errorf("KeyToCode(%q) = %d, %v; want %d, true", key, got, ok, code)
		}
		back, ok := CodeToKey(uint8(code))
		if !ok || back != key {
			t.Errorf("CodeToKey(%d) = %q, %v; want %q, true", code, back, ok, key)
		}
	}
	for _, lower := range []byte("abcd") {
		got, ok := KeyToCode(lower)
		if want := lower - 'a' + 12; !ok || got != want {
			t.Errorf("KeyToCode(%q) = %d, %v; want %d, true", lower, got, ok, want)
		}
	}
	for _, bad := range []byte("wWE e/:+") {
		if code, ok := KeyToCode(bad); ok {
			t.Errorf("KeyToCode(%q) = %d, true; want false", bad, code)
		}
	}
	for _, bad := range []uint8{16, 17, 255} {
		if key, ok := CodeToKey(bad); ok {
			t.Errorf("CodeToKey(%d) = %q, true; want false", bad, key)
		}
	}
}
