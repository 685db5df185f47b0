package dtmf

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zaf/g711"
)

const allKeys = "123A456B789C*0#D"

// dualTone returns samples of two sines with the given frequencies (Hz) and
// peak amplitudes (full scale 1), starting at phases phr and phc.
func dualTone(rowHz, colHz, rowAmp, colAmp float64, samples int) []int16 {
	pcm := make([]int16, samples)
	for n := range pcm {
		t := float64(n) / sampleRate
		v := rowAmp*math.Sin(2*math.Pi*rowHz*t+0.3) + colAmp*math.Sin(2*math.Pi*colHz*t+1.1)
		pcm[n] = clip16(v * 32767)
	}
	return pcm
}

// keyFreqs returns the nominal frequencies of key.
func keyFreqs(t testing.TB, key byte) (row, col float64) {
	t.Helper()
	r, c, ok := keyPosition(key)
	if !ok {
		t.Fatalf("not a key: %q", key)
	}
	return rowFreqs[r], colFreqs[c]
}

// silence returns n zero samples.
func silence(n int) []int16 { return make([]int16, n) }

// withSilence surrounds pcm with 100 ms of silence.
func withSilence(pcm []int16) []int16 {
	return append(append(silence(800), pcm...), silence(800)...)
}

// dBFS converts a level in dB relative to full scale into a peak amplitude.
func dBFS(db float64) float64 { return math.Pow(10, db/20) }

func TestDetectorAllKeysGenerated(t *testing.T) {
	for _, level := range []float64{-6.5, -15, -25, -35, -42} { // per tone, dBFS
		for _, frame := range []int{160, 80, 100, 240, 480} {
			for i := 0; i < len(allKeys); i++ {
				key := allKeys[i]
				pcm := withSilence(AppendTone(nil, key, 800, dBFS(level)))
				if got := detectAll(pcm, frame); got != string(key) {
					t.Errorf("key %q at %.1f dBFS per tone, frames of %d: got %q", key, level, frame, got)
				}
			}
		}
	}
}

func TestDetectorTooQuiet(t *testing.T) {
	for i := 0; i < len(allKeys); i++ {
		pcm := withSilence(AppendTone(nil, allKeys[i], 1600, dBFS(-50)))
		if got := detectAll(pcm, 160); got != "" {
			t.Errorf("key %q at -50 dBFS: got %q, want nothing", allKeys[i], got)
		}
	}
}

func TestDetectorFrequencyDeviation(t *testing.T) {
	// ITU-T Q.24: operate within ±1.5%, do not operate beyond ±3.5%, for
	// either tone or both.
	tests := []struct {
		rowDev, colDev float64
		detect         bool
	}{
		{+0.015, 0, true}, {-0.015, 0, true}, {0, +0.015, true}, {0, -0.015, true},
		{+0.015, +0.015, true}, {-0.015, -0.015, true}, {+0.015, -0.015, true}, {-0.015, +0.015, true},
		{+0.035, 0, false}, {-0.035, 0, false}, {0, +0.035, false}, {0, -0.035, false},
		{+0.035, +0.035, false}, {-0.035, -0.035, false}, {+0.035, -0.035, false},
		{+0.05, 0, false}, {0, -0.05, false},
	}
	for _, tt := range tests {
		for _, amp := range []float64{dBFS(-10), dBFS(-30)} {
			for i := 0; i < len(allKeys); i++ {
				key := allKeys[i]
				row, col := keyFreqs(t, key)
				pcm := withSilence(dualTone(row*(1+tt.rowDev), col*(1+tt.colDev), amp, amp, 800))
				got := detectAll(pcm, 160)
				want := ""
				if tt.detect {
					want = string(key)
				}
				if got != want {
					t.Errorf("key %q, row %+.1f%% col %+.1f%%, amplitude %.3f: got %q, want %q",
						key, 100*tt.rowDev, 100*tt.colDev, amp, got, want)
				}
			}
		}
	}
}

