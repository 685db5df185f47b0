package main

import "time"

// histogram counts durations in fixed 10 µs buckets up to 1 s (longer ones
// land in the last bucket, the exact maximum is kept apart), so percentiles
// of millions of samples need no sorting and little memory.
type histogram struct {
	buckets [histBuckets]uint64
	count   uint64
	max     time.Duration
}

const (
	histResolution = 10 * time.Microsecond
	histBuckets    = int(time.Second / histResolution)
)

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := min(int(d/histResolution), histBuckets-1)
	h.buckets[i]++
	h.count++
	h.max = max(h.max, d)
}

// quantile returns the upper edge of the bucket holding the q-th quantile
// (0 < q <= 1), capped at the maximum seen: accurate to 10 µs.
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(q*float64(h.count) + 0.5)
	rank = max(1, min(rank, h.count))
	var seen uint64
	for i, n := range h.buckets {
		seen += n
		if seen >= rank {
			if i == histBuckets-1 {
				return h.max // the overflow bucket
			}
			return min(time.Duration(i+1)*histResolution, h.max)
		}
	}
	return h.max
}
