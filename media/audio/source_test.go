package audio

import (
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// drain reads src frame by frame until io.EOF and returns the concatenated
// samples and the length of every frame read. It fails after limit frames.
func drain(t *testing.T, src media.Source, limit int) (all []int16, frames []int) {
	t.Helper()
	p := make([]int16, media.FrameSamples)
	for range limit {
		for i := range p {
			p[i] = 0x5555 // detect samples the source claims but did not write
		}
		n, err := src.ReadFrame(p)
		if errors.Is(err, io.EOF) {
			if n != 0 {
				t.Fatalf("io.EOF with n = %d", n)
			}
			if n, err := src.ReadFrame(p); n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("ReadFrame after io.EOF = %d, %v; want 0, io.EOF", n, err)
			}
			return all, frames
		}
		if err != nil {
			t.Fatal(err)
		}
		if n <= 0 || n > len(p) {
			t.Fatalf("ReadFrame returned n = %d", n)
		}
		all = append(all, p[:n]...)
		frames = append(frames, n)
	}
	t.Fatalf("no io.EOF after %d frames", limit)
	return nil, nil
}

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(i + 1)
	}
	return s
}

func TestPCMSource(t *testing.T) {
	tests := []struct {
		name       string
		n, loops   int
		wantFrames []int
	}{
		{"exact frames", 320, 1, []int{160, 160}},
		{"short last frame", 400, 1, []int{160, 160, 80}},
		{"shorter than a frame", 10, 1, []int{10}},
		{"loops are gapless", 100, 3, []int{160, 140}},
		{"loops of whole frames", 160, 2, []int{160, 160}},
		{"empty", 0, 1, nil},
		{"empty looped forever", 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			samples := ramp(tc.n)
			all, frames := drain(t, NewPCMSource(samples, tc.loops), 100)
			if !slices.Equal(frames, tc.wantFrames) {
				t.Errorf("frames = %v, want %v", frames, tc.wantFrames)
			}
			var want []int16
			for range tc.loops {
				want = append(want, samples...)
			}
			if !slices.Equal(all, want) {
				t.Errorf("samples differ from %d× the input", tc.loops)
			}
		})
	}

	t.Run("forever", func(t *testing.T) {
		src := NewPCMSource(ramp(7), 0)
		p := make([]int16, media.FrameSamples)
		for i := range 1000 {
			n, err := src.ReadFrame(p)
			if n != len(p) || err != nil {
				t.Fatalf("frame %d: %d, %v", i, n, err)
			}
			if want := int16((i*media.FrameSamples)%7 + 1); p[0] != want {
				t.Fatalf("frame %d starts with %d, want %d", i, p[0], want)
			}
		}
	})

	t.Run("rewind and shared slice", func(t *testing.T) {
		samples := ramp(200)
		src := NewPCMSource(samples, 1)
		drain(t, src, 10)
		src.Rewind()
		samples[0] = 999 // shared, not copied
		p := make([]int16, 160)
		if n, err := src.ReadFrame(p); n != 160 || err != nil || p[0] != 999 {
			t.Errorf("after Rewind: %d, %v, first sample %d", n, err, p[0])
		}
	})
}

func TestSilence(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		frames int
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 1},
		{20 * time.Millisecond, 1},
		{30 * time.Millisecond, 2},
		{time.Second, 50},
	} {
		all, frames := drain(t, NewSilence(tc.d), 100)
		if len(frames) != tc.frames || len(all) != tc.frames*media.FrameSamples {
			t.Errorf("NewSilence(%v): %d frames / %d samples, want %d whole frames", tc.d, len(frames), len(all), tc.frames)
		}
		for _, v := range all {
			if v != 0 {
				t.Fatalf("NewSilence(%v) produced %d", tc.d, v)
			}
		}
	}
}

