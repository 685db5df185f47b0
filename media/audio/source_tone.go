package audio

import (
	"io"
	"math"
	"time"

	"github.com/voxgate/voxgate/media"
)

// toneFade is the raised-cosine ramp at each end of a tone, so that it
// starts and stops without a click.
const toneFade = 4 * time.Millisecond

// Tone is a source of one or more summed sine waves: the <Record> beep
// (1 kHz, 400 ms), ringback (440+480 Hz), dial tone (350+440 Hz) and so on.
type Tone struct {
	omegas []float64 // radians per sample, one per frequency
	gain   float64   // peak of each component, in int16 units
	total  int       // samples in the tone
	fade   int       // samples in each ramp
	pos    int       // next sample index
}

var _ media.Source = (*Tone)(nil)

// NewTone returns a tone of duration d (rounded up to a whole sample) made
// of the given frequencies in Hz. amplitude is the peak of the sum as a
// fraction of full scale (0 to 1; clamped), shared equally between the
// frequencies, so the tone never clips. The first and last 4 ms fade in and
// out. Frequencies at or above 4 kHz cannot be represented at 8 kHz and are
// dropped.
func NewTone(freqs []float64, amplitude float64, d time.Duration) *Tone {
	t := &Tone{}
	for _, f := range freqs {
		if f > 0 && f < media.SampleRate/2 {
			t.omegas = append(t.omegas, 2*math.Pi*f/media.SampleRate)
		}
	}
	if len(t.omegas) > 0 && !math.IsNaN(amplitude) {
		t.gain = math.MaxInt16 * min(max(amplitude, 0), 1) / float64(len(t.omegas))
	}
	if d > 0 { // ceil(d·8000/1s), without overflowing for huge d
		whole, frac := d/time.Second, d%time.Second
		t.total = int(whole)*media.SampleRate + int((frac*media.SampleRate+time.Second-1)/time.Second)
	}
	t.fade = min(int(toneFade*media.SampleRate/time.Second), t.total/2)
	return t
}

// ReadFrame writes the next samples of the tone into p and returns io.EOF
// after the last one.
func (t *Tone) ReadFrame(p []int16) (int, error) {
	if t.pos == t.total && len(p) > 0 {
		return 0, io.EOF
	}
	n := min(len(p), t.total-t.pos)
	for i := range n {
		k := t.pos + i
		var v float64
		for _, w := range t.omegas {
			v += math.Sin(w * float64(k))
		}
		v *= t.gain
		if k < t.fade {
			v *= t.ramp(k)
		} else if end := t.total - 1 - k; end < t.fade {
			v *= t.ramp(end)
		}
		p[i] = int16(math.Round(v))
	}
	t.pos += n
	return n, nil
}

// ramp is the fade gain for the k-th sample from either end.
func (t *Tone) ramp(k int) float64 {
	return 0.5 * (1 - math.Cos(math.Pi*(float64(k)+0.5)/float64(t.fade)))
}
