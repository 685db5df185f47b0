package ivr

import (
	"testing"

	"github.com/voxgate/voxgate/media"
)

type frameSink struct{ frames [][]int16 }

func (s *frameSink) WriteFrame(p []int16) error {
	s.frames = append(s.frames, append([]int16(nil), p...))
	return nil
}

func constFrame(v int16) []int16 {
	f := make([]int16, media.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestMixerPairsAndSums(t *testing.T) {
	out := &frameSink{}
	m := newMixer(out)
	a, b := m.sides()
	for i := 0; i < 3; i++ {
		a.WriteFrame(constFrame(100))
		b.WriteFrame(constFrame(20))
	}
	if len(out.frames) != 3 || out.frames[0][0] != 120 {
		t.Fatalf("mixed %d frames, first sample %v; want 3 frames of 120", len(out.frames), out.frames)
	}
	// One side alone runs ahead only maxMixLag frames before it is written.
	for i := 0; i < maxMixLag+2; i++ {
		a.WriteFrame(constFrame(7))
	}
	if len(out.frames) != 5 || out.frames[3][0] != 7 {
		t.Fatalf("with b silent: %d frames written", len(out.frames))
	}
	if err := m.flush(); err != nil || len(out.frames) != 3+maxMixLag+2 {
		t.Fatalf("flush: %v, %d frames", err, len(out.frames))
	}
	a.WriteFrame(constFrame(30000))
	b.WriteFrame(constFrame(30000))
	if got := out.frames[len(out.frames)-1][0]; got != 32767 {
		t.Errorf("sum clipped to %d, want 32767", got)
	}
}
