package media

import (
	"testing"
	"time"
)

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name         string
		seqs         []uint16
		wantAdvances []bool
		wantLost     uint64
	}{
		{"in order", []uint16{10, 11, 12, 13}, []bool{true, true, true, true}, 0},
		{"gap of two", []uint16{10, 11, 14, 15}, []bool{true, true, true, true}, 2},
		{"wrap", []uint16{65534, 65535, 0, 1}, []bool{true, true, true, true}, 0},
		{"loss across wrap", []uint16{65534, 1}, []bool{true, true}, 2},
		{"reordered then filled", []uint16{10, 12, 11, 13}, []bool{true, true, false, true}, 0},
		{"duplicate", []uint16{10, 11, 11, 12}, []bool{true, true, false, true}, 0},
		{"restart confirmed by two packets", []uint16{10, 11, 40000, 40001, 40002}, []bool{true, true, false, true, true}, 0},
		{"one wild packet ignored", []uint16{10, 11, 40000, 12}, []bool{true, true, false, true}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s seqTracker
			for i, seq := range tc.seqs {
				if got := s.Update(seq); got != tc.wantAdvances[i] {
					t.Errorf("Update(%d) = %v, want %v", seq, got, tc.wantAdvances[i])
				}
			}
			if got := s.Lost(); got != tc.wantLost {
				t.Errorf("Lost = %d, want %d", got, tc.wantLost)
			}
		})
	}
}

func TestJitterEstimator(t *testing.T) {
	t.Run("steady", func(t *testing.T) {
		var j jitterEstimator
		for i := range 100 {
			j.Update(int64(5000+i*160), uint32(4000000000+i*160)) // wraps the timestamp
		}
		if d := j.Duration(); d != 0 {
			t.Errorf("jitter %v for perfectly paced packets, want 0", d)
		}
	})
	t.Run("alternating 10 ms", func(t *testing.T) {
		// Every other packet arrives 10 ms (80 units) late: |D| = 80 each
		// time, so J converges to 80 units = 10 ms.
		var j jitterEstimator
		for i := range 500 {
			late := int64(0)
			if i%2 == 1 {
				late = 80
			}
			j.Update(int64(i*160)+late, uint32(i*160))
		}
		if d := j.Duration(); d < 9*time.Millisecond || d > 10*time.Millisecond {
			t.Errorf("jitter %v, want about 10ms", d)
		}
	})
}
