// Package g722 implements ITU-T G.722 (sub-band ADPCM, 7 kHz audio at
// 64 kbit/s) for 16 kHz, 16-bit linear PCM, and the 8 kHz <-> 16 kHz
// conversion that lets an 8 kHz engine speak it (narrow.go).
//
// The codec follows the algorithm of Recommendation G.722 (09/2012),
// §3 and §4: a 24-tap quadrature mirror filter (QMF) splits the 16 kHz
// signal into two 8 kHz sub-bands; the lower one is coded with 6 bits
// per sample (an adaptive 60-level quantizer of the prediction error),
// the higher one with 2 bits; each sub-band has its own adaptive
// predictor (2 poles, 6 zeros) and log-domain scale factor. One code
// byte carries both sub-bands' codes for one pair of 16 kHz samples:
// the higher band's 2 bits on top, the lower band's 6 below. Only the
// 64 kbit/s mode is implemented (the 56 and 48 kbit/s modes drop
// low-band bits, which RTP peers do not use).
//
// The arithmetic is the Recommendation's fixed-point one (saturating
// 16-bit values, the same shifts and tables), so the output is bit
// exact: the tests compare it with a reference implementation's.
//
// An Encoder or a Decoder carries the state of one direction of one
// stream; it is not safe for concurrent use. Their zero values are
// ready to use. Neither allocates.
package g722

// qmf holds the even-indexed coefficients h0, h2, ..., h22 of the QMF
// (G.722 Table 11). The filter is symmetric (h[23-i] == h[i]), so the
// odd-indexed ones are these in reverse order.
var qmfEven = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// qmf is the whole filter, h0..h23.
var qmf = func() (h [24]int32) {
	for i := range h {
		if i%2 == 0 {
			h[i] = qmfEven[i/2]
		} else {
			h[i] = qmfEven[(23-i)/2]
		}
	}
	return h
}()

// Decision levels of the lower sub-band's 6-bit quantizer, scaled by
// 2^-12 × the scale factor (Table 7). Level 0 is unused.
var q6 = [31]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0,
}

// q6search is q6 with sentinels above every mag for the encoder's
// search: levels 1..29, then 30 and 31 out of reach (2^23·det > 2^27 >
// (mag+1)<<12 for any det >= 32).
var q6search = func() (t [32]int32) {
	copy(t[:], q6[:30])
	t[30], t[31] = 1<<23, 1<<23
	return t
}()

// Lower sub-band codes for a quantizer interval, for a negative (iln)
// and a positive (ilp) prediction error.
var (
	iln = [31]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4}
	ilp = [31]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32}
)

// Inverse quantizer outputs: 6-bit (decoder output in the 64 kbit/s
// mode, Table 13), 4-bit (predictor adaptation of the lower band, both
// ends) and 2-bit (higher band).
var (
	qm6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	qm4 = [16]int32{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
	}
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
)

// Scale factor adaptation: the 4-bit lower-band code's magnitude class
// (rl42) and its log-scale multiplier (wl); the same for the higher band
// (rh2, wh).
var (
	rl42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rh2  = [4]int32{2, 1, 2, 1}
	wh   = [3]int32{0, -214, 798}
)

// ilb is the antilog table of the scale factor computation (Table 15).
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2897, 2960, 3025, 3091, 3159, 3228, 3299, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// sat16 limits v to the 16-bit two's complement range.
func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi int32) int32 {
	return max(lo, min(v, hi))
}

// band is one sub-band's ADPCM state: the adaptive predictor and the
// scale factor. Index 0 of the delay lines is the current sample.
type band struct {
	s   int32    // predictor output: the signal estimate for the next sample
	sz  int32    // zero section's part of s
	r   [3]int32 // reconstructed signal, delayed, doubled and saturated (index 0 unused)
	a   [3]int32 // pole coefficients a1, a2 (index 0 unused)
	p   [3]int32 // partially reconstructed signal, delayed (index 0 unused)
	d   [7]int32 // quantized difference signal, delayed, doubled and saturated (index 0 unused)
	b   [7]int32 // zero coefficients b1..b6 (index 0 unused)
	nb  int32    // log scale factor
	det int32    // scale factor
}

