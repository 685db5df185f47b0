package mediastream

import (
	"sync"

	"github.com/voxgate/voxgate/media"
)

// outKind is the kind of a queued message to the server.
type outKind uint8

const (
	outMedia outKind = iota + 1
	outDTMF
	outMark
)

// outMsg is one message waiting for the writer. Media messages keep their
// audio in the slot itself, so queueing a frame allocates nothing.
type outMsg struct {
	kind  outKind
	track string
	chunk uint64
	ts    uint64 // milliseconds since the stream started
	digit byte
	name  string
	audio [frameBytes]byte
}

// outQueue holds messages for the writer: media in a fixed ring that
// drops the newest frame when full (a slow server must never stall the
// call), control messages (dtmf, mark echoes) in a bounded list of their
// own so audio pressure cannot lose them.
type outQueue struct {
	mu      sync.Mutex
	ring    []outMsg
	head    int // next to send
	n       int // frames in the ring
	control []outMsg
	ctlMax  int
	notify  chan struct{} // capacity 1: "something was queued"
}

func newOutQueue(frames, controls int) *outQueue {
	return &outQueue{
		ring:    make([]outMsg, frames),
		control: make([]outMsg, 0, 16),
		ctlMax:  controls,
		notify:  make(chan struct{}, 1),
	}
}

func (q *outQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// pushMedia queues a frame of 8 kHz PCM (at most 160 samples, encoded to
// μ-law here) and reports false when the ring was full and the frame was
// dropped.
func (q *outQueue) pushMedia(track string, chunk, ts uint64, pcm []int16) bool {
	q.mu.Lock()
	if q.n == len(q.ring) {
		q.mu.Unlock()
		return false
	}
	m := &q.ring[(q.head+q.n)%len(q.ring)]
	m.kind, m.track, m.chunk, m.ts = outMedia, track, chunk, ts
	pcm = pcm[:min(len(pcm), frameBytes)]
	media.PCMU.Encode(m.audio[:0], pcm)
	for i := len(pcm); i < frameBytes; i++ {
		m.audio[i] = ulawSilence
	}
	q.n++
	q.mu.Unlock()
	q.wake()
	return true
}

// pushControl queues a dtmf or mark message; false when the list is full.
func (q *outQueue) pushControl(m outMsg) bool {
	q.mu.Lock()
	if len(q.control) >= q.ctlMax {
		q.mu.Unlock()
		return false
	}
	q.control = append(q.control, m)
	q.mu.Unlock()
	q.wake()
	return true
}

// pop copies the next message into m: control messages first (they are
// few and time-sensitive), then media in order. It reports false when
// nothing is queued.
func (q *outQueue) pop(m *outMsg) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.control) > 0 {
		*m = q.control[0]
		q.control = q.control[:copy(q.control, q.control[1:])]
		return true
	}
	if q.n == 0 {
		return false
	}
	*m = q.ring[q.head]
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return true
}
