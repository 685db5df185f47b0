package audio

import (
	"io"
	"time"

	"github.com/voxgate/voxgate/media"
)

// Silence is a source of digital silence (zero samples), e.g. for <Pause>.
type Silence struct {
	left int // samples still to produce
}

var _ media.Source = (*Silence)(nil)

// NewSilence returns d of silence, rounded up to whole 20 ms frames. A
// non-positive d ends at once.
func NewSilence(d time.Duration) *Silence {
	if d <= 0 {
		return &Silence{}
	}
	frames := (d + media.FrameDuration - 1) / media.FrameDuration
	return &Silence{left: int(frames) * media.FrameSamples}
}

// ReadFrame zeroes p (or the part of it that remains) and returns io.EOF
// once the duration has been produced.
func (s *Silence) ReadFrame(p []int16) (int, error) {
	if s.left == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.left)
	clear(p[:n])
	s.left -= n
	return n, nil
}