// reset puts the band in its initial state; det0 is the initial scale
// factor (32 for the lower band, 8 for the higher).
func (b *band) reset(det0 int32) {
	*b = band{det: det0}
}

// adaptScale updates the log scale factor with multiplier w, limited to
// nbMax, and recomputes the linear scale factor; shift is 8 for the
// lower band and 10 for the higher (blocks LOGSCL/LOGSCH and
// SCALEL/SCALEH).
func (b *band) adaptScale(w, nbMax, shift int32) {
	nb := (b.nb*127)>>7 + w
	b.nb = clamp(nb, 0, nbMax)
	frac := (b.nb >> 6) & 31
	e := shift - (b.nb >> 11)
	var v int32
	if e < 0 {
		v = ilb[frac] << -e
	} else {
		v = ilb[frac] >> e
	}
	b.det = v << 2
}

// update runs the predictor adaptation for the quantized difference d
// (blocks RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ
// and PREDIC) and leaves the next signal estimate in b.s. It works on
// locals and writes the state back once: the same arithmetic as the
// blocks one after the other, in fewer loads and stores.
func (b *band) update(d int32) {
	r0 := sat16(b.s + d)  // RECONS: reconstructed signal
	p0 := sat16(b.sz + d) // PARREC: partially reconstructed signal
	p1, p2 := b.p[1], b.p[2]
	a1, a2 := b.a[1], b.a[2]

	// UPPOL2: the second pole coefficient.
	sameSign1 := p0>>15 == p1>>15
	w1 := sat16(a1 << 2)
	w2 := w1
	if sameSign1 {
		w2 = -w1
	}
	w2 = min(w2, 32767)
	w3 := int32(-128)
	if p0>>15 == p2>>15 {
		w3 = 128
	}
	w3 += w2>>7 + (a2*32512)>>15
	ap2 := clamp(w3, -12288, 12288)

	// UPPOL1: the first, limited by the second.
	w1 = -192
	if sameSign1 {
		w1 = 192
	}
	// ap2 is within ±12288 and a1 within ±27648 (it was limited so), so
	// neither sum below needs the saturation the Recommendation writes.
	lim := 15360 - ap2
	ap1 := clamp(w1+(a1*32640)>>15, -lim, lim)

	// UPZERO, DELAYA and FILTEZ in one pass over the six zeros: each
	// coefficient steps towards the sign agreement of d and the
	// difference it weighs (+step when alike, -step when not, without a
	// branch), the difference line shifts, and the zero section sums
	// the new coefficients times the shifted line.
	step := int32(128)
	if d == 0 {
		step = 0
	}
	// The line holds the differences doubled and saturated, as FILTEZ
	// weighs them (their signs are the differences' own), so that each
	// is doubled once rather than at each of its six uses.
	var sz int32
	shifted := sat16(d + d) // the new d[i]: the old d[i-1]
	for i := 1; i < 7; i++ {
		old := b.d[i]
		m := (old ^ d) >> 31
		// No saturation needed: |b| <= 32768 leaks to at most 32640
		// (32639 above zero), and ±128 keeps it in 16 bits.
		c := (step ^ m) - m + (b.b[i]*32640)>>15
		b.b[i] = c
		b.d[i] = shifted
		sz += (c * shifted) >> 15
		shifted = old
	}

	// DELAYA for the poles, then FILTEP and PREDIC (the reconstructed
	// signal is kept doubled and saturated too: FILTEP's input).
	rr0 := sat16(r0 + r0)
	rr1 := b.r[1]
	b.r[1], b.r[2] = rr0, rr1
	b.p[1], b.p[2] = p0, p1
	b.a[1], b.a[2] = ap1, ap2
	sp := sat16((ap1*rr0)>>15 + (ap2*rr1)>>15)
	b.sz = sat16(sz)
	b.s = sat16(sp + b.sz)
}

