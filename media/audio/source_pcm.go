package audio

import (
	"io"

	"github.com/voxgate/voxgate/media"
)

// PCMSource plays a slice of 8 kHz mono samples, optionally looped. It
// implements media.Source and allocates nothing per frame. Loops are
// gapless: a frame that straddles the end of one pass continues with the
// start of the next.
type PCMSource struct {
	samples []int16
	loops   int // passes to play; < 1 means forever
	pos     int // next sample within samples
	passes  int // completed passes
}

var _ media.Source = (*PCMSource)(nil)

// NewPCMSource returns a source that plays samples loops times (1 = once).
// loops < 1 repeats forever, until the caller stops reading (the engine
// caps Twilio's loop="0" itself). The slice is shared, not copied: it must
// not change while the source is in use. Empty samples end at once.
func NewPCMSource(samples []int16, loops int) *PCMSource {
	return &PCMSource{samples: samples, loops: loops}
}

// ReadFrame fills p with the next samples. The last frame may be short;
// after it ReadFrame returns 0, io.EOF.
func (s *PCMSource) ReadFrame(p []int16) (int, error) {
	n := 0
	for n < len(p) && len(s.samples) > 0 && (s.loops < 1 || s.passes < s.loops) {
		c := copy(p[n:], s.samples[s.pos:])
		n += c
		s.pos += c
		if s.pos == len(s.samples) {
			s.pos = 0
			s.passes++
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Rewind starts playback over from the first sample of the first pass.
func (s *PCMSource) Rewind() { s.pos, s.passes = 0, 0 }
