package audio

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sox runs the sox command line with output written to a temporary file
// called name, and returns that file's bytes. sox is a required tool.
func sox(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("sox"); err != nil {
		t.Fatalf("sox is required for these tests (apt-get install sox libsox-fmt-all): %v", err)
	}
	out := filepath.Join(t.TempDir(), name)
	full := make([]string, 0, len(args)+1)
	for _, a := range args {
		if a == "OUT" {
			a = out
		}
		full = append(full, a)
	}
	cmd := exec.Command("sox", full...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sox %s: %v\n%s", strings.Join(full, " "), err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sine returns n samples of amp*sin(2πf·i/rate).
func sine(freq, amp float64, rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// correlation is the normalised cross-correlation of a and b[lag:] over
// their common length.
func correlation(a, b []int16, lag int) float64 {
	if lag < 0 {
		a, b, lag = b, a, -lag
	}
	if lag >= len(b) {
		return 0
	}
	b = b[lag:]
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// bestCorrelation searches lags 0..maxLag (b delayed against a) for the
// highest correlation.
func bestCorrelation(a, b []int16, maxLag int) (best float64, at int) {
	best = -2
	for lag := 0; lag <= maxLag; lag++ {
		if c := correlation(a, b, lag); c > best {
			best, at = c, lag
		}
	}
	return best, at
}

// rms is the root mean square of x.
func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// toneLevel estimates the amplitude of the component at freq (Goertzel).
func toneLevel(x []int16, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(x))
}

// dB is 20·log10(a/b).
func dB(a, b float64) float64 { return 20 * math.Log10(a/b) }
