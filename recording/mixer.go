package recording

import (
	"sync"
	"time"

	"github.com/voxgate/voxgate/clock"
	"github.com/voxgate/voxgate/media"
)

// maxMixLag is how many frames one side may run ahead of the other before
// it is written mixed with silence (the other side stalled or is silent).
const maxMixLag = 5

// mixGap is how long neither side may deliver a frame before a clocked
// mixer counts it as a gap in the audio (a <Pause> with a caller sending
// no RTP) and writes silence for it, so the recording keeps real time.
const mixGap = (maxMixLag + 2) * media.FrameDuration

// Mixer records both directions of a call into one stream: frames from
// side A and side B (on two goroutines: a leg's receive loop and a pacer)
// are paired in arrival order and either summed into one mono frame or,
// for a stereo mixer, interleaved into a two-channel frame (A left, B
// right). Once warmed up it does not allocate: frame buffers are reused
// and the pending queues never grow past maxMixLag+1.
type Mixer struct {
	mu     sync.Mutex
	out    media.Sink
	stereo bool
	a, b   [][]int16 // pending frames of each side
	free   [][]int16 // frame buffers for reuse
	mix    []int16
	frames int    // frames written to out
	in     [2]int // frames received from side A and side B
	err    error

	// A clocked mixer (clock != nil) fills gaps where neither side sent
	// anything with silence: t0 is when frame 0 was due, last when the
	// last frame arrived.
	clock    clock.Clock
	t0, last time.Time
}

// NewMixer returns a mixer writing to out: mono, or stereo with side A on
// the left channel and side B on the right. With a clock it fills gaps in
// which neither side sends anything with silence, from now on; without
// one (a bridge's recording, whose sides never pause) it does not.
func NewMixer(out media.Sink, stereo bool, clk clock.Clock) *Mixer {
	m := &Mixer{out: out, stereo: stereo, mix: make([]int16, 2*media.FrameSamples), clock: clk}
	if clk != nil {
		m.t0 = clk.Now()
		m.last = m.t0
	}
	return m
}

// Sides returns the sinks of side A and side B (as a bridge's TapA and
// TapB, say).
func (m *Mixer) Sides() (a, b media.Sink) {
	return &mixSide{m, 0}, &mixSide{m, 1}
}

type mixSide struct {
	m    *Mixer
	side int
}

func (s *mixSide) WriteFrame(p []int16) error { return s.m.Write(s.side, p) }

// Write hands one frame of side (0 for A, 1 for B) to the mixer. Once the
// output failed it returns that error, and Finish does too.
func (m *Mixer) Write(side int, p []int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.in[side]++
	if m.clock != nil {
		now := m.clock.Now()
		if now.Sub(m.last) > mixGap {
			m.drain()
			m.fillTo(now)
		}
		m.last = now
	}
	var buf []int16
	if n := len(m.free); n > 0 {
		buf, m.free = m.free[n-1][:0], m.free[:n-1]
	}
	buf = append(buf, p...)
	if side == 0 {
		m.a = append(m.a, buf)
	} else {
		m.b = append(m.b, buf)
	}
	for len(m.a) > 0 && len(m.b) > 0 {
		m.emit(m.a[0], m.b[0])
		m.a, m.b = popFront(m.a), popFront(m.b)
	}
	for len(m.a) > maxMixLag {
		m.emit(m.a[0], nil)
		m.a = popFront(m.a)
	}
	for len(m.b) > maxMixLag {
		m.emit(nil, m.b[0])
		m.b = popFront(m.b)
	}
	return m.err
}

// popFront drops q[0] in place, so the queue's array is reused.
func popFront(q [][]int16) [][]int16 {
	copy(q, q[1:])
	q[len(q)-1] = nil
	return q[:len(q)-1]
}

// emit writes one mixed frame and recycles its inputs.
func (m *Mixer) emit(a, b []int16) {
	n := max(len(a), len(b))
	if need := 2 * n; cap(m.mix) < need { // frames are FrameSamples long: never after the first
		m.mix = make([]int16, need)
	}
	var mix []int16
	if m.stereo {
		mix = m.mix[:2*n]
		for i := 0; i < n; i++ {
			var l, r int16
			if i < len(a) {
				l = a[i]
			}
			if i < len(b) {
				r = b[i]
			}
			mix[2*i], mix[2*i+1] = l, r
		}
	} else {
		mix = m.mix[:n]
		for i := range mix {
			var v int32
			if i < len(a) {
				v += int32(a[i])
			}
			if i < len(b) {
				v += int32(b[i])
			}
			mix[i] = int16(max(-32768, min(32767, v)))
		}
	}
	m.put(mix)
	if a != nil {
		m.free = append(m.free, a)
	}
	if b != nil {
		m.free = append(m.free, b)
	}
}

// put writes one output frame.
func (m *Mixer) put(frame []int16) {
	if m.err == nil {
		m.err = m.out.WriteFrame(frame)
		m.frames++
	}
}

// drain writes every pending frame, each side's alone.
func (m *Mixer) drain() {
	for _, f := range m.a {
		m.emit(f, nil)
	}
	for _, f := range m.b {
		m.emit(nil, f)
	}
	clear(m.a)
	clear(m.b)
	m.a, m.b = m.a[:0], m.b[:0]
}

// fillTo writes silent frames until the output reaches the frame due at
// now. The caller holds mu and has drained the queues.
func (m *Mixer) fillTo(now time.Time) {
	due := int(now.Sub(m.t0) / media.FrameDuration)
	if m.frames >= due {
		return
	}
	width := media.FrameSamples
	if m.stereo {
		width *= 2
	}
	silence := m.mix[:width]
	clear(silence)
	for m.frames < due && m.err == nil {
		m.put(silence)
	}
}

// Rebase makes now the time of the next frame: time that passed since
// the last frame is not a gap (a pause that skips).
func (m *Mixer) Rebase(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pending := max(len(m.a), len(m.b))
	m.t0 = now.Add(-time.Duration(m.frames+pending) * media.FrameDuration)
	m.last = now
}

// Received returns how many frames each side delivered.
func (m *Mixer) Received() (a, b int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.in[0], m.in[1]
}

// Finish writes what is still pending and, for a clocked mixer that
// wrote anything, silence up to now when fillTail is set (the call ended
// in a gap). It returns how many frames were written.
func (m *Mixer) Finish(fillTail bool) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	if fillTail && m.clock != nil && m.frames > 0 {
		if now := m.clock.Now(); now.Sub(m.last) > mixGap {
			m.fillTo(now)
		}
	}
	return m.frames, m.err
}
