package tts

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/voxgate/voxgate/media/audio"
)

// newTestEngine returns an Engine caching under a temporary directory
// unless opts says otherwise. espeak-ng is a required tool: the test fails
// without it.
func newTestEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// reference renders text the way the end-to-end tests judge a caller's
// audio: espeak-ng to a 22050 Hz WAV, sox to 8 kHz 16-bit mono.
func reference(t *testing.T, voice, text string) []int16 {
	t.Helper()
	dir := t.TempDir()
	ref, ref8k := filepath.Join(dir, "ref.wav"), filepath.Join(dir, "ref8k.wav")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("espeak-ng", "-v", voice, "-s", "150", "-w", ref, "--", text)
	run("sox", ref, "-r", "8000", "-c", "1", "-b", "16", ref8k)
	data, err := os.ReadFile(ref8k)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := audio.DecodeWAV(data)
	if err != nil {
		t.Fatalf("decoding sox output: %v", err)
	}
	return pcm
}

// peakCorrelation is the peak of the normalised cross-correlation of a and
// b over lags up to maxLag samples either way.
func peakCorrelation(a, b []int16, maxLag int) float64 {
	var na, nb float64
	for _, v := range a {
		na += float64(v) * float64(v)
	}
	for _, v := range b {
		nb += float64(v) * float64(v)
	}
	if na == 0 || nb == 0 {
		return 0
	}
	best := 0.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var sum float64
		for i := range a {
			if j := i + lag; j >= 0 && j < len(b) {
				sum += float64(a[i]) * float64(b[j])
			}
		}
		best = math.Max(best, math.Abs(sum))
	}
	return best / math.Sqrt(na*nb)
}

// frameRMS returns the RMS level (0..1) of each 20 ms frame.
func frameRMS(pcm []int16) []float64 {
	var out []float64
	for i := 0; i+160 <= len(pcm); i += 160 {
		var sum float64
		for _, v := range pcm[i : i+160] {
			x := float64(v) / 32768
			sum += x * x
		}
		out = append(out, math.Sqrt(sum/160))
	}
	return out
}
