package media

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// labelledFrame is a frame that carries its label k (1-based) in sample 0
// and is otherwise a non-silent constant, so a read tells a frame from
// silence and which frame it was.
func labelledFrame(k int) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = 1000
	}
	f[0] = int16(k)
	return f
}

// label returns the label of a frame made by labelledFrame, or 0 for
// silence; it fails the test on anything else.
func label(t *testing.T, f []int16) int {
	t.Helper()
	if f[0] == 0 && !slices.ContainsFunc(f, func(s int16) bool { return s != 0 }) {
		return 0
	}
	if f[0] <= 0 || slices.ContainsFunc(f[1:], func(s int16) bool { return s != 1000 }) {
		t.Fatalf("frame is neither silence nor a labelled frame: %v...", f[:4])
	}
	return int(f[0])
}

// readLabels reads n frames from j and returns their labels.
func readLabels(t *testing.T, j *JitterBuffer, n int) []int {
	t.Helper()
	out := make([]int, n)
	f := make([]int16, FrameSamples)
	for i := range out {
		if got, err := j.ReadFrame(f); got != FrameSamples || err != nil {
			t.Fatalf("ReadFrame = %d, %v; want %d, nil", got, err, FrameSamples)
		}
		out[i] = label(t, f)
	}
	return out
}

// writeLabels writes the labelled frames from..to (inclusive) to j.
func writeLabels(t *testing.T, j *JitterBuffer, from, to int) {
	t.Helper()
	for k := from; k <= to; k++ {
		if err := j.WriteFrame(labelledFrame(k)); err != nil {
			t.Fatalf("WriteFrame: %v", err)
		}
	}
}

func TestJitterBufferSizing(t *testing.T) {
	tests := []struct {
		target              int
		wantTarget, wantCap int
	}{
		{target: 0, wantTarget: DefaultJitterFrames, wantCap: 6},
		{target: -4, wantTarget: DefaultJitterFrames, wantCap: 6},
		{target: 1, wantTarget: 1, wantCap: 4},
		{target: 3, wantTarget: 3, wantCap: 6},
		{target: 5, wantTarget: 5, wantCap: 10},
		{target: 1000, wantTarget: MaxJitterFrames, wantCap: 2 * MaxJitterFrames},
	}
	for _, tc := range tests {
		j := NewJitterBuffer(tc.target)
		if j.Target() != tc.wantTarget || j.Capacity() != tc.wantCap {
			t.Errorf("NewJitterBuffer(%d): target %d, capacity %d; want %d, %d",
				tc.target, j.Target(), j.Capacity(), tc.wantTarget, tc.wantCap)
		}
	}
}

func TestJitterBufferKeepsOrder(t *testing.T) {
	j := NewJitterBuffer(3)
	if got := readLabels(t, j, 2); !slices.Equal(got, []int{0, 0}) {
		t.Fatalf("reads before any write: %v, want silence", got)
	}
	writeLabels(t, j, 1, 5)
	if got := readLabels(t, j, 5); !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("reads: %v, want 1..5", got)
	}
	st := j.Stats()
	want := JitterStats{Written: 5, Read: 5, Silent: 2}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

// TestJitterBufferAnyChunkSizes writes and reads samples in pieces that are
// not whole frames: the sample sequence must come out unchanged.
func TestJitterBufferAnyChunkSizes(t *testing.T) {
	const frames = 20
	signal := make([]int16, frames*FrameSamples)
	for i := range signal {
		signal[i] = int16(i%30000 + 1)
	}
	for _, write := range []int{FrameSamples, 1, 70, 2 * FrameSamples, 3*FrameSamples + 7} {
		for _, read := range []int{FrameSamples, 1, 100, 3 * FrameSamples} {
			j := NewJitterBuffer(frames / 2) // capacity 20 frames: nothing is dropped
			for rest := signal; len(rest) > 0; {
				n := min(write, len(rest))
				if err := j.WriteFrame(rest[:n]); err != nil {
					t.Fatalf("WriteFrame: %v", err)
				}
				rest = rest[n:]
			}
			var got []int16
			buf := make([]int16, read)
			for len(got) < len(signal) {
				n, err := j.ReadFrame(buf)
				if n != read || err != nil {
					t.Fatalf("ReadFrame(%d) = %d, %v", read, n, err)
				}
				got = append(got, buf...)
			}
			if !slices.Equal(got[:len(signal)], signal) {
				t.Errorf("write %d, read %d: samples changed", write, read)
			}
			if st := j.Stats(); st.Dropped != 0 || st.Written != frames {
				t.Errorf("write %d, read %d: stats %+v", write, read, st)
			}
		}
	}
}