// lowUpdate adapts the lower band to its 6-bit code: the 4-bit inverse
// quantizer's output drives the predictor, the code's magnitude class
// the scale factor.
func (b *band) lowUpdate(code int32) {
	ril := code >> 2
	d := (b.det * qm4[ril]) >> 15
	b.adaptScale(wl[rl42[ril]], 18432, 8)
	b.update(d)
}

// highUpdate adapts the higher band to its 2-bit code and returns the
// quantized difference it decoded.
func (b *band) highUpdate(code int32) int32 {
	d := (b.det * qm2[code]) >> 15
	b.adaptScale(wh[rh2[code]], 22528, 10)
	b.update(d)
	return d
}

// Encoder encodes 16 kHz linear PCM to G.722 at 64 kbit/s. The zero
// Encoder is a new stream's.
type Encoder struct {
	low, high band
	// x is the QMF input history, twice over (a ring that can always be
	// read as one array): the last 24 samples, oldest first, are
	// x[pos:pos+24].
	x     [48]int32
	pos   int
	ready bool // Reset has set the initial scale factors
}

// NewEncoder returns an Encoder in the initial state.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.Reset()
	return e
}

// Reset returns the encoder to its initial state (a new stream).
func (e *Encoder) Reset() {
	e.low.reset(32)
	e.high.reset(8)
	e.x = [48]int32{}
	e.pos = 0
	e.ready = true
}

// Encode appends the G.722 code of pcm (16 kHz samples) to dst and
// returns it: one byte per pair of samples. An odd last sample is
// dropped. It does not allocate when dst has room for len(pcm)/2 bytes.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	if !e.ready {
		e.Reset()
	}
	for i := 0; i+1 < len(pcm); i += 2 {
		dst = append(dst, e.encodePair(int32(pcm[i]), int32(pcm[i+1])))
	}
	return dst
}

// encodePair codes two consecutive 16 kHz samples into one byte.
func (e *Encoder) encodePair(s0, s1 int32) byte {
	// Transmit QMF: the sums of the even and the odd taps over the last
	// 24 samples give the lower (sum) and higher (difference) band.
	p := e.pos
	e.x[p], e.x[p+1], e.x[p+24], e.x[p+25] = s0, s1, s0, s1
	if p += 2; p == 24 {
		p = 0
	}
	e.pos = p
	// Written out (constant indices: no bounds checks, no loop); h is
	// symmetric: h[23-i] == h[i].
	x := (*[24]int32)(e.x[p : p+24])
	h := &qmf
	even := h[0]*x[0] +
		h[1]*x[22] +
		h[2]*x[2] +
		h[3]*x[20] +
		h[4]*x[4] +
		h[5]*x[18] +
		h[6]*x[6] +
		h[7]*x[16] +
		h[8]*x[8] +
		h[9]*x[14] +
		h[10]*x[10] +
		h[11]*x[12]
	odd := h[0]*x[23] +
		h[1]*x[1] +
		h[2]*x[21] +
		h[3]*x[3] +
		h[4]*x[19] +
		h[5]*x[5] +
		h[6]*x[17] +
		h[7]*x[7] +
		h[8]*x[15] +
		h[9]*x[9] +
		h[10]*x[13] +
		h[11]*x[11]
	xl := (odd + even) >> 14
	xh := (odd - even) >> 14

	// Lower band: quantize the prediction error with 6 bits.
	el := sat16(xl - e.low.s)
	mag := el
	if el < 0 {
		mag = -(el + 1)
	}
	// The first interval k (1..30) whose upper decision level
	// (q6[k]·det)>>12 is above mag: one more than the number of levels
	// 1..29 at or below it. mag >= (q·det)>>12 is (mag+1)<<12 > q·det
	// (the shift floors), so a branchless binary search over the padded
	// levels counts them without mispredicted branches (the data decides
	// every step; the sentinels 30 and 31 are never reached).
	m := int64(mag+1) << 12
	det := int64(e.low.det)
	k := 0
	for half := 16; half > 0; half >>= 1 {
		below := int((int64(q6search[k+half])*det - m) >> 63) // -1 when level k+half <= mag
		k += half & below
	}
	k++
	il := ilp[k]
	if el < 0 {
		il = iln[k]
	}
	e.low.lowUpdate(il)

	// Higher band: 2 bits.
	eh := sat16(xh - e.high.s)
	mag = eh
	if eh < 0 {
		mag = -(eh + 1)
	}
	var ih int32
	switch {
	case mag >= (564*e.high.det)>>12 && eh < 0:
		ih = 0
	case mag >= (564*e.high.det)>>12:
		ih = 2
	case eh < 0:
		ih = 1
	default:
		ih = 3
	}
	e.high.highUpdate(ih)
	return byte(ih<<6 | il)
}

