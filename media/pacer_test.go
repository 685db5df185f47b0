package media

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	tests := []struct {
		name        string
		wakeups     []time.Duration // when each Tick happens, after start
		wantFrames  []int64
		wantSkipped []int64
		wantNext    time.Duration // Deadline after the last tick, after start
	}{
		{"on time", []time.Duration{0, 20 * ms, 40 * ms}, []int64{0, 1, 2}, []int64{0, 0, 0}, 60 * ms},
		{"jitter does not drift", []time.Duration{3 * ms, 25 * ms, 41 * ms}, []int64{0, 1, 2}, []int64{0, 0, 0}, 60 * ms},
		{"late but catches up", []time.Duration{0, 70 * ms, 70 * ms, 70 * ms, 80 * ms}, []int64{0, 1, 2, 3, 4}, []int64{0, 0, 0, 0, 0}, 100 * ms},
		{"far too late skips", []time.Duration{0, 205 * ms, 220 * ms}, []int64{0, 10, 11}, []int64{0, 9, 0}, 240 * ms},
		{"late first tick", []time.Duration{500 * ms}, []int64{25}, []int64{25}, 520 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(start, FrameDuration)
			if d := p.Deadline(); !d.Equal(start) {
				t.Fatalf("first deadline %v, want start", d.Sub(start))
			}
			for i, w := range tc.wakeups {
				frame, skipped := p.Tick(start.Add(w))
				if frame != tc.wantFrames[i] || skipped != tc.wantSkipped[i] {
					t.Errorf("tick %d at %v: frame %d skipped %d, want %d and %d",
						i, w, frame, skipped, tc.wantFrames[i], tc.wantSkipped[i])
				}
			}
			if got := p.Deadline().Sub(start); got != tc.wantNext {
				t.Errorf("next deadline %v, want %v", got, tc.wantNext)
			}
		})
	}
}
