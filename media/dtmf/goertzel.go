package dtmf

import "math"

// sampleRate is the audio rate the Detector and the tone generator use.
const sampleRate = 8000

// The DTMF frequencies in Hz: rows (low group) and columns (high group).
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// keypad maps [row][column] to the key.
var keypad = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// groupFilters holds the Goertzel coefficients for one group of four DTMF
// frequencies (rows or columns).
type groupFilters struct {
	centers [4]float64     // the nominal frequencies
	tones   [4]toneFilters // the other frequencies measured around each
}

// toneFilters holds the Goertzel coefficients measured around one DTMF
// frequency f, once it is the strongest of its group.
type toneFilters struct {
	// around holds f lowered and raised by 2·deviationLimit (to tell
	// whether the tone lies within the limit), then f-peakStep and
	// f+peakStep (to locate the tone's peak).
	around [4]float64
	second float64 // 2f, the second harmonic
}

// peakStep is the spacing in Hz of the frequencies used to locate a tone's
// peak: half the resolution of a 20 ms block.
const peakStep = 25

// newGroupFilters returns the filters for the four frequencies freqs.
func newGroupFilters(freqs [4]float64) (g groupFilters) {
	for i, f := range freqs {
		g.centers[i] = goertzelCoeff(f)
		g.tones[i] = toneFilters{
			around: [4]float64{
				goertzelCoeff(f * (1 - 2*deviationLimit)),
				goertzelCoeff(f * (1 + 2*deviationLimit)),
				goertzelCoeff(f - peakStep),
				goertzelCoeff(f + peakStep),
			},
			second: goertzelCoeff(2 * f),
		}
	}
	return g
}

// The filters for rowFreqs and colFreqs.
var (
	rowFilters = newGroupFilters(rowFreqs)
	colFilters = newGroupFilters(colFreqs)
)

// goertzelCoeff returns 2cos(ω) for the frequency f.
func goertzelCoeff(f float64) float64 {
	return 2 * math.Cos(2*math.Pi*f/sampleRate)
}

// goertzel4 returns |X(ω)|², the squared magnitude of the DTFT of x, at
// the four frequencies whose coefficients (see goertzelCoeff) are given; ω
// need not fall on a DFT bin. The four Goertzel recursions run side by
// side, which is faster than one after another.
func goertzel4(x []float64, coeffs *[4]float64) (powers [4]float64) {
	c0, c1, c2, c3 := coeffs[0], coeffs[1], coeffs[2], coeffs[3]
	var a1, a2, b1, b2, d1, d2, e1, e2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
		d1, d2 = v+c2*d1-d2, d1
		e1, e2 = v+c3*e1-e2, e1
	}
	return [4]float64{
		a1*a1 + a2*a2 - c0*a1*a2,
		b1*b1 + b2*b2 - c1*b1*b2,
		d1*d1 + d2*d2 - c2*d1*d2,
		e1*e1 + e2*e2 - c3*e1*e2,
	}
}

// goertzel2 is goertzel4 for two frequencies.
func goertzel2(x []float64, c0, c1 float64) (p0, p1 float64) {
	var a1, a2, b1, b2 float64
	for _, v := range x {
		a1, a2 = v+c0*a1-a2, a1
		b1, b2 = v+c1*b1-b2, b1
	}
	return a1*a1 + a2*a2 - c0*a1*a2, b1*b1 + b2*b2 - c1*b1*b2
}
