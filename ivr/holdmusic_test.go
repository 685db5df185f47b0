package ivr

import (
	"math"
	"testing"
)

func TestHoldMusicIsMusic(t *testing.T) {
	pcm := holdMusic()
	if len(pcm) != 16*8000 {
		t.Fatalf("hold music is %d samples, want 16 s", len(pcm))
	}
	// Audible, never clipping, and not silent for long anywhere.
	var peak float64
	quiet := 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		var e float64
		for _, s := range pcm[i : i+160] {
			e += float64(s) * float64(s)
			peak = math.Max(peak, math.Abs(float64(s)))
		}
		if math.Sqrt(e/160) < 300 {
			quiet++
		}
	}
	if peak >= 32767 || peak < 8000 {
		t.Errorf("peak %v: want loud enough and unclipped", peak)
	}
	if quiet > 5 {
		t.Errorf("%d quiet 20 ms frames: hold music must not have gaps (callers think they were cut off)", quiet)
	}
}
