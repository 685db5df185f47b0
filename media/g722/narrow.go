package g722

import "math"

// Narrowband use
//
// An 8 kHz engine speaks G.722 through NarrowEncoder and NarrowDecoder:
// one code byte per 8 kHz sample, as a G.722 RTP stream has (RFC 3551
// gives it an 8000 Hz RTP clock for that reason). The encoder
// interpolates to 16 kHz, the decoder decimates from 16 kHz, both with
// the same half-band low-pass FIR (47 taps, Kaiser window, about 60 dB
// of stopband from 4.6 kHz, flat to 3.4 kHz). In a half-band filter
// every other tap but the centre is zero, so each 8 kHz sample costs 24
// multiply-adds each way; the 16 kHz samples that coincide with 8 kHz
// ones pass straight through the interpolator.

// halfTaps is the half-band filter's non-zero off-centre taps: h[23-2j]
// for j = 0..23, i.e. the odd offsets from +23 down to -23 (the filter is
// symmetric), in Q15 with their sum normalised to 0.5.
var halfTaps = designHalfBand()

// halfTaps64 is halfTaps for the decimator's 64-bit sums.
var halfTaps64 = func() (t [halfOdd]int64) {
	for j, c := range halfTaps {
		t[j] = int64(c)
	}
	return t
}()

const (
	halfLen  = 47 // filter length (odd); the centre tap is 0.5
	halfOdd  = 24 // non-zero taps besides the centre
	halfQ    = 15 // fixed-point fraction bits of halfTaps
	kaiserB  = 5.65
	upDelay  = halfOdd / 2 // interpolator delay, in 8 kHz samples
	downHist = halfLen     // decimator history, in 16 kHz samples
)

// halfTapsFitInt32 checks, once, that the interpolator's sum fits in
// int32: the worst case is every sample pair at ±65536 with the sign of
// its tap (the centre tap's share is checked too, for good measure).
var _ = func() bool {
	var sum int64
	for _, c := range halfTaps[:halfOdd/2] {
		sum += max(int64(c), -int64(c)) * 65536
	}
	if sum+(1<<(halfQ-1))*32768 > 1<<31-1 {
		panic("g722: half-band filter sums may overflow int32")
	}
	return true
}()

// designHalfBand computes the windowed-sinc half-band filter's odd taps.
func designHalfBand() [halfOdd]int32 {
	var f [halfOdd]float64
	sum := 0.0
	for j := range f {
		n := float64(23 - 2*j) // odd offset from the centre
		sinc := math.Sin(math.Pi*n/2) / (math.Pi * n)
		w := besselI0(kaiserB*math.Sqrt(1-(n/23)*(n/23))) / besselI0(kaiserB)
		f[j] = sinc * w
		sum += f[j]
	}
	var taps [halfOdd]int32
	for j := range f {
		taps[j] = int32(math.Round(f[j] * 0.5 / sum * (1 << halfQ)))
	}
	return taps
}

// besselI0 is the modified Bessel function of the first kind, order 0
// (for the Kaiser window), by its power series.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
	}
	return sum
}