func TestDetectorTwist(t *testing.T) {
	tests := []struct {
		colOverRowDB float64
		detect       bool
	}{
		{0, true},
		{+7, true}, // normal twist: high group louder, up to 8 dB
		{-3, true}, // reverse twist: low group louder, up to 4 dB
		{+10, false},
		{-6, false},
	}
	for _, tt := range tests {
		for _, dev := range []float64{0, -0.015, 0.015} {
			for i := 0; i < len(allKeys); i++ {
				key := allKeys[i]
				row, col := keyFreqs(t, key)
				rowAmp := dBFS(-14 - tt.colOverRowDB/2)
				colAmp := dBFS(-14 + tt.colOverRowDB/2)
				pcm := withSilence(dualTone(row*(1+dev), col*(1+dev), rowAmp, colAmp, 800))
				want := ""
				if tt.detect {
					want = string(key)
				}
				if got := detectAll(pcm, 160); got != want {
					t.Errorf("key %q, twist %+.0f dB, deviation %+.1f%%: got %q, want %q", key, tt.colOverRowDB, 100*dev, got, want)
				}
			}
		}
	}
}

func TestDetectorSingleToneIsNotAKey(t *testing.T) {
	for _, f := range append(rowFreqs[:], colFreqs[:]...) {
		pcm := withSilence(dualTone(f, f, dBFS(-10), 0, 4000))
		if got := detectAll(pcm, 160); got != "" {
			t.Errorf("single %.0f Hz tone: got %q", f, got)
		}
	}
	// A dial tone (350 + 440 Hz) and a 1 kHz test tone neither.
	for _, p := range [][2]float64{{350, 440}, {1000, 1000}, {697, 1000}, {1000, 1336}} {
		if got := detectAll(withSilence(dualTone(p[0], p[1], dBFS(-10), dBFS(-10), 4000)), 160); got != "" {
			t.Errorf("%v Hz: got %q", p, got)
		}
	}
}

func TestDetectorDuration(t *testing.T) {
	for i := 0; i < len(allKeys); i++ {
		key := allKeys[i]
		for offset := 0; offset < blockSamples; offset += 16 {
			// 60 ms of tone is found wherever it falls in the blocks.
			long := append(silence(800+offset), AppendTone(nil, key, 480, 0.2)...)
			if got := detectAll(append(long, silence(800)...), 160); got != string(key) {
				t.Errorf("60 ms of %q at offset %d: got %q", key, offset, got)
			}
			// 20 ms of tone never is.
			short := append(silence(800+offset), AppendTone(nil, key, 160, 0.2)...)
			if got := detectAll(append(short, silence(800)...), 160); got != "" {
				t.Errorf("20 ms of %q at offset %d: got %q", key, offset, got)
			}
		}
		// 40 ms aligned with the blocks is found.
		aligned := append(silence(800), AppendTone(nil, key, 320, 0.2)...)
		if got := detectAll(append(aligned, silence(800)...), 160); got != string(key) {
			t.Errorf("40 ms of %q aligned: got %q", key, got)
		}
	}
}

func TestDetectorHeldKeyReportedOnce(t *testing.T) {
	pcm := withSilence(AppendTone(nil, '5', 8000*3, 0.2)) // 3 s
	for _, frame := range []int{160, 80, 480} {
		if got := detectAll(pcm, frame); got != "5" {
			t.Errorf("3 s of '5' in frames of %d: got %q, want %q", frame, got, "5")
		}
	}
}

