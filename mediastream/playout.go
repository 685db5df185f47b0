package mediastream

import "sync"

// ulawSilence is μ-law's zero.
const ulawSilence = 0xFF

// playout is a bidirectional stream's queue of audio the server sent, with
// the marks placed between it. The server's reader appends; the call's
// pacer takes one 20 ms frame at a time. Marks are returned to the caller
// (to be echoed) once the audio queued before them has been taken.
type playout struct {
	mu    sync.Mutex
	buf   []byte // queued μ-law; buf[head:] is still to play
	head  int
	marks []pendingMark
	max   int // bytes; beyond it audio is discarded (31931)
	// played counts bytes taken since the stream started; mark positions
	// are in the same units.
	played    uint64
	discarded uint64
}

type pendingMark struct {
	at   uint64 // played count at which the mark is reached
	name string
}

func newPlayout(maxBytes int) *playout {
	return &playout{max: maxBytes}
}

// queued is the number of bytes still to play; mu held.
func (p *playout) queued() int { return len(p.buf) - p.head }

// push appends audio. It returns how many bytes were discarded because
// the queue was full.
func (p *playout) push(audio []byte) (discarded int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	room := p.max - p.queued()
	if room < len(audio) {
		discarded = len(audio) - max(room, 0)
		audio = audio[:max(room, 0)]
		p.discarded += uint64(discarded)
	}
	if p.head > 0 && p.head >= len(p.buf)/2 {
		n := copy(p.buf, p.buf[p.head:])
		p.buf = p.buf[:n]
		p.head = 0
	}
	p.buf = append(p.buf, audio...)
	return discarded
}

// mark queues a mark after the audio pushed so far. It reports true when
// nothing is queued: the mark is reached at once and not kept.
func (p *playout) mark(name string) (reached bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued() == 0 {
		return true
	}
	p.marks = append(p.marks, pendingMark{at: p.played + uint64(p.queued()), name: name})
	return false
}

// maxMarksPerFrame bounds the marks take reports for one frame; more are
// reported with the next frame.
const maxMarksPerFrame = 8

// take fills frame (μ-law, normally 160 bytes) with the next audio,
// padding with silence, and copies into names the marks whose audio has
// now all been taken, in order; it returns how many.
func (p *playout) take(frame []byte, names *[maxMarksPerFrame]string) int {
	p.mu.Lock()
	n := copy(frame, p.buf[p.head:])
	p.head += n
	p.played += uint64(n)
	if p.head == len(p.buf) {
		p.buf, p.head = p.buf[:0], 0
	}
	k := 0
	for k < len(p.marks) && k < len(names) && p.marks[k].at <= p.played {
		names[k] = p.marks[k].name
		k++
	}
	if k > 0 {
		p.marks = p.marks[:copy(p.marks, p.marks[k:])]
	}
	p.mu.Unlock()
	for i := n; i < len(frame); i++ {
		frame[i] = ulawSilence
	}
	return k
}

// clear drops all queued audio and returns the pending marks in order.
func (p *playout) clear() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.played += uint64(p.queued())
	p.buf, p.head = p.buf[:0], 0
	names := make([]string, len(p.marks))
	for i, m := range p.marks {
		names[i] = m.name
	}
	p.marks = p.marks[:0]
	return names
}