func TestJitterBufferUnderrunRefills(t *testing.T) {
	j := NewJitterBuffer(3)
	writeLabels(t, j, 1, 3)
	if got := readLabels(t, j, 4); !slices.Equal(got, []int{1, 2, 3, 0}) {
		t.Fatalf("reads: %v, want 1 2 3 then silence", got)
	}
	// Refilling: silence until the target depth is back, then audio in order.
	for k := 4; k <= 6; k++ {
		writeLabels(t, j, k, k)
		want := 0
		if k == 6 {
			want = 4
		}
		if got := readLabels(t, j, 1); got[0] != want {
			t.Fatalf("read after writing frame %d: %d, want %d", k, got[0], want)
		}
	}
	if got := readLabels(t, j, 3); !slices.Equal(got, []int{5, 6, 0}) {
		t.Fatalf("reads: %v, want 5 6 then silence", got)
	}
	st := j.Stats()
	want := JitterStats{Written: 6, Read: 6, Silent: 4, Underruns: 2}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

func TestJitterBufferOverflowDropsOldest(t *testing.T) {
	tests := []struct {
		target, write int
		want          []int
		dropped       uint64
	}{
		{target: 3, write: 6, want: []int{1, 2, 3, 4, 5, 6}},
		{target: 3, write: 9, want: []int{4, 5, 6, 7, 8, 9}, dropped: 3},
		{target: 1, write: 7, want: []int{4, 5, 6, 7}, dropped: 3},
	}
	for _, tc := range tests {
		j := NewJitterBuffer(tc.target)
		writeLabels(t, j, 1, tc.write)
		if st := j.Stats(); st.Dropped != tc.dropped || st.Depth != len(tc.want) {
			t.Errorf("target %d, %d written: stats %+v, want %d dropped, depth %d",
				tc.target, tc.write, st, tc.dropped, len(tc.want))
		}
		if got := readLabels(t, j, len(tc.want)); !slices.Equal(got, tc.want) {
			t.Errorf("target %d, %d written: reads %v, want %v", tc.target, tc.write, got, tc.want)
		}
	}
}

// TestJitterBufferTrimsStandingLatency starts with twice the target
// buffered and then writes one frame per read: after one window of reads
// the excess is dropped and the depth is back at the target.
func TestJitterBufferTrimsStandingLatency(t *testing.T) {
	j := NewJitterBuffer(3)
	writeLabels(t, j, 1, 6)
	next := 7
	var got []int
	for range jitterTrimWindow + 5 {
		got = append(got, readLabels(t, j, 1)...)
		writeLabels(t, j, next, next)
		next++
	}
	// The first reads of the window give frames 1..49, each at depth 6;
	// the window's last read drops the 3 oldest (50, 51, 52) and gives 53.
	want := make([]int, 0, len(got))
	for k := 1; k < jitterTrimWindow; k++ {
		want = append(want, k)
	}
	for k := jitterTrimWindow + 3; len(want) < len(got); k++ {
		want = append(want, k)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reads %v\nwant %v", got, want)
	}
	if st := j.Stats(); st.Trimmed != 3 || st.Depth != 3 || st.Dropped != 0 {
		t.Fatalf("stats %+v, want 3 trimmed, depth 3", st)
	}
}

// TestJitterBufferClockMismatch runs a producer and a consumer on a
// simulated clock for five minutes: the consumer reads every 20 ms, the
// producer writes at a rate off by skew, each frame arriving up to
// maxJitter late (in order). Latency must stay bounded and the audio lost
// or concealed must match the clock difference.
func TestJitterBufferClockMismatch(t *testing.T) {
	const (
		reads  = 15000 // 5 minutes
		target = 3
	)
	tests := []struct {
		name      string
		skew      float64 // producer rate / consumer rate - 1
		maxJitter time.Duration
	}{
		{name: "same clock", skew: 0},
		{name: "producer 1% faster", skew: 0.01},
		{name: "producer 1% slower", skew: -0.01},
		{name: "producer 0.1% faster, 30 ms jitter", skew: 0.001, maxJitter: 30 * time.Millisecond},
		{name: "producer 1% faster, 30 ms jitter", skew: 0.01, maxJitter: 30 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			j := NewJitterBuffer(target)
			period := time.Duration(float64(FrameDuration) / (1 + tc.skew))
			// Frame k (0-based) arrives at arrival[k]: never before an
			// earlier frame, as the RTP leg drops late packets.
			arrival := make([]time.Duration, int(float64(reads)*(1+tc.skew))+10)
			for k := range arrival {
				arrival[k] = time.Duration(k)*period + time.Duration(rng.Int64N(int64(tc.maxJitter)+1))
				if k > 0 {
					arrival[k] = max(arrival[k], arrival[k-1])
				}
			}
			frame := make([]int16, FrameSamples)
			written := 0
			var maxLatency, lateSum time.Duration
			var lateReads int
			lastLabel := 0
			for r := range reads {
				now := time.Duration(r) * FrameDuration
				for written < len(arrival) && arrival[written] <= now {
					writeLabels(t, j, written+1, written+1)
					written++
				}
				if _, err := j.ReadFrame(frame); err != nil {
					t.Fatal(err)
				}
				k := label(t, frame)
				if k == 0 {
					continue
				}
				if k <= lastLabel {
					t.Fatalf("read %d: frame %d after frame %d", r, k, lastLabel)
				}
				lastLabel = k
				latency := now - arrival[k-1]
				maxLatency = max(maxLatency, latency)
				if r >= reads-3000 { // the last minute
					lateSum += latency
					lateReads++
				}
			}
			st := j.Stats()
			mean := lateSum / time.Duration(max(lateReads, 1))
			t.Logf("max latency %v, last minute mean %v; %+v", maxLatency, mean, st)

			// Bounded: never more than a full ring, and near the target at
			// the end however long the call.
			if limit := time.Duration(j.Capacity()) * FrameDuration; maxLatency > limit {
				t.Errorf("max latency %v, want <= %v", maxLatency, limit)
			}
			if limit := time.Duration(target+1) * FrameDuration; mean > limit {
				t.Errorf("last minute mean latency %v, want <= %v", mean, limit)
			}
			// What was lost or concealed follows from the clock difference
			// (1% of 15000 frames is 150), with a margin for jitter.
			lost := int(st.Dropped + st.Trimmed)
			if limit := int(max(tc.skew, 0)*reads) + reads/200; lost > limit {
				t.Errorf("%d frames dropped or trimmed, want <= %d", lost, limit)
			}
			if limit := int(max(-tc.skew, 0)*reads)*(target+1) + reads/200; int(st.Silent) > limit {
				t.Errorf("%d silent frames read, want <= %d", st.Silent, limit)
			}
			if tc.skew == 0 && tc.maxJitter == 0 && (lost != 0 || st.Silent != target-1) {
				t.Errorf("same clock without jitter: %d lost, %d silent; want 0, %d", lost, st.Silent, target-1)
			}
		})
	}
}

func TestJitterBufferAllocatesNothing(t *testing.T) {
	j := NewJitterBuffer(3)
	in := labelledFrame(1)
	out := make([]int16, FrameSamples)
	short := make([]int16, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		j.WriteFrame(in)
		j.WriteFrame(in[:70])
		j.ReadFrame(out)
		j.ReadFrame(short)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per write and read, want 0", allocs)
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	j := NewJitterBuffer(DefaultJitterFrames)
	in := testSignal(FrameSamples)
	out := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		j.WriteFrame(in)
		j.ReadFrame(out)
	}
}