// Decoder decodes G.722 at 64 kbit/s to 16 kHz linear PCM. The zero
// Decoder is a new stream's.
type Decoder struct {
	low, high band
	// x is the receive QMF history, pairs (difference, sum), twice over:
	// the last 12 pairs, oldest first, are x[pos:pos+24].
	x     [48]int32
	pos   int
	ready bool
}

// NewDecoder returns a Decoder in the initial state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state (a new stream).
func (d *Decoder) Reset() {
	d.low.reset(32)
	d.high.reset(8)
	d.x = [48]int32{}
	d.pos = 0
	d.ready = true
}

// Decode appends the 16 kHz samples of the G.722 code to dst and returns
// it: two samples per byte. Every byte is a valid code, so any input
// decodes. It does not allocate when dst has room for 2*len(code)
// samples.
func (d *Decoder) Decode(dst []int16, code []byte) []int16 {
	if !d.ready {
		d.Reset()
	}
	for _, c := range code {
		s0, s1 := d.decodeByte(c)
		dst = append(dst, s0, s1)
	}
	return dst
}

func (d *Decoder) decodeByte(c byte) (int16, int16) {
	il := int32(c & 0x3f)
	ih := int32(c >> 6)

	// Lower band: the output uses the full 6-bit inverse quantizer.
	rl := clamp(d.low.s+(d.low.det*qm6[il])>>15, -16384, 16383)
	d.low.lowUpdate(il)

	// Higher band.
	sh := d.high.s
	rh := clamp(sh+d.high.highUpdate(ih), -16384, 16383)

	// Receive QMF: two output samples from the sub-bands' difference
	// and sum.
	p := d.pos
	xd, xs := rl-rh, rl+rh
	d.x[p], d.x[p+1], d.x[p+24], d.x[p+25] = xd, xs, xd, xs
	if p += 2; p == 24 {
		p = 0
	}
	d.pos = p
	// xout(j) = 2·Σ h(2i)·xd(j-i), xout(j+1) = 2·Σ h(2i+1)·xs(j-i),
	// written out (constant indices: no bounds checks, no loop).
	x := (*[24]int32)(d.x[p : p+24])
	h := &qmf
	o0 := x[22]*h[0] +
		x[20]*h[2] +
		x[18]*h[4] +
		x[16]*h[6] +
		x[14]*h[8] +
		x[12]*h[10] +
		x[10]*h[12] +
		x[8]*h[14] +
		x[6]*h[16] +
		x[4]*h[18] +
		x[2]*h[20] +
		x[0]*h[22]
	o1 := x[23]*h[1] +
		x[21]*h[3] +
		x[19]*h[5] +
		x[17]*h[7] +
		x[15]*h[9] +
		x[13]*h[11] +
		x[11]*h[13] +
		x[9]*h[15] +
		x[7]*h[17] +
		x[5]*h[19] +
		x[3]*h[21] +
		x[1]*h[23]
	return int16(sat16(o0 >> 11)), int16(sat16(o1 >> 11))
}