func TestDetectorRepeatsAndChanges(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
		want string
	}{
		{"same key after a 40 ms pause", concatPCM(AppendTone(nil, '7', 800, 0.2), silence(320), AppendTone(nil, '7', 800, 0.2)), "77"},
		{"same key after a 100 ms pause", concatPCM(AppendTone(nil, '7', 800, 0.2), silence(800), AppendTone(nil, '7', 800, 0.2)), "77"},
		{"key change without a pause", concatPCM(AppendTone(nil, '1', 800, 0.2), AppendTone(nil, '2', 800, 0.2)), "12"},
		{"quick changes", concatPCM(AppendTone(nil, '1', 480, 0.2), AppendTone(nil, '2', 480, 0.2), AppendTone(nil, '3', 480, 0.2)), "123"},
	}
	for _, tt := range tests {
		for _, frame := range []int{160, 480, 80} {
			if got := detectAll(withSilence(tt.pcm), frame); got != tt.want {
				t.Errorf("%s, frames of %d: got %q, want %q", tt.name, frame, got, tt.want)
			}
		}
	}
}

func concatPCM(parts ...[]int16) []int16 {
	var all []int16
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func TestDetectorSoxTones(t *testing.T) {
	// sox's "mix" averages the two sines: each tone peaks at vol/2.
	for _, vol := range []float64{0.8, 0.4, 0.05, 0.02} {
		for i := 0; i < len(allKeys); i++ {
			key := allKeys[i]
			row, col := keyFreqs(t, key)
			pcm := soxTone(t, row, col, 0.1, vol, 0.1)
			if got := detectAll(pcm, 160); got != string(key) {
				t.Errorf("sox key %q vol %v: got %q", key, vol, got)
			}
		}
	}
}

func TestDetectorSoxSequence(t *testing.T) {
	// The sequence of the test notes (§3.2): d1 d5 dh d1 joined by sox, as
	// 16-bit PCM and as μ-law.
	requireTool(t, "sox")
	dir := t.TempDir()
	var files []string
	for i, key := range []byte("15#1") {
		row, col := keyFreqs(t, key)
		path := filepath.Join(dir, fmt.Sprintf("d%d.wav", i))
		run(t, "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path,
			"synth", "0.1", "sine", ftoa(row), "synth", "0.1", "sine", "mix", ftoa(col), "vol", "0.4", "pad", "0", "0.1")
		files = append(files, path)
	}
	for _, format := range [][]string{{"-b", "16"}, {"-e", "u-law"}, {"-e", "a-law"}} {
		seq := filepath.Join(dir, "seq"+strings.Join(format, "")+".wav")
		run(t, "sox", append(append(files, format...), seq)...)
		if got := detectAll(readAudio(t, seq), 160); got != "15#1" {
			t.Errorf("sox sequence %v: got %q, want %q", format, got, "15#1")
		}
	}
}

// g711RoundTrip encodes pcm to G.711 and back.
func g711RoundTrip(pcm []int16, alaw bool) []int16 {
	out := make([]int16, len(pcm))
	for i, s := range pcm {
		if alaw {
			out[i] = g711.DecodeAlawFrame(g711.EncodeAlawFrame(s))
		} else {
			out[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(s))
		}
	}
	return out
}

func TestDetectorG711(t *testing.T) {
	for _, alaw := range []bool{false, true} {
		for _, level := range []float64{-6.5, -20, -35} {
			var pcm []int16
			for i := 0; i < len(allKeys); i++ {
				pcm = concatPCM(pcm, AppendTone(nil, allKeys[i], 800, dBFS(level)), silence(800))
			}
			if got := detectAll(g711RoundTrip(pcm, alaw), 160); got != allKeys {
				t.Errorf("G.711 (a-law %v) at %.1f dBFS: got %q, want %q", alaw, level, got, allKeys)
			}
		}
		// Off-frequency tones stay rejected after G.711.
		row, col := keyFreqs(t, '0')
		pcm := withSilence(dualTone(row*1.035, col, 0.2, 0.2, 800))
		if got := detectAll(g711RoundTrip(pcm, alaw), 160); got != "" {
			t.Errorf("G.711 (a-law %v) of a +3.5%% row tone: got %q", alaw, got)
		}
	}
}

// talkOffTexts are read by several voices; none of it may produce a digit.
var talkOffTexts = []string{
	"Hello, thank you for calling Voxgate. Please press one for sales, two for support, or stay on the line.",
	"one two three four five six seven eight nine zero, star, pound, hash.",
	"Your account number is 4 7 1 9 3 3 8 0 2 6, and your PIN is 5 5 5 1. Press star to return, or pound to continue.",
	"The quick brown fox jumps over the lazy dog while the birds sing a high melody. Whee! Ooh, aah, eee, mmm.",
	"We are experiencing higher than normal call volumes. Your call is important to us; please hold.",
}

var talkOffVoices = []string{"en-us", "en-gb", "en-us+f3", "en-gb+f3", "en-us+f5", "en-us+m7", "en-us+klatt", "en-029"}

func TestDetectorSpeechTalkOff(t *testing.T) {
	for _, voice := range talkOffVoices {
		for _, text := range talkOffTexts {
			pcm := speech(t, voice, text)
			if len(pcm) < 8000 {
				t.Fatalf("espeak-ng %s gave only %d samples", voice, len(pcm))
			}
			for _, variant := range []struct {
				name string
				pcm  []int16
			}{
				{"pcm", pcm},
				{"μ-law", g711RoundTrip(pcm, false)},
				{"a-law", g711RoundTrip(pcm, true)},
			} {
				if got := detectAll(variant.pcm, 160); got != "" {
					t.Errorf("%s speech (%s) %q: detected %q", voice, variant.name, text[:20], got)
				}
			}
		}
	}
}

func TestDetectorKeyOverSpeech(t *testing.T) {
	// A key pressed while the caller keeps talking 15 dB below the tones.
	talk := speech(t, "en-us", talkOffTexts[0])
	quiet := make([]int16, len(talk))
	peak := 0.0
	for _, s := range talk {
		peak = max(peak, math.Abs(float64(s)))
	}
	gain := dBFS(-14-15) * 32767 / peak
	for i, s := range talk {
		quiet[i] = clip16(float64(s) * gain)
	}
	tone := concatPCM(AppendTone(nil, '9', 800, dBFS(-14)), silence(1600), AppendTone(nil, '#', 800, dBFS(-14)))
	mix := make([]int16, len(quiet))
	copy(mix, quiet)
	for i, s := range tone {
		mix[8000+i] = clip16(float64(mix[8000+i]) + float64(s))
	}
	if got := detectAll(mix, 160); got != "9#" {
		t.Errorf("keys over speech: got %q, want %q", got, "9#")
	}
}

func TestDetectorFrameNoAlloc(t *testing.T) {
	d := NewDetector()
	pcm := concatPCM(AppendTone(nil, '4', 1600, 0.2), silence(800))
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		off := (i * 160) % len(pcm)
		d.Frame(pcm[off : off+160])
		i++
	})
	if allocs != 0 {
		t.Errorf("Frame allocates %.2f times per frame", allocs)
	}
}

func TestDetectorNoise(t *testing.T) {
	// Noise alone, at several levels, is no key.
	for _, amp := range []int{100, 3000, 30000} {
		if got := detectAll(noise(8000*5, amp), 160); got != "" {
			t.Errorf("noise ±%d: got %q", amp, got)
		}
	}
	// Keys with noise 15 dB below the two tones are still found.
	var pcm []int16
	for i := 0; i < len(allKeys); i++ {
		pcm = concatPCM(pcm, AppendTone(nil, allKeys[i], 800, dBFS(-20)), silence(800))
	}
	// Uniform noise in ±a has power a²/3; the two tones 2·(A²/2) = A².
	a := int(dBFS(-20) * 32767 * math.Sqrt(3) * dBFS(-15))
	n := noise(len(pcm), a)
	for i := range pcm {
		pcm[i] += n[i]
	}
	if got := detectAll(pcm, 160); got != allKeys {
		t.Errorf("keys with noise 15 dB down: got %q, want %q", got, allKeys)
	}
}
