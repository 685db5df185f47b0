package ivr

import (
	"sync"

	"github.com/voxgate/voxgate/media"
)

// maxMixLag is how many frames one side may run ahead of the other before
// it is written mixed with silence (the other side stalled or is silent).
const maxMixLag = 5

// mixer records both directions of a bridge into one mono stream: frames
// from side A and side B (the bridge's taps, on two goroutines) are paired
// in arrival order and summed.
type mixer struct {
	mu   sync.Mutex
	out  media.Sink
	a, b [][]int16 // pending frames of each side
	free [][]int16 // frame buffers for reuse
	mix  []int16
	err  error
}

func newMixer(out media.Sink) *mixer {
	return &mixer{out: out, mix: make([]int16, media.FrameSamples)}
}

// sides returns the two sinks to use as the bridge's TapA and TapB.
func (m *mixer) sides() (media.Sink, media.Sink) {
	return mixSide{m, 0}, mixSide{m, 1}
}

type mixSide struct {
	m    *mixer
	side int
}

func (s mixSide) WriteFrame(p []int16) error { return s.m.write(s.side, p) }

func (m *mixer) write(side int, p []int16) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
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
		m.a, m.b = m.a[1:], m.b[1:]
	}
	for len(m.a) > maxMixLag {
		m.emit(m.a[0], nil)
		m.a = m.a[1:]
	}
	for len(m.b) > maxMixLag {
		m.emit(nil, m.b[0])
		m.b = m.b[1:]
	}
	return m.err
}

// emit writes one mixed frame and recycles its inputs.
func (m *mixer) emit(a, b []int16) {
	n := max(len(a), len(b))
	mix := m.mix[:n]
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
	if m.err == nil {
		m.err = m.out.WriteFrame(mix)
	}
	for _, f := range [][]int16{a, b} {
		if f != nil {
			m.free = append(m.free, f)
		}
	}
}

// flush writes what is still pending.
func (m *mixer) flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.a {
		m.emit(f, nil)
	}
	for _, f := range m.b {
		m.emit(nil, f)
	}
	m.a, m.b = nil, nil
	return m.err
}
