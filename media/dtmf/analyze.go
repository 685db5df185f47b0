package dtmf

import "math"

// Detection limits. Levels are in linear power of a sine relative to a
// full-scale (32768) sine; 10^(dB/10).
const (
	// deviationLimit is where a tone's frequency stops counting: ITU-T Q.24
	// asks to accept ±1.5% and reject ±3.5%; the boundary lies midway.
	deviationLimit = 0.025
	// minTonePower: each tone must be above -45 dBFS (about -42 dBm0).
	minTonePower = 3.16e-5
	// normalTwist: the column (high) tone may be up to 8 dB stronger than
	// the row tone; reverseTwist: the row tone up to 4 dB stronger.
	normalTwist  = 6.31
	reverseTwist = 2.51
	// minDominance: each of the two tones must be 6 dB stronger than any
	// other tone of its group.
	minDominance = 3.98
	// minPurity: the two tones must carry this share of the block's power.
	minPurity = 0.8
	// maxHarmonic: the second harmonic of each tone must be 12 dB below the
	// tone (voiced speech is rich in harmonics; DTMF has none).
	maxHarmonic = 0.063
	// minBlocks is how many consecutive blocks (20 ms each) must hold the
	// same key before it is reported.
	minBlocks = 2
)

// hann is the analysis window, and hannSum and hannSquares are the sums of
// its values and of their squares.
var hann, hannSum, hannSquares = func() (w [blockSamples]float64, sum, squares float64) {
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/blockSamples)
		sum += w[i]
		squares += w[i] * w[i]
	}
	return w, sum, squares
}()

// rowHarmonicUsable tells, for each row and column, whether the row tone's
// second harmonic lies far enough (150 Hz, three times the block's
// resolution) from the column tone to be measured. For keys 2, 3, 6, B and
// C it does not (2 × 697 Hz = 1394 Hz is 58 Hz from 1336 Hz), so only the
// column tone's harmonic is checked.
var rowHarmonicUsable = func() (usable [4][4]bool) {
	for r := range usable {
		for c := range usable[r] {
			usable[r][c] = math.Abs(2*rowFreqs[r]-colFreqs[c]) >= 150
		}
	}
	return usable
}()

// analyze returns the key that the collected block holds, or 0.
func (d *Detector) analyze() byte {
	var mean float64
	for _, v := range d.block {
		mean += v
	}
	mean /= blockSamples
	var energy float64
	for i, v := range d.block {
		w := (v - mean) * hann[i]
		d.windowed[i] = w
		energy += w * w
	}
	// Power of the block relative to a full-scale sine.
	power := energy / hannSquares / fullScalePower
	if power < 2*minTonePower {
		return 0
	}
	x := d.windowed[:]
	row, rowNominal, rowRest := strongest(x, &rowFilters)
	col, colNominal, colRest := strongest(x, &colFilters)
	if rowNominal < rowRest*minDominance || colNominal < colRest*minDominance {
		return 0
	}
	rf, cf := &rowFilters.tones[row], &colFilters.tones[col]
	rowPower, rowOK := peakPower(x, rf, rowNominal)
	colPower, colOK := peakPower(x, cf, colNominal)
	if !rowOK || !colOK {
		return 0
	}
	rowSecond, colSecond := goertzel2(x, rf.second, cf.second)
	rowSecond, colSecond = rowSecond*powerScale, colSecond*powerScale
	switch {
	case rowPower < minTonePower || colPower < minTonePower,
		colPower > rowPower*normalTwist || rowPower > colPower*reverseTwist,
		rowPower+colPower < power*minPurity,
		colSecond > colPower*maxHarmonic,
		rowHarmonicUsable[row][col] && rowSecond > rowPower*maxHarmonic:
		return 0
	}
	return keypad[row][col]
}

// strongest returns the index and power of the strongest of the group's
// four frequencies in x, and the power of the strongest of the other three.
func strongest(x []float64, g *groupFilters) (best int, power, rest float64) {
	for i, p := range goertzel4(x, &g.centers) {
		p *= powerScale
		switch {
		case p > power:
			rest, power, best = power, p, i
		case p > rest:
			rest = p
		}
	}
	return best, power, rest
}

// peakPower measures the tone near f's nominal frequency, whose power
// there is nominal. It reports false unless the tone lies within
// ±deviationLimit of the nominal frequency; otherwise it returns the
// tone's power at its true frequency, so that a tone off by up to the limit
// is not judged weaker than it is.
//
// The window's spectrum is symmetric around the tone's true frequency, so
// the tone lies within the limit exactly when the nominal frequency reads
// at least as strong as the frequencies 2·deviationLimit below and above.
// Near its peak the spectrum of the Hann window is close to a Gaussian, so
// a parabola through the log powers at the nominal frequency and peakStep
// either side of it finds the peak.
func peakPower(x []float64, f *toneFilters, nominal float64) (float64, bool) {
	p := goertzel4(x, &f.around)
	farBelow, farAbove, below, above := p[0]*powerScale, p[1]*powerScale, p[2]*powerScale, p[3]*powerScale
	if nominal <= 0 || nominal < farBelow || nominal < farAbove || below <= 0 || above <= 0 {
		return 0, false
	}
	lb, lc, la := math.Log(below), math.Log(nominal), math.Log(above)
	curve := lb - 2*lc + la
	if curve >= 0 {
		return 0, false // no peak near the nominal frequency
	}
	// The peak lies (lb-la)/(2·curve) steps from the nominal frequency;
	// beyond ±2 steps (50 Hz) the fit means nothing, and that is no tone
	// within the limit.
	offset := (lb - la) / (2 * curve)
	if math.Abs(offset) > 2 {
		return 0, false
	}
	return math.Exp(lc - (lb-la)*offset/4), true
}

// powerScale converts the Goertzel output for a windowed block into the
// power of a sine at that frequency relative to a full-scale sine: a sine
// of amplitude a yields |X| ≈ a·Σw/2, and its power is a²/2.
var powerScale = 2 / (hannSum * hannSum) / fullScalePower

// fullScalePower is the power of a full-scale sine.
const fullScalePower = 0.5 * 32768 * 32768
