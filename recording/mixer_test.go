package recording

import (
	"testing"
	"time"

	"github.com/voxgate/voxgate/clock"
	"github.com/voxgate/voxgate/clock/clocktest"
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
	m := NewMixer(out, false, nil)
	a, b := m.Sides()
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
	if _, err := m.Finish(false); err != nil || len(out.frames) != 3+maxMixLag+2 {
		t.Fatalf("finish: %v, %d frames", err, len(out.frames))
	}
	a.WriteFrame(constFrame(30000))
	b.WriteFrame(constFrame(30000))
	if got := out.frames[len(out.frames)-1][0]; got != 32767 {
		t.Errorf("sum clipped to %d, want 32767", got)
	}
}

// TestClockedMixerFillsGaps: when neither side sends anything for a
// while the mixer writes silence for it; Rebase leaves the time out.
func TestClockedMixerFillsGaps(t *testing.T) {
	clock := clocktest.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	out := &frameSink{}
	m := NewMixer(out, false, clock)
	_ = m.Write(0, constFrame(5))
	clock.Advance(time.Second)
	_ = m.Write(0, constFrame(5))
	if n, _ := m.Finish(true); n != 51 || len(out.frames) != 51 || out.frames[1][0] != 0 || out.frames[50][0] != 5 {
		t.Fatalf("wrote %d frames, want 51: a frame, 49 silent ones, a frame at 1 s", n)
	}
	out = &frameSink{}
	m = NewMixer(out, true, clock)
	_ = m.Write(1, constFrame(7))
	clock.Advance(time.Second)
	m.Rebase(clock.Now())
	_ = m.Write(1, constFrame(7))
	if n, _ := m.Finish(false); n != 2 || len(out.frames[0]) != 2*media.FrameSamples || out.frames[0][0] != 0 || out.frames[0][1] != 7 {
		t.Fatalf("stereo after rebase: %d frames, first %v...", n, out.frames[0][:4])
	}
}

// TestCallRecordingHotPathDoesNotAllocate: once warm, a frame each way
// through the sides, the mixer and the WAV file allocates nothing.
func TestCallRecordingHotPathDoesNotAllocate(t *testing.T) {
	rec := New(Config{Dir: t.TempDir()})
	f, err := rec.Create(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Discard()
	for _, stereo := range []bool{false, true} {
		r := &callRecording{mix: NewMixer(f, stereo, clock.Real)}
		in, out := &side{r, 0}, &side{r, 1}
		frame := make([]int16, media.FrameSamples)
		step := func() {
			_ = out.WriteFrame(frame)
			_ = in.WriteFrame(frame)
		}
		for range 20 {
			step()
		}
		if allocs := testing.AllocsPerRun(500, step); allocs != 0 {
			t.Errorf("stereo=%v: %.1f allocations per frame pair, want 0", stereo, allocs)
		}
	}
}
