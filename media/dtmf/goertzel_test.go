package dtmf

import (
	"math"
	"testing"
)

// goertzel returns |X(ω)|², the squared magnitude of the DTFT of x at the
// frequency whose coefficient is coeff (see goertzelCoeff). ω need not fall
// on a DFT bin.
func goertzel(x []float64, coeff float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+coeff*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// tonePower returns the power of a sine at the frequency of coeff in the
// windowed block x, relative to a full-scale sine.
func tonePower(x []float64, coeff float64) float64 {
	return goertzel(x, coeff) * powerScale
}

func TestGoertzelVariantsAgree(t *testing.T) {
	x := make([]float64, blockSamples)
	for i, s := range AppendTone(nil, '6', blockSamples, 0.3) {
		x[i] = float64(s) * hann[i]
	}
	coeffs := [4]float64{goertzelCoeff(770), goertzelCoeff(1477), goertzelCoeff(1000), goertzelCoeff(3000)}
	four := goertzel4(x, &coeffs)
	a, b := goertzel2(x, coeffs[1], coeffs[2])
	for i, c := range coeffs {
		want := goertzel(x, c)
		if math.Abs(four[i]-want) > 1e-9*math.Max(1, want) {
			t.Errorf("goertzel4[%d] = %g, goertzel = %g", i, four[i], want)
		}
	}
	if a != goertzel(x, coeffs[1]) || b != goertzel(x, coeffs[2]) {
		t.Errorf("goertzel2 disagrees with goertzel")
	}
}

func TestGoertzelMatchesDFT(t *testing.T) {
	// |Σ x[n]·e^(-jωn)|² for a frequency between DFT bins.
	x := make([]float64, 100)
	for i := range x {
		x[i] = math.Sin(0.37*float64(i)) + 0.5*math.Cos(1.9*float64(i))
	}
	w := 2 * math.Pi * 712.5 / sampleRate
	var re, im float64
	for n, v := range x {
		re += v * math.Cos(w*float64(n))
		im -= v * math.Sin(w*float64(n))
	}
	got, want := goertzel(x, goertzelCoeff(712.5)), re*re+im*im
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("goertzel = %g, DFT = %g", got, want)
	}
}
