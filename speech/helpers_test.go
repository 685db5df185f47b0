package speech

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/voxgate/voxgate/media"
)

// say renders text with espeak-ng, as a phone would carry it: 8 kHz
// μ-law (sox), decoded to PCM, with half a second of silence either side.
func say(t testing.TB, text string) []int16 {
	t.Helper()
	dir := t.TempDir()
	wav, ul := filepath.Join(dir, "say.wav"), filepath.Join(dir, "say.ul")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	if out, err := exec.Command("sox", wav, "-r", "8000", "-c", "1", "-t", "ul", ul, "pad", "0.5", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	data, err := os.ReadFile(ul)
	if err != nil {
		t.Fatal(err)
	}
	return media.PCMU.Decode(nil, data)
}

// frames cuts pcm into 20 ms frames (the last one padded with silence).
func frames(pcm []int16) [][]int16 {
	var out [][]int16
	for len(pcm) > 0 {
		f := make([]int16, media.FrameSamples)
		n := copy(f, pcm)
		pcm = pcm[n:]
		out = append(out, f)
	}
	return out
}
