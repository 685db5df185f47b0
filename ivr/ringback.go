package ivr

import (
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// ringCadence is a country's ringback: tone frequencies and on/off steps.
type ringCadence struct {
	freqs []float64
	steps []time.Duration // on, off, on, off…
}

// ringCadences are the ringback tones <Dial ringTone> can ask for
// (ITU-T E.180 cadences); others fall back to the North American one.
var ringCadences = map[string]ringCadence{
	"us": {[]float64{440, 480}, []time.Duration{2 * time.Second, 4 * time.Second}},
	"uk": {[]float64{400, 450}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
	"au": {[]float64{400, 425}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
	"de": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"fr": {[]float64{440}, []time.Duration{1500 * time.Millisecond, 3500 * time.Millisecond}},
	"it": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"es": {[]float64{425}, []time.Duration{1500 * time.Millisecond, 3 * time.Second}},
	"nl": {[]float64{425}, []time.Duration{time.Second, 4 * time.Second}},
	"jp": {[]float64{400}, []time.Duration{time.Second, 2 * time.Second}},
	"in": {[]float64{400, 425}, []time.Duration{400 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 2 * time.Second}},
}

var ringbackCache sync.Map // country -> []int16

// ringback is the ringback tone for a <Dial ringTone> country code, played
// to a caller while a <Dial> rings.
func ringback(country string) []int16 {
	c, ok := ringCadences[strings.ToLower(country)]
	if !ok {
		country, c = "us", ringCadences["us"]
	}
	if pcm, ok := ringbackCache.Load(country); ok {
		return pcm.([]int16)
	}
	var parts []media.Source
	var total time.Duration
	for i, d := range c.steps {
		if i%2 == 0 {
			parts = append(parts, audio.NewTone(c.freqs, 0.2, d))
		} else {
			parts = append(parts, audio.NewSilence(d))
		}
		total += d
	}
	pcm, _ := audio.ReadAll(audio.Concat(parts...), total)
	ringbackCache.Store(country, pcm)
	return pcm
}