// sat16q rounds a Q15 accumulator to a 16-bit sample, saturating.
func sat16q(acc int64) int16 {
	v := (acc + 1<<(halfQ-1)) >> halfQ
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// NarrowEncoder encodes 8 kHz linear PCM to G.722 (64 kbit/s): one byte
// per sample. The zero NarrowEncoder is a new stream's.
type NarrowEncoder struct {
	enc Encoder
	// hist holds the last halfOdd input samples twice over (a ring that
	// can always be read as one slice): the window is hist[pos:pos+halfOdd].
	hist [2 * halfOdd]int32
	pos  int
}

// Reset returns the encoder to its initial state (a new stream).
func (e *NarrowEncoder) Reset() {
	*e = NarrowEncoder{}
	e.enc.Reset()
}

// Encode appends the G.722 code of pcm (8 kHz samples) to dst and returns
// it. It does not allocate when dst has room for len(pcm) bytes.
func (e *NarrowEncoder) Encode(dst []byte, pcm []int16) []byte {
	if !e.enc.ready {
		e.enc.Reset()
	}
	for _, s := range pcm {
		// Push s; the window then holds x[t-23..t], oldest first.
		e.hist[e.pos] = int32(s)
		e.hist[e.pos+halfOdd] = int32(s)
		e.pos++
		if e.pos == halfOdd {
			e.pos = 0
		}
		w := (*[halfOdd]int32)(e.hist[e.pos : e.pos+halfOdd])
		// The 16 kHz pair for input t-12: the sample itself, then the
		// interpolated one halfway to t-11 (the odd taps doubled: the
		// zero-stuffed signal has half the energy). The taps are
		// symmetric: one multiply per pair of samples.
		// Written out: constant indices need no bounds checks and no
		// loop (BenchmarkNarrowSignal).
		h := &halfTaps
		acc := h[0]*(w[0]+w[23]) +
			h[1]*(w[1]+w[22]) +
			h[2]*(w[2]+w[21]) +
			h[3]*(w[3]+w[20]) +
			h[4]*(w[4]+w[19]) +
			h[5]*(w[5]+w[18]) +
			h[6]*(w[6]+w[17]) +
			h[7]*(w[7]+w[16]) +
			h[8]*(w[8]+w[15]) +
			h[9]*(w[9]+w[14]) +
			h[10]*(w[10]+w[13]) +
			h[11]*(w[11]+w[12]) // cannot overflow: see halfTapsFitInt32
		dst = append(dst, e.enc.encodePair(w[upDelay-1], int32(sat16q(2*int64(acc)))))
	}
	return dst
}

// NarrowDecoder decodes G.722 (64 kbit/s) to 8 kHz linear PCM: one sample
// per byte. The zero NarrowDecoder is a new stream's.
type NarrowDecoder struct {
	dec Decoder
	// hist holds the last downHist decoded 16 kHz samples twice over.
	hist [2 * downHist]int32
	pos  int
}

// Reset returns the decoder to its initial state (a new stream).
func (d *NarrowDecoder) Reset() {
	*d = NarrowDecoder{}
	d.dec.Reset()
}

// Decode appends the 8 kHz samples of the G.722 code to dst and returns
// it. Any input decodes. It does not allocate when dst has room for
// len(code) samples.
func (d *NarrowDecoder) Decode(dst []int16, code []byte) []int16 {
	if !d.dec.ready {
		d.dec.Reset()
	}
	for _, c := range code {
		s0, s1 := d.dec.decodeByte(c)
		d.push(int32(s0))
		d.push(int32(s1))
		w := (*[downHist]int32)(d.hist[d.pos : d.pos+downHist]) // oldest first; w[46] is s1
		// Low-pass at 4 kHz, keep every other sample: the centre tap
		// (0.5) on w[23], the odd taps, symmetric, on the pairs of
		// samples an odd distance either side of it.
		// Written out, as in the encoder. Each pair sum fits in int32
		// and each product in int64, as before.
		h := &halfTaps64
		acc := int64(w[halfOdd-1])<<(halfQ-1) +
			h[0]*int64(w[0]+w[46]) +
			h[1]*int64(w[2]+w[44]) +
			h[2]*int64(w[4]+w[42]) +
			h[3]*int64(w[6]+w[40]) +
			h[4]*int64(w[8]+w[38]) +
			h[5]*int64(w[10]+w[36]) +
			h[6]*int64(w[12]+w[34]) +
			h[7]*int64(w[14]+w[32]) +
			h[8]*int64(w[16]+w[30]) +
			h[9]*int64(w[18]+w[28]) +
			h[10]*int64(w[20]+w[26]) +
			h[11]*int64(w[22]+w[24])
		dst = append(dst, sat16q(acc))
	}
	return dst
}

func (d *NarrowDecoder) push(s int32) {
	d.hist[d.pos] = s
	d.hist[d.pos+downHist] = s
	d.pos++
	if d.pos == downHist {
		d.pos = 0
	}
}
