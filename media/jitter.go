package media

import "sync"

// Jitter buffer sizing, in 20 ms frames.
const (
	// DefaultJitterFrames is the default target depth of a JitterBuffer:
	// 60 ms.
	DefaultJitterFrames = 3
	// MaxJitterFrames is the largest target depth NewJitterBuffer accepts:
	// one second.
	MaxJitterFrames = 50

	// jitterBurstFrames is the largest burst a producer hands over at once
	// in normal operation: one 60 ms packet cut into 20 ms frames. The ring
	// holds at least this many frames beyond the target, so a small target
	// does not cut such packets.
	jitterBurstFrames = 3
	// jitterTrimWindow is how many reads the buffer watches for standing
	// latency: when its depth never came down to the target during that
	// many reads (one second), the excess is dropped.
	jitterTrimWindow = 50
)

// JitterBuffer carries audio from a producer that delivers frames when
// packets arrive (a leg's receive goroutine, through WriteFrame) to a
// consumer that takes one frame per tick of its own clock (another leg's
// 20 ms pacer, through ReadFrame). It absorbs arrival jitter by keeping
// about a target depth of frames, and keeps latency bounded when the two
// clocks differ:
//
//   - Reading starts only once the target depth is buffered. When the
//     buffer runs dry (underrun) the reader gets silence until the target
//     depth is buffered again, so a slow producer costs an occasional gap,
//     not a stutter on every frame.
//   - The ring holds twice the target (at least target+3 frames). Writing
//     to a full ring drops the oldest frame.
//   - When for a whole second of reads the depth never came down to the
//     target, the excess frames are dropped (oldest first): a producer
//     whose clock runs fast, or a burst after a stall, cannot leave
//     standing latency behind.
//
// It is a Sink and a Source: WriteFrame accepts any number of samples
// (whole frames are the normal case) and never fails; ReadFrame always
// fills p and never returns io.EOF. One producer and one consumer may use
// it concurrently; a small mutex guards it. Neither side allocates.
type JitterBuffer struct {
	mu      sync.Mutex
	target  int
	ring    [][FrameSamples]int16
	head    int  // index in ring of the oldest buffered frame
	count   int  // frames buffered
	filling bool // reads give silence until count reaches target

	in    [FrameSamples]int16 // written samples waiting to complete a frame
	inLen int
	out   [FrameSamples]int16 // a frame handed out in part by a short read
	outAt int                 // next sample of out to hand out; FrameSamples when used up

	windowReads int // audio reads in the current trim window
	windowMin   int // the least depth seen by those reads

	stats JitterStats
}

// JitterStats are a JitterBuffer's counters, in 20 ms frames.
type JitterStats struct {
	Depth     int    // frames buffered now
	Written   uint64 // frames written
	Read      uint64 // frames of audio read
	Silent    uint64 // frames of silence read (before the first fill and after underruns)
	Underruns uint64 // times a read found the buffer empty
	Dropped   uint64 // frames dropped because the ring was full
	Trimmed   uint64 // frames dropped to shed standing latency
}

// NewJitterBuffer returns an empty buffer that aims to hold target 20 ms
// frames. A target below 1 means DefaultJitterFrames; above
// MaxJitterFrames it is MaxJitterFrames.
func NewJitterBuffer(target int) *JitterBuffer {
	if target < 1 {
		target = DefaultJitterFrames
	}
	target = min(target, MaxJitterFrames)
	return &JitterBuffer{
		target:  target,
		ring:    make([][FrameSamples]int16, max(2*target, target+jitterBurstFrames)),
		filling: true,
		outAt:   FrameSamples,
	}
}

// Target is the depth the buffer aims for, in frames.
func (j *JitterBuffer) Target() int { return j.target }

// Capacity is the most frames the buffer holds.
func (j *JitterBuffer) Capacity() int { return len(j.ring) }

// WriteFrame adds the samples of p to the buffer, cut into 20 ms frames;
// an incomplete frame waits for the next write. It never fails and does
// not keep p.
func (j *JitterBuffer) WriteFrame(p []int16) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for len(p) > 0 {
		if j.inLen == 0 && len(p) >= FrameSamples {
			j.push(p[:FrameSamples])
			p = p[FrameSamples:]
			continue
		}
		n := copy(j.in[j.inLen:], p)
		j.inLen += n
		p = p[n:]
		if j.inLen == FrameSamples {
			j.push(j.in[:])
			j.inLen = 0
		}
	}
	return nil
}

// push appends one frame, dropping the oldest when the ring is full. The
// caller holds mu.
func (j *JitterBuffer) push(frame []int16) {
	if j.count == len(j.ring) {
		j.discard(1)
		j.stats.Dropped++
	}
	tail := j.head + j.count
	if tail >= len(j.ring) {
		tail -= len(j.ring)
	}
	copy(j.ring[tail][:], frame)
	j.count++
	j.stats.Written++
}

// discard drops the n oldest frames (n <= count). The caller holds mu.
func (j *JitterBuffer) discard(n int) {
	j.head += n
	if j.head >= len(j.ring) {
		j.head -= len(j.ring)
	}
	j.count -= n
}

// ReadFrame fills all of p with the next audio, or with silence while the
// buffer fills, and returns len(p). It never fails.
func (j *JitterBuffer) ReadFrame(p []int16) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for n := 0; n < len(p); {
		switch {
		case j.outAt < FrameSamples:
			c := copy(p[n:], j.out[j.outAt:])
			j.outAt += c
			n += c
		case len(p)-n >= FrameSamples:
			j.pop(p[n : n+FrameSamples])
			n += FrameSamples
		default:
			j.pop(j.out[:])
			j.outAt = 0
		}
	}
	return len(p), nil
}

// pop writes the next frame, or silence, into dst (FrameSamples long).
// The caller holds mu.
func (j *JitterBuffer) pop(dst []int16) {
	if j.filling {
		if j.count < j.target {
			clear(dst)
			j.stats.Silent++
			return
		}
		j.filling = false
		j.windowReads, j.windowMin = 0, j.count
	}
	if j.count == 0 {
		j.filling = true
		j.stats.Underruns++
		clear(dst)
		j.stats.Silent++
		return
	}
	j.trim()
	copy(dst, j.ring[j.head][:])
	j.discard(1)
	j.stats.Read++
}

// trim tracks the depth seen by reads and, at the end of each window,
// drops what never came down to the target. The caller holds mu.
func (j *JitterBuffer) trim() {
	j.windowMin = min(j.windowMin, j.count)
	j.windowReads++
	if j.windowReads < jitterTrimWindow {
		return
	}
	if excess := j.windowMin - j.target; excess > 0 {
		j.discard(excess)
		j.stats.Trimmed += uint64(excess)
	}
	j.windowReads, j.windowMin = 0, j.count
}

// Stats returns a snapshot of the counters.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.stats
	st.Depth = j.count
	return st
}

// Interface checks.
var (
	_ Sink   = (*JitterBuffer)(nil)
	_ Source = (*JitterBuffer)(nil)
)
