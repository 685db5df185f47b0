package ivr

import (
	"math"
	"sync"

	"github.com/voxgate/voxgate/media"
)

// holdMusic is Voxgate's own hold music, synthesised here (no recording
// from anyone else): a slow I–vi–IV–V progression in C major, each chord
// arpeggiated by a soft bell-like voice over a quiet pad, 16 s long, made
// to loop seamlessly.
var holdMusic = sync.OnceValue(func() []int16 {
	const (
		rate       = media.SampleRate
		beat       = 0.5 // seconds per arpeggio note
		notesChord = 8
	)
	// MIDI notes: C, Am, F, G (root position, with the octave on top).
	chords := [][]int{{60, 64, 67, 72}, {57, 60, 64, 69}, {53, 57, 60, 65}, {55, 59, 62, 67}}
	pattern := []int{0, 1, 2, 3, 2, 1, 2, 1}
	freq := func(midi int) float64 { return 440 * math.Pow(2, float64(midi-69)/12) }
	total := int(float64(len(chords)*notesChord) * beat * rate)
	out := make([]float64, total)
	noteLen := int(beat * rate)
	for ci, chord := range chords {
		chordStart := ci * notesChord * noteLen
		chordLen := notesChord * noteLen
		// Pad: the chord's lower three notes, faded in and out.
		for i := 0; i < chordLen; i++ {
			t := float64(i) / rate
			env := math.Sin(math.Pi * float64(i) / float64(chordLen))
			var v float64
			for _, n := range chord[:3] {
				v += math.Sin(2 * math.Pi * freq(n-12) * t)
			}
			out[chordStart+i] += 0.05 * env * v
		}
		// Bell: arpeggio with a fast attack and exponential decay.
		for k, idx := range pattern {
			f := freq(chord[idx])
			start := chordStart + k*noteLen
			for i := 0; i < noteLen*2 && start+i < total; i++ {
				t := float64(i) / rate
				env := math.Min(1, t/0.01) * math.Exp(-3.5*t)
				v := math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(2*math.Pi*2*f*t)
				out[start+i] += 0.18 * env * v
			}
		}
	}
	pcm := make([]int16, total)
	for i, v := range out {
		pcm[i] = int16(math.Max(-1, math.Min(1, v)) * 32767 * 0.8)
	}
	return pcm
})
