package dtmf

import (
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestAppendTone(t *testing.T) {
	prefix := []int16{7, 7}
	pcm := AppendTone(prefix, '5', 800, 0.25)
	if len(pcm) != 802 || pcm[0] != 7 || pcm[1] != 7 {
		t.Fatalf("AppendTone appended %d samples after %v, want 800 after [7 7]", len(pcm)-2, pcm[:2])
	}
	tone := pcm[2:]
	peak := 0
	for _, s := range tone {
		peak = max(peak, int(math.Abs(float64(s))))
	}
	// Two sines of 0.25 each: the sum peaks near 0.5 of full scale.
	if peak < 15000 || peak > 16400 {
		t.Errorf("peak %d, want about 16384", peak)
	}
	// The energy sits at 770 and 1336 Hz.
	x := make([]float64, blockSamples)
	for i := range x {
		x[i] = float64(tone[i]) * hann[i]
	}
	row := tonePower(x, goertzelCoeff(770))
	col := tonePower(x, goertzelCoeff(1336))
	other := tonePower(x, goertzelCoeff(697)) + tonePower(x, goertzelCoeff(1477))
	if want := 0.25 * 0.25; math.Abs(row-want) > want*0.05 || math.Abs(col-want) > want*0.05 {
		t.Errorf("tone powers %.4f %.4f, want %.4f each", row, col, want)
	}
	if other > row/10 { // Hann leakage from 73 Hz away is about -14 dB
		t.Errorf("neighbouring frequencies carry %.4f", other)
	}
}

func TestAppendToneClipsAndSilence(t *testing.T) {
	loud := AppendTone(nil, '1', 400, 0.9)
	if slices.Max(loud) != math.MaxInt16 || slices.Min(loud) != math.MinInt16 {
		t.Errorf("0.9 + 0.9 should clip: max %d min %d", slices.Max(loud), slices.Min(loud))
	}
	for _, bad := range []byte("wWx ") {
		pcm := AppendTone(nil, bad, 160, 0.5)
		if len(pcm) != 160 || slices.Max(pcm) != 0 || slices.Min(pcm) != 0 {
			t.Errorf("AppendTone(%q) should append 160 samples of silence", bad)
		}
	}
}

func TestAppendToneNoAlloc(t *testing.T) {
	buf := make([]int16, 0, 160)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendTone(buf[:0], '#', 160, 0.2) })
	if allocs != 0 {
		t.Errorf("AppendTone allocates %.0f times with room in dst", allocs)
	}
}

// readAll reads src to EOF in frames of frame samples.
func readAll(t *testing.T, src *ToneSource, frame int) []int16 {
	t.Helper()
	var out []int16
	p := make([]int16, frame)
	for range 100000 {
		n, err := src.ReadFrame(p)
		if errors.Is(err, io.EOF) {
			if n != 0 {
				t.Fatalf("EOF with n = %d", n)
			}
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if n <= 0 || n > frame {
			t.Fatalf("ReadFrame returned n = %d for a frame of %d", n, frame)
		}
		out = append(out, p[:n]...)
	}
	t.Fatal("ToneSource never ended")
	return nil
}

func TestToneSource(t *testing.T) {
	const digits = "12#w9W*"
	src, err := NewToneSource(digits)
	if err != nil {
		t.Fatal(err)
	}
	pcm := readAll(t, src, 160)
	if want := 5*1600 + 4000 + 8000; len(pcm) != want {
		t.Errorf("%q lasts %d samples, want %d", digits, len(pcm), want)
	}
	if got := detectAll(pcm, 160); got != "12#9*" {
		t.Errorf("detected %q, want %q", got, "12#9*")
	}
	// Frame size does not change the audio: tones stay continuous.
	for _, frame := range []int{77, 480, 1} {
		src, _ := NewToneSource(digits)
		if other := readAll(t, src, frame); !slices.Equal(other, pcm) {
			t.Errorf("frames of %d give different audio", frame)
		}
	}
	// Through G.711, as the leg would send it.
	if got := detectAll(g711RoundTrip(pcm, false), 160); got != "12#9*" {
		t.Errorf("after μ-law: detected %q", got)
	}
}

func TestToneSourceInvalid(t *testing.T) {
	_, err := NewToneSource("1,2")
	if err == nil || !strings.Contains(err.Error(), "','") {
		t.Errorf("NewToneSource(%q) error = %v, want one naming ','", "1,2", err)
	}
	src, err := NewToneSource("")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := src.ReadFrame(make([]int16, 160)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("empty ToneSource: %d, %v; want 0, EOF", n, err)
	}
}

func TestToneSourceNoAlloc(t *testing.T) {
	src, err := NewToneSource("123456789")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]int16, 160)
	allocs := testing.AllocsPerRun(50, func() { src.ReadFrame(p) })
	if allocs != 0 {
		t.Errorf("ReadFrame allocates %.2f times per frame", allocs)
	}
}
