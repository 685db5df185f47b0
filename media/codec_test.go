package media

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

func TestCodecRoundTrip(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		pcm := make([]int16, FrameSamples)
		for i := range pcm {
			pcm[i] = int16(12000 * math.Sin(2*math.Pi*440*float64(i)/SampleRate))
		}
		enc := c.Encode(make([]byte, 0, FrameSamples), pcm)
		dec := c.Decode(make([]int16, 0, FrameSamples), enc)
		if len(enc) != FrameSamples || len(dec) != FrameSamples {
			t.Fatalf("%s: lengths %d %d", c, len(enc), len(dec))
		}
		for i := range pcm {
			// G.711 keeps about 12 bits: the error is under 1/32 of the sample.
			if d := math.Abs(float64(dec[i]) - float64(pcm[i])); d > math.Abs(float64(pcm[i]))/32+16 {
				t.Fatalf("%s: sample %d: %d -> %d", c, i, pcm[i], dec[i])
			}
		}
	}
	if PCMU.Encode(nil, []int16{0})[0] != 0xFF || PCMA.Encode(nil, []int16{0})[0] != 0xD5 {
		t.Errorf("silence does not encode to the standard 0xFF (μ-law) / 0xD5 (A-law)")
	}
}

func TestCodecByName(t *testing.T) {
	for name, pt := range map[string]uint8{"PCMU": 0, "pcma": 8} {
		c, err := CodecByName(name)
		if err != nil || c.PayloadType != pt {
			t.Errorf("CodecByName(%q) = %v, %v", name, c, err)
		}
	}
	if _, err := CodecByName("G729"); err == nil {
		t.Errorf("G729 accepted")
	}
}

// TestCodecMatchesReference checks the lookup tables against the
// per-sample functions of github.com/zaf/g711 for every input.
func TestCodecMatchesReference(t *testing.T) {
	tests := []struct {
		codec  Codec
		encode func(int16) uint8
		decode func(uint8) int16
	}{
		{PCMU, g711.EncodeUlawFrame, g711.DecodeUlawFrame},
		{PCMA, g711.EncodeAlawFrame, g711.DecodeAlawFrame},
	}
	for _, tc := range tests {
		t.Run(tc.codec.Name, func(t *testing.T) {
			pcm := make([]int16, 1<<16)
			for i := range pcm {
				pcm[i] = int16(uint16(i))
			}
			enc := tc.codec.Encode(nil, pcm)
			for i, s := range pcm {
				if want := tc.encode(s); enc[i] != want {
					t.Fatalf("Encode(%d) = %#x, want %#x", s, enc[i], want)
				}
			}
			codes := make([]byte, 256)
			for i := range codes {
				codes[i] = byte(i)
			}
			dec := tc.codec.Decode(nil, codes)
			for i, c := range codes {
				if want := tc.decode(c); dec[i] != want {
					t.Fatalf("Decode(%#x) = %d, want %d", c, dec[i], want)
				}
			}
		})
	}
}

// TestCodecAppends checks Encode and Decode append after what dst holds
// and do not allocate when dst has room.
func TestCodecAppends(t *testing.T) {
	pcm := []int16{0, 1000, -1000}
	enc := PCMU.Encode([]byte{0x42}, pcm)
	if len(enc) != 4 || enc[0] != 0x42 || enc[1] != 0xff {
		t.Errorf("Encode onto a prefix = %x", enc)
	}
	dec := PCMU.Decode([]int16{7}, enc[1:])
	if len(dec) != 4 || dec[0] != 7 || dec[1] != 0 {
		t.Errorf("Decode onto a prefix = %v", dec)
	}
	frame := testSignal(FrameSamples)
	encBuf := make([]byte, 0, FrameSamples)
	decBuf := make([]int16, 0, FrameSamples)
	allocs := testing.AllocsPerRun(100, func() {
		encBuf = PCMA.Encode(encBuf[:0], frame)
		decBuf = PCMA.Decode(decBuf[:0], encBuf)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
}

// BenchmarkEncodeFrame encodes one 20 ms frame of a tone.
func BenchmarkEncodeFrame(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name, func(b *testing.B) {
			pcm := testSignal(FrameSamples)
			buf := make([]byte, 0, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				buf = c.Encode(buf[:0], pcm)
			}
		})
	}
}

// BenchmarkDecodeFrame decodes one 20 ms frame.
func BenchmarkDecodeFrame(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name, func(b *testing.B) {
			payload := c.Encode(nil, testSignal(FrameSamples))
			buf := make([]int16, 0, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				buf = c.Decode(buf[:0], payload)
			}
		})
	}
}
