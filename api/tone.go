package api

import (
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// demoTone is a 1.5 s, 1 kHz tone as a WAV file, for the demo menu.
func demoTone() []byte {
	src := audio.NewTone([]float64{1000}, 0.3, 1500*time.Millisecond)
	var pcm []int16
	frame := make([]int16, media.FrameSamples)
	for {
		n, err := src.ReadFrame(frame)
		pcm = append(pcm, frame[:n]...)
		if err != nil || n == 0 {
			break
		}
	}
	return audio.EncodeWAV(pcm, media.SampleRate)
}
