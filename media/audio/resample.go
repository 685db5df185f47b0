package audio

import "math"

// Resampler design. The kernel is a Kaiser-windowed sinc low-pass whose
// cutoff sits at 92% of the lower rate's Nyquist frequency (3680 Hz when
// the output is 8 kHz). With a half width of 36 samples at the lower rate
// and β = 8, the stop band (≥ 80 dB down) starts at ~4 kHz and the pass
// band is flat (within 0.01 dB) to 3.4 kHz.
const (
	resampleCutoff    = 0.46    // of the lower sample rate
	resampleHalfWidth = 36      // kernel half width, in samples at the lower rate
	resampleBeta      = 8.0     // Kaiser window shape
	resampleMaxPhases = 1024    // finer phase steps are rounded to 1/1024 sample
	resampleMaxTable  = 1 << 20 // coefficients; very high input rates get fewer phases
)

// Resample converts in from fromRate to toRate with a band-limited
// polyphase FIR filter (Kaiser-windowed sinc) that removes everything above
// the lower rate's Nyquist frequency, so downsampling does not alias. The
// output holds ceil(len(in)*toRate/fromRate) samples; the filter is
// zero-phase (no delay). When the rates are equal it returns in itself; a
// non-positive rate returns nil.
func Resample(in []int16, fromRate, toRate int) []int16 {
	if fromRate <= 0 || toRate <= 0 {
		return nil
	}
	if fromRate == toRate {
		return in
	}
	return newResampler(fromRate, toRate).apply(in)
}

// resampler holds the polyphase coefficient table for one rate pair.
type resampler struct {
	up, down int       // output time advances by down/up input samples per output sample
	phases   int       // number of fractional positions tabulated
	half     int       // taps on each side of the output instant
	taps     int       // coefficients per phase: 2*half rounded up to a multiple of 4
	coef     []float32 // phases*taps coefficients, each phase normalised to unity DC gain
}

func newResampler(fromRate, toRate int) *resampler {
	g := gcd(fromRate, toRate)
	r := &resampler{up: toRate / g, down: fromRate / g}

	low := min(fromRate, toRate)
	fc := resampleCutoff * float64(low) / float64(fromRate) // cycles per input sample
	width := float64(resampleHalfWidth) * float64(fromRate) / float64(low)
	r.half = int(math.Ceil(width))
	r.taps = (2*r.half + 3) &^ 3 // a multiple of 4 for dot; extra taps are 0
	// Rounding the output instant to 1/phases of an input sample is a
	// timing error of at most 1/(2·phases·fromRate) s: below -60 dB at
	// 3.4 kHz for every rate allowed here.
	r.phases = max(1, min(r.up, resampleMaxPhases, resampleMaxTable/r.taps))
	r.coef = make([]float32, r.phases*r.taps)
	vals := make([]float64, r.taps)
	for p := range r.phases {
		frac := float64(p) / float64(r.phases)
		row := r.coef[p*r.taps : (p+1)*r.taps]
		var sum float64
		for k := range vals {
			vals[k] = 0
			// Tap k multiplies input sample ip-half+1+k; the output instant
			// is ip+frac.
			tau := frac + float64(r.half-1-k)
			x := tau / width
			if x <= -1 || x >= 1 {
				continue
			}
			v := 2 * fc * sinc(2*fc*tau) * kaiser(x)
			vals[k] = v
			sum += v
		}
		for k, v := range vals {
			row[k] = float32(v / sum)
		}
	}
	return r
}

// apply filters the whole of in.
func (r *resampler) apply(in []int16) []int16 {
	n := (int64(len(in))*int64(r.up) + int64(r.down) - 1) / int64(r.down)
	out := make([]int16, n)
	// Convert once: every input sample feeds many output samples.
	x := make([]float32, len(in))
	for i, v := range in {
		x[i] = float32(v)
	}
	ip, rem := 0, 0 // output instant = ip + rem/up input samples
	for j := range out {
		p := rem
		base := ip - r.half + 1
		if r.phases != r.up {
			p = (rem*r.phases + r.up/2) / r.up
			if p == r.phases {
				p, base = 0, base+1
			}
		}
		c := r.coef[p*r.taps : (p+1)*r.taps]
		var acc float32
		if base >= 0 && base+len(c) <= len(x) {
			acc = dot(x[base:base+len(c)], c)
		} else {
			for k, v := range c {
				if i := base + k; i >= 0 && i < len(x) {
					acc += x[i] * v
				}
			}
		}
		out[j] = clip16(float64(acc))

		rem += r.down
		ip += rem / r.up
		rem %= r.up
	}
	return out
}

// dot returns the inner product of x and c; len(c) is a multiple of 4 and
// len(x) >= len(c).
func dot(x, c []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	for i := 0; i+3 < len(c); i += 4 {
		s0 += x[i] * c[i]
		s1 += x[i+1] * c[i+1]
		s2 += x[i+2] * c[i+2]
		s3 += x[i+3] * c[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}

// kaiserSteps is the resolution of kaiserTable.
const kaiserSteps = 4096

// kaiserTable holds the Kaiser window I0(β·√u)/I0(β) at u = i/kaiserSteps,
// where u = 1-x² for x in [-1, 1]: a smooth function of u, so linear
// interpolation is accurate to ~1e-6.
var kaiserTable = func() (t [kaiserSteps + 2]float64) {
	i0Beta := besselI0(resampleBeta)
	for i := range kaiserSteps + 1 {
		t[i] = besselI0(resampleBeta*math.Sqrt(float64(i)/kaiserSteps)) / i0Beta
	}
	t[kaiserSteps+1] = t[kaiserSteps]
	return t
}()

// kaiser is the Kaiser window at x, for -1 < x < 1.
func kaiser(x float64) float64 {
	u := (1 - x*x) * kaiserSteps
	i := int(u)
	f := u - float64(i)
	return kaiserTable[i]*(1-f) + kaiserTable[i+1]*f
}

// sinc is the normalised sinc function sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 100; k++ {
		f := x / (2 * float64(k))
		term *= f * f
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
