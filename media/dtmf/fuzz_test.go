package dtmf

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte{0x01, 0x0a, 0x00, 0x00})
	f.Add([]byte{0x0b, 0x8a, 0x08, 0xc0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x00})
	f.Add([]byte{0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := ParseEvent(payload)
		if len(payload) < EventSize {
			if err == nil {
				t.Fatalf("ParseEvent(% x) accepted a short payload", payload)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseEvent(% x): %v", payload, err)
		}
		if ev.Volume > 63 {
			t.Fatalf("volume %d does not fit 6 bits", ev.Volume)
		}
		// Re-encoding gives the same bytes except the reserved R bit.
		want := []byte{payload[0], payload[1] &^ 0x40, payload[2], payload[3]}
		if got := ev.AppendTo(nil); !bytes.Equal(got, want) {
			t.Fatalf("AppendTo(ParseEvent(% x)) = % x, want % x", payload, got, want)
		}
		if key, ok := CodeToKey(ev.Code); ok {
			if code, ok := KeyToCode(key); !ok || code != ev.Code {
				t.Fatalf("code %d -> key %q -> %d, %v", ev.Code, key, code, ok)
			}
		}
	})
}

// FuzzReceiver reads the input as a stream of packets, each 13 bytes:
// SSRC selector (1), timestamp (4), marker (1), payload length 0-7 (1) and
// up to 6 payload bytes. The Receiver must not panic, must report only the
// key in the payload, must never report a press it still remembers, and
// must remember every press it reports.
func FuzzReceiver(f *testing.F) {
	var seed bytes.Buffer
	for _, p := range concat(sippDigit(f, '1'), sippDigit(f, '#'), sippDigit(f, '1')) {
		seed.WriteByte(byte(p.ssrc))
		binary.Write(&seed, binary.BigEndian, p.timestamp)
		seed.WriteByte(map[bool]byte{true: 1}[p.marker])
		seed.WriteByte(byte(len(p.payload)))
		seed.Write(append(p.payload, 0, 0))
	}
	f.Add(seed.Bytes())
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 13*20))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Receiver
		for len(data) >= 13 {
			ssrc := uint32(data[0] & 3)
			ts := binary.BigEndian.Uint32(data[1:5])
			marker := data[5]&1 != 0
			payload := data[7 : 7+int(data[6]%7)]
			data = data[13:]
			remembered := len(payload) >= EventSize && r.find(ssrc, ts, payload[0]) != nil
			key, ok := r.Packet(ssrc, ts, marker, payload)
			if !ok {
				continue
			}
			code, valid := KeyToCode(key)
			if !valid || len(payload) < EventSize || payload[0] != code {
				t.Fatalf("reported %q for payload % x", key, payload)
			}
			if remembered {
				t.Fatalf("reported press (%d, %d, %d) again", ssrc, ts, code)
			}
			if r.find(ssrc, ts, code) == nil {
				t.Fatalf("reported press (%d, %d, %d) is not remembered", ssrc, ts, code)
			}
		}
	})
}

func FuzzDetector(f *testing.F) {
	f.Add([]byte{}, uint16(160))
	f.Add(bytes.Repeat([]byte{0x7f, 0xff, 0x80, 0x00}, 400), uint16(480))
	f.Fuzz(func(t *testing.T, data []byte, frame uint16) {
		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		size := int(frame%600) + 1
		d := NewDetector()
		for len(pcm) > 0 {
			n := min(size, len(pcm))
			if key, ok := d.Frame(pcm[:n]); ok {
				if _, valid := KeyToCode(key); !valid {
					t.Fatalf("reported %q", key)
				}
			}
			pcm = pcm[n:]
		}
	})
}
