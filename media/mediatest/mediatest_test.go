package mediatest

import (
	"slices"
	"testing"
)

func TestCollectSinkKeepsFramesInOrder(t *testing.T) {
	var s CollectSink
	_ = s.WriteFrame([]int16{1, 2})
	got := s.Samples()
	_ = s.WriteFrame([]int16{3})
	if !slices.Equal(got, []int16{1, 2}) {
		t.Fatalf("first snapshot %v", got)
	}
	if got := s.Samples(); !slices.Equal(got, []int16{1, 2, 3}) {
		t.Fatalf("Samples() = %v, want [1 2 3]", got)
	}
}
