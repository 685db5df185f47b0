package audio

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/voxgate/voxgate/media"
)

// concat plays sources one after another.
type concat struct {
	srcs []media.Source
}

// Concat returns a source that plays each of srcs to its end, in order.
// Joins are gapless: when a source ends part-way through a frame, the rest
// of the frame comes from the next one. A source error other than io.EOF
// is returned as is (with the samples already in p). Nil sources are
// skipped.
func Concat(srcs ...media.Source) media.Source {
	return &concat{srcs: srcs}
}

// ReadFrame fills p from the current source, moving on at each io.EOF.
func (c *concat) ReadFrame(p []int16) (int, error) {
	n := 0
	for n < len(p) && len(c.srcs) > 0 {
		if c.srcs[0] == nil {
			c.srcs = c.srcs[1:]
			continue
		}
		m, err := c.srcs[0].ReadFrame(p[n:])
		n += m
		switch {
		case errors.Is(err, io.EOF):
			c.srcs[0] = nil
			c.srcs = c.srcs[1:]
		case err != nil:
			return n, err
		case m == 0:
			return n, nil // a source with nothing yet: do not spin
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ReadAll renders src into a slice: a finite source (a tone pattern, a
// Concat of them) can then be looped cheaply with NewPCMSource. It fails if
// src has not ended after maxLen of audio, returns no samples without
// ending, or returns another error.
func ReadAll(src media.Source, maxLen time.Duration) ([]int16, error) {
	limit := int(maxLen/media.FrameDuration) * media.FrameSamples
	out := make([]int16, 0, min(limit, 30*media.SampleRate))
	frame := make([]int16, media.FrameSamples)
	for {
		n, err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if len(out)+n > limit {
			return nil, fmt.Errorf("audio: source longer than %v", maxLen)
		}
		if n == 0 && err == nil {
			return nil, errors.New("audio: source returned an empty frame before io.EOF")
		}
		out = append(out, frame[:n]...)
		if err != nil {
			return nil, fmt.Errorf("audio: reading source: %w", err)
		}
	}
}
