package audio

import (
	"fmt"
	"math"
	"testing"
)

// middle drops the first and last tenth of x, where the filter sees the
// zero padding outside the signal.
func middle(x []int16) []int16 { return x[len(x)/10 : len(x)-len(x)/10] }

func TestResampleKeepsInBandTone(t *testing.T) {
	const amp = 16000
	for _, tc := range []struct {
		from, to int
		freq     float64
	}{
		{22050, 8000, 1000},
		{44100, 8000, 1000},
		{48000, 8000, 1000},
		{16000, 8000, 1000},
		{11025, 8000, 1000},
		{32000, 8000, 3000},
		{22050, 8000, 3300},
		{44056, 8000, 1000}, // 1001 phases: quantised phase path
		{8000, 16000, 1000},
		{8000, 48000, 2500},
		{8000, 22050, 1000},
	} {
		t.Run(fmt.Sprintf("%dto%d_%gHz", tc.from, tc.to, tc.freq), func(t *testing.T) {
			in := sine(tc.freq, amp, tc.from, tc.from) // one second
			out := Resample(in, tc.from, tc.to)
			if want := tc.to; len(out) != want {
				t.Fatalf("len = %d, want %d", len(out), want)
			}
			ideal := sine(tc.freq, amp, tc.to, tc.to)
			if c := correlation(middle(ideal), middle(out), 0); c < 0.9999 {
				t.Errorf("correlation with ideal = %.6f, want >= 0.9999", c)
			}
			level := toneLevel(middle(out), tc.freq, tc.to)
			if d := dB(level, amp); math.Abs(d) > 0.1 {
				t.Errorf("level at %g Hz = %.1f (%.3f dB), want within 0.1 dB of %d", tc.freq, level, d, amp)
			}
		})
	}
}

func TestResampleRejectsAliases(t *testing.T) {
	const amp = 16000
	for _, tc := range []struct {
		from int
		freq float64
	}{
		{22050, 5000}, // would alias to 3 kHz
		{22050, 4100},
		{22050, 10000},
		{44100, 5000},
		{44100, 12000},
		{48000, 5000},
		{48000, 20000},
		{16000, 4500},
		{11025, 5000},
	} {
		t.Run(fmt.Sprintf("%d_%gHz", tc.from, tc.freq), func(t *testing.T) {
			in := sine(tc.freq, amp, tc.from, tc.from)
			out := middle(Resample(in, tc.from, 8000))
			if d := dB(rms(out), rms(in)); d > -40 {
				t.Errorf("%g Hz at %d Hz comes out at %.1f dB after ->8000, want <= -40 dB", tc.freq, tc.from, d)
			} else {
				t.Logf("attenuation %.1f dB", d)
			}
		})
	}
}

func TestResampleUpsamplingHasNoImages(t *testing.T) {
	in := sine(1000, 16000, 8000, 8000)
	out := middle(Resample(in, 8000, 48000))
	if d := dB(toneLevel(out, 7000, 48000), 16000); d > -60 {
		t.Errorf("image at 7 kHz is %.1f dB, want <= -60 dB", d)
	}
}

func TestResampleDCAndEdges(t *testing.T) {
	in := make([]int16, 4410)
	for i := range in {
		in[i] = 10000
	}
	out := Resample(in, 44100, 8000)
	if len(out) != 800 {
		t.Fatalf("len = %d, want 800", len(out))
	}
	for i, v := range middle(out) {
		if v < 9999 || v > 10001 {
			t.Fatalf("DC sample %d = %d, want 10000±1", i, v)
		}
	}
	// A full-scale square wave overshoots after filtering (Gibbs): the
	// output must saturate, never wrap around to the other sign.
	sq := make([]int16, 22050)
	for i := range sq {
		sq[i] = math.MaxInt16
		if i/50%2 == 1 {
			sq[i] = math.MinInt16
		}
	}
	out = Resample(sq, 22050, 8000)
	saturated := 0
	for j, v := range out[100 : len(out)-100] {
		at := float64(j+100) * 22050 / 8000 // input time of this output sample
		if ph := math.Mod(at, 50); ph < 20 || ph > 30 {
			continue // near an edge
		}
		high := int(at)/50%2 == 0
		if (high && v < 20000) || (!high && v > -20000) {
			t.Fatalf("square wave output %d = %d, want %s", j+100, v, map[bool]string{true: "> 20000", false: "< -20000"}[high])
		}
		if v == math.MaxInt16 || v == math.MinInt16 {
			saturated++
		}
	}
	if saturated == 0 {
		t.Error("expected some saturated samples from Gibbs overshoot")
	}
}

func TestResampleSpecialCases(t *testing.T) {
	in := []int16{1, 2, 3}
	if out := Resample(in, 8000, 8000); &out[0] != &in[0] {
		t.Error("equal rates should return the input slice")
	}
	for _, r := range [][2]int{{0, 8000}, {8000, 0}, {-1, 8000}} {
		if out := Resample(in, r[0], r[1]); out != nil {
			t.Errorf("Resample(%d -> %d) = %v, want nil", r[0], r[1], out)
		}
	}
	if out := Resample(nil, 44100, 8000); len(out) != 0 {
		t.Errorf("empty input gave %d samples", len(out))
	}
	if out := Resample([]int16{5000}, 44100, 8000); len(out) != 1 {
		t.Errorf("one sample gave %d samples, want 1", len(out))
	}
}

func BenchmarkResample(b *testing.B) {
	for _, from := range []int{22050, 44100, 48000, 16000} {
		b.Run(fmt.Sprintf("%dto8000_1s", from), func(b *testing.B) {
			in := sine(1000, 10000, from, from)
			b.SetBytes(int64(2 * len(in)))
			b.ReportAllocs()
			for b.Loop() {
				Resample(in, from, 8000)
			}
		})
	}
}
