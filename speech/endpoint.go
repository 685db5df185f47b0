package speech

import (
	"math"
	"time"
)

// Endpointing defaults.
const (
	// AutoSpeechTimeout is the pause that ends speech for
	// speechTimeout="auto".
	AutoSpeechTimeout = 800 * time.Millisecond
	// DefaultMaxSpeechTime caps an utterance (<Gather maxSpeechTime>).
	DefaultMaxSpeechTime = 60 * time.Second
	// minSpeechFrames is how many loud frames in a row count as speech
	// (60 ms: a click or a cough's edge is not speech).
	minSpeechFrames = 3
	// speechFloorDBFS is the quietest level taken for speech, whatever the
	// noise.
	speechFloorDBFS = -42.0
	// speechAboveNoiseDB is how far above the noise floor speech must be.
	speechAboveNoiseDB = 12.0
)

// detector is an energy voice-activity detector with an adaptive noise
// floor: a frame is speech when it is both above an absolute floor and
// well above the background noise.
type detector struct {
	noiseDB float64 // slow average of the level of non-speech frames
	run     int     // loud frames in a row
}

func newDetector() *detector { return &detector{noiseDB: -70} }

// levelDBFS is a frame's RMS in dB relative to full scale.
func levelDBFS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return -100
	}
	var sum float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
	}
	rms := math.Sqrt(sum / float64(len(pcm)))
	if rms < 1 {
		return -100
	}
	return 20 * math.Log10(rms/32768)
}

// frame classifies one frame: loud reports this frame above the
// thresholds, speaking reports minSpeechFrames loud frames in a row.
func (d *detector) frame(pcm []int16) (loud, speaking bool) {
	db := levelDBFS(pcm)
	loud = db > speechFloorDBFS && db > d.noiseDB+speechAboveNoiseDB
	if loud {
		d.run++
	} else {
		d.run = 0
		// Track the noise floor: quickly down, slowly up.
		if db < d.noiseDB {
			d.noiseDB = 0.7*d.noiseDB + 0.3*db
		} else {
			d.noiseDB = 0.98*d.noiseDB + 0.02*db
		}
	}
	return loud, d.run >= minSpeechFrames
}
