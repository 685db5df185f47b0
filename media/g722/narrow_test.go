package g722

import (
	"math"
	"testing"
)

func tone(n int, rate, freq, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/rate))
	}
	return s
}

// snrAligned returns the signal-to-noise ratio in dB of got against ref,
// at the delay (0-64 samples) that maximises it, skipping the start.
func snrAligned(ref, got []int16) (snr float64, delay int) {
	best := math.Inf(-1)
	for d := 0; d <= 64; d++ {
		var sig, noise float64
		for i := 400; i+d < len(got) && i < len(ref); i++ {
			r, g := float64(ref[i]), float64(got[i+d])
			sig += r * r
			noise += (g - r) * (g - r)
		}
		if v := 10 * math.Log10(sig/noise); v > best {
			best, delay = v, d
		}
	}
	return best, delay
}

// TestNarrowRoundTrip: 8 kHz tones across the telephone band come back
// through the G.722 encoder and decoder (interpolation, SB-ADPCM,
// decimation) close to what went in, after the filters' delay.
func TestNarrowRoundTrip(t *testing.T) {
	for _, f := range []float64{300, 1000, 2500, 3300} {
		in := tone(8000, 8000, f, 10000)
		var e NarrowEncoder
		var d NarrowDecoder
		var code []byte
		var out []int16
		for i := 0; i < len(in); i += 160 {
			code = e.Encode(code[:0], in[i:i+160])
			if len(code) != 160 {
				t.Fatalf("%d bytes for 160 samples", len(code))
			}
			out = d.Decode(out, code)
		}
		snr, delay := snrAligned(in, out)
		t.Logf("%4.0f Hz: SNR %.1f dB at a delay of %d samples", f, snr, delay)
		if snr < 20 {
			t.Errorf("%.0f Hz tone: SNR %.1f dB, want >= 20", f, snr)
		}
	}
}

// TestNarrowDecoderRejectsHighBand: a 6 kHz tone in a wideband G.722
// stream (which an 8 kHz engine cannot carry) is filtered out by the
// decimator instead of folding down to 2 kHz, while a 1 kHz tone passes.
func TestNarrowDecoderRejectsHighBand(t *testing.T) {
	level := func(freq float64) float64 {
		code := NewEncoder().Encode(nil, tone(32000, 16000, freq, 10000))
		var d NarrowDecoder
		out := d.Decode(nil, code)
		var e float64
		for _, s := range out[800:] {
			e += float64(s) * float64(s)
		}
		return 10 * math.Log10(e/float64(len(out)-800))
	}
	pass, stop := level(1000), level(6000)
	t.Logf("1 kHz: %.1f dB, 6 kHz: %.1f dB", pass, stop)
	if pass-stop < 40 {
		t.Errorf("the 6 kHz tone is only %.1f dB below the 1 kHz one after decimation, want >= 40", pass-stop)
	}
}

// TestNarrowEncoderBandLimits: the interpolator's images above 4 kHz are
// suppressed: a 1 kHz tone at 8 kHz, encoded and decoded at 16 kHz,
// carries little energy at its 7 kHz image.
func TestNarrowEncoderBandLimits(t *testing.T) {
	var e NarrowEncoder
	wide := NewDecoder().Decode(nil, e.Encode(nil, tone(16000, 8000, 1000, 10000)))
	at := func(freq float64) float64 { // Goertzel power at freq
		w := 2 * math.Pi * freq / 16000
		var s1, s2 float64
		for _, x := range wide[1000:] {
			s0 := float64(x) + 2*math.Cos(w)*s1 - s2
			s2, s1 = s1, s0
		}
		return 10 * math.Log10(s1*s1+s2*s2-2*math.Cos(w)*s1*s2)
	}
	tone, image := at(1000), at(7000)
	t.Logf("1 kHz: %.1f dB, 7 kHz image: %.1f dB", tone, image)
	if tone-image < 40 {
		t.Errorf("the 7 kHz image is only %.1f dB below the tone, want >= 40", tone-image)
	}
}

// TestNoAllocations: encoding and decoding a 20 ms packet into buffers
// with room allocates nothing.
func TestNoAllocations(t *testing.T) {
	var e NarrowEncoder
	var d NarrowDecoder
	pcm := tone(160, 8000, 1000, 8000)
	code := make([]byte, 0, 160)
	out := make([]int16, 0, 160)
	if n := testing.AllocsPerRun(100, func() {
		code = e.Encode(code[:0], pcm)
		out = d.Decode(out[:0], code)
	}); n != 0 {
		t.Errorf("%.1f allocations per packet, want 0", n)
	}
}

// FuzzDecoder: any bytes decode, two 16 kHz samples (one 8 kHz sample)
// per byte, and decoding in two pieces gives what decoding at once gives.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x00, 0xff, 0x3f, 0xc0}, 1)
	f.Add(make([]byte, 160), 80)
	f.Add(readBytes(f, "testdata/random.g722")[:320], 100)
	f.Fuzz(func(t *testing.T, code []byte, cut int) {
		if cut < 0 || cut > len(code) {
			cut = len(code) / 2
		}
		whole := NewDecoder().Decode(nil, code)
		if len(whole) != 2*len(code) {
			t.Fatalf("%d samples for %d bytes", len(whole), len(code))
		}
		d := NewDecoder()
		parts := d.Decode(d.Decode(nil, code[:cut]), code[cut:])
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("sample %d: %d at once, %d in two pieces", i, whole[i], parts[i])
			}
		}
		var nd NarrowDecoder
		narrow := nd.Decode(nil, code)
		if len(narrow) != len(code) {
			t.Fatalf("%d narrowband samples for %d bytes", len(narrow), len(code))
		}
	})
}

func BenchmarkNarrowEncode(b *testing.B) {
	var e NarrowEncoder
	pcm := tone(160, 8000, 1000, 8000)
	code := make([]byte, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		code = e.Encode(code[:0], pcm)
	}
}

func BenchmarkNarrowDecode(b *testing.B) {
	var e NarrowEncoder
	var d NarrowDecoder
	code := e.Encode(nil, tone(160, 8000, 1000, 8000))
	out := make([]int16, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		out = d.Decode(out[:0], code)
	}
}

// BenchmarkNarrowSignal: the narrowband encoder and decoder on the test
// signal (testdata/signal.s16 taken at 8 kHz: a chirp, a square burst,
// noise), 20 ms packets in turn, whose quantizer decisions are less
// predictable than a steady tone's.
func BenchmarkNarrowSignal(b *testing.B) {
	wide := readS16(b, "testdata/signal.s16")
	pcm := make([]int16, 0, len(wide)/2)
	for i := 0; i < len(wide); i += 2 {
		pcm = append(pcm, wide[i])
	}
	pcm = pcm[:len(pcm)/160*160]
	var whole NarrowEncoder
	code := whole.Encode(nil, pcm)
	b.Run("encode", func(b *testing.B) {
		var e NarrowEncoder
		out := make([]byte, 0, 160)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			out = e.Encode(out[:0], pcm[i:i+160])
			if i += 160; i == len(pcm) {
				i = 0
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		var d NarrowDecoder
		out := make([]int16, 0, 160)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			out = d.Decode(out[:0], code[i:i+160])
			if i += 160; i == len(code) {
				i = 0
			}
		}
	})
}