func TestTone(t *testing.T) {
	t.Run("record beep", func(t *testing.T) {
		all, frames := drain(t, NewTone([]float64{1000}, 0.5, 400*time.Millisecond), 100)
		if len(all) != 3200 || len(frames) != 20 {
			t.Fatalf("%d samples in %d frames, want 3200 in 20", len(all), len(frames))
		}
		mid := all[100 : len(all)-100]
		peak := slices.Max(mid)
		if want := 0.5 * 32767; math.Abs(float64(peak)-want) > 2 {
			t.Errorf("peak = %d, want %.0f", peak, want)
		}
		if c := correlation(sine(1000, 10000, 8000, len(all))[100:3100], mid, 0); c < 0.9999 {
			t.Errorf("correlation with a 1 kHz sine = %.5f", c)
		}
		if math.Abs(float64(all[0])) > 100 || math.Abs(float64(all[len(all)-1])) > 100 {
			t.Errorf("no fade: first %d, last %d", all[0], all[len(all)-1])
		}
	})
	t.Run("ringback pair never clips", func(t *testing.T) {
		all, _ := drain(t, NewTone([]float64{440, 480}, 1, 2*time.Second), 200)
		if len(all) != 16000 {
			t.Fatalf("%d samples, want 16000", len(all))
		}
		lo, hi := slices.Min(all), slices.Max(all)
		if hi < 32000 || lo > -32000 || hi == math.MaxInt16 && lo == math.MinInt16 {
			t.Errorf("range [%d, %d], want peaks near ±32767 without clipping", lo, hi)
		}
		for _, f := range []float64{440, 480} {
			if l := toneLevel(all, f, 8000); math.Abs(dB(l, 16383)) > 0.5 {
				t.Errorf("%g Hz level %.0f, want ~16383", f, l)
			}
		}
	})
	t.Run("odd duration and short reads", func(t *testing.T) {
		src := NewTone([]float64{1000}, 0.5, 1001*time.Microsecond) // 8.008 samples -> 9
		p := make([]int16, 4)
		var got []int16
		for {
			n, err := src.ReadFrame(p)
			if errors.Is(err, io.EOF) {
				break
			}
			got = append(got, p[:n]...)
		}
		if len(got) != 9 {
			t.Errorf("%d samples, want 9", len(got))
		}
	})
	t.Run("degenerate", func(t *testing.T) {
		for _, src := range []*Tone{
			NewTone(nil, 0.5, time.Second),
			NewTone([]float64{5000}, 0.5, time.Second), // above Nyquist: dropped
			NewTone([]float64{1000}, math.NaN(), time.Second),
		} {
			all, _ := drain(t, src, 100)
			if len(all) != 8000 || slices.Max(all) != 0 || slices.Min(all) != 0 {
				t.Errorf("want 1 s of silence, got %d samples in [%d, %d]", len(all), slices.Min(all), slices.Max(all))
			}
		}
		if all, _ := drain(t, NewTone([]float64{1000}, 1, 0), 10); len(all) != 0 {
			t.Errorf("zero duration gave %d samples", len(all))
		}
	})
}

// errSource fails after one frame.
type errSource struct{ calls int }

var errBoom = errors.New("boom")

func (e *errSource) ReadFrame(p []int16) (int, error) {
	e.calls++
	if e.calls == 1 {
		return len(p), nil
	}
	return 0, errBoom
}

func TestConcat(t *testing.T) {
	t.Run("gapless joins", func(t *testing.T) {
		a, b, c := ramp(250), ramp(100), ramp(30)
		src := Concat(NewPCMSource(a, 1), NewSilence(0), nil, NewPCMSource(b, 1), NewPCMSource(c, 1))
		all, frames := drain(t, src, 10)
		if !slices.Equal(frames, []int{160, 160, 60}) {
			t.Errorf("frames = %v", frames)
		}
		if want := slices.Concat(a, b, c); !slices.Equal(all, want) {
			t.Error("samples are not a, b, c in order")
		}
	})
	t.Run("tone then silence", func(t *testing.T) {
		all, _ := drain(t, Concat(NewTone([]float64{1000}, 0.5, 400*time.Millisecond), NewSilence(time.Second)), 100)
		if len(all) != 3200+8000 {
			t.Errorf("%d samples, want 11200", len(all))
		}
	})
	t.Run("empty", func(t *testing.T) {
		if all, _ := drain(t, Concat(), 1); len(all) != 0 {
			t.Error("Concat() produced samples")
		}
	})
	t.Run("error", func(t *testing.T) {
		src := Concat(NewPCMSource(ramp(10), 1), &errSource{})
		p := make([]int16, 160)
		if n, err := src.ReadFrame(p); n != 160 || err != nil {
			t.Fatalf("first frame: %d, %v", n, err)
		}
		if _, err := src.ReadFrame(p); !errors.Is(err, errBoom) {
			t.Fatalf("second frame error = %v, want boom", err)
		}
	})
}

func TestReadAll(t *testing.T) {
	pattern, err := ReadAll(Concat(NewTone([]float64{440, 480}, 0.5, 2*time.Second), NewSilence(4*time.Second)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(pattern) != 6*8000 {
		t.Errorf("%d samples, want 48000", len(pattern))
	}
	if _, err := ReadAll(NewPCMSource(ramp(10), 0), time.Second); err == nil {
		t.Error("endless source: no error")
	}
	if _, err := ReadAll(&errSource{}, time.Second); !errors.Is(err, errBoom) {
		t.Errorf("failing source: err = %v, want boom", err)
	}
}

func BenchmarkPCMSourceReadFrame(b *testing.B) {
	src := NewPCMSource(ramp(8000*10+37), 0)
	p := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.ReadFrame(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToneReadFrame(b *testing.B) {
	src := NewTone([]float64{440, 480}, 0.5, 1<<62)
	p := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.ReadFrame(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSilenceReadFrame(b *testing.B) {
	src := NewSilence(1 << 62)
	p := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.ReadFrame(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConcatReadFrame(b *testing.B) {
	src := Concat(NewPCMSource(ramp(8000), 0))
	p := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.ReadFrame(p); err != nil {
			b.Fatal(err)
		}
	}
}
