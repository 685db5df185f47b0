package dtmf

import "math"

// AppendTone appends samples samples of the DTMF tone pair of key to dst and
// returns the result. amplitude is the peak of each of the two sines as a
// fraction of full scale (0.25 is about -12 dBFS per tone); the sum is
// clipped to the int16 range. Each call starts both sines at phase zero.
// For a byte that is not a key, AppendTone appends silence. It does not
// allocate when dst has room for samples more samples.
func AppendTone(dst []int16, key byte, samples int, amplitude float64) []int16 {
	row, col, ok := keyPosition(key)
	if !ok {
		for range samples {
			dst = append(dst, 0)
		}
		return dst
	}
	return appendDualTone(dst, row, col, 0, samples, amplitude)
}

// appendDualTone appends samples samples of the tone pair at keypad row and
// col, starting at sample offset start of the tone (so a tone split across
// frames stays continuous), each sine with peak amplitude (full scale 1).
func appendDualTone(dst []int16, row, col, start, samples int, amplitude float64) []int16 {
	wr := 2 * math.Pi * rowFreqs[row] / sampleRate
	wc := 2 * math.Pi * colFreqs[col] / sampleRate
	a := amplitude * 32767
	for n := start; n < start+samples; n++ {
		t := float64(n)
		dst = append(dst, clip16(a*(math.Sin(wr*t)+math.Sin(wc*t))))
	}
	return dst
}

// keyPosition returns the keypad row and column of key.
func keyPosition(key byte) (row, col int, ok bool) {
	code, ok := KeyToCode(key)
	if !ok {
		return 0, 0, false
	}
	k := codeKeys[code]
	for r := range keypad {
		for c := range keypad[r] {
			if keypad[r][c] == k {
				return r, c, true
			}
		}
	}
	return 0, 0, false
}

// clip16 rounds v to the nearest int16, saturating.
func clip16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
