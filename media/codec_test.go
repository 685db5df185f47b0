package media

import (
	"math"
	"testing"
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

func BenchmarkEncodeFrame(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	buf := make([]byte, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		buf = PCMU.Encode(buf[:0], pcm)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	payload := make([]byte, FrameSamples)
	buf := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		buf = PCMA.Decode(buf[:0], payload)
	}
}
