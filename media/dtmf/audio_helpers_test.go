package dtmf

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// requireTool fails the test when a required command-line tool is missing,
// and skips it in -short mode.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not running %s", name)
	}
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is required for this test (apt-get install %s): %v", name, name, err)
	}
}

// run runs a command and fails the test on error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.String())
	}
	return out
}

// readAudio decodes any audio file sox understands to 8 kHz mono int16.
func readAudio(t testing.TB, path string) []int16 {
	t.Helper()
	requireTool(t, "sox")
	raw := run(t, "sox", path, "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-L", "-")
	pcm := make([]int16, len(raw)/2)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, pcm); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return pcm
}

// soxTone renders a DTMF tone for key with sox, the way the test notes do:
// two sines at the given frequencies mixed, then scaled by vol, then padded
// with silence. It returns the 8 kHz samples.
func soxTone(t testing.TB, rowHz, colHz float64, seconds, vol, padSeconds float64) []int16 {
	t.Helper()
	requireTool(t, "sox")
	path := filepath.Join(t.TempDir(), "tone.wav")
	run(t, "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", path,
		"synth", ftoa(seconds), "sine", ftoa(rowHz),
		"synth", ftoa(seconds), "sine", "mix", ftoa(colHz),
		"vol", ftoa(vol), "pad", "0", ftoa(padSeconds))
	return readAudio(t, path)
}

// speech renders text with espeak-ng in voice (22050 Hz) and downsamples it
// to 8 kHz with sox, as the test notes do.
func speech(t testing.TB, voice, text string) []int16 {
	t.Helper()
	requireTool(t, "espeak-ng")
	requireTool(t, "sox")
	dir := t.TempDir()
	wide, narrow := filepath.Join(dir, "speech22k.wav"), filepath.Join(dir, "speech8k.wav")
	run(t, "espeak-ng", "-v", voice, "-w", wide, text)
	run(t, "sox", wide, "-r", "8000", "-c", "1", "-b", "16", narrow)
	return readAudio(t, narrow)
}

// detectAll feeds pcm to a new Detector in frames of frameSize samples and
// returns every key it reports, in order.
func detectAll(pcm []int16, frameSize int) string {
	d := NewDetector()
	var keys []byte
	for len(pcm) > 0 {
		n := min(frameSize, len(pcm))
		if k, ok := d.Frame(pcm[:n]); ok {
			keys = append(keys, k)
		}
		pcm = pcm[n:]
	}
	// Flush: silence lets a key still waiting in the queue come out.
	silence := make([]int16, frameSize)
	for range 4 {
		if k, ok := d.Frame(silence); ok {
			keys = append(keys, k)
		}
	}
	return string(keys)
}

// ftoa formats a float for a command line.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
