package dtmf

// blockSamples is the Detector's analysis block: 20 ms at 8 kHz.
const blockSamples = 160

// Detector finds DTMF key presses in 8 kHz mono int16 audio.
//
// It collects the audio into 20 ms blocks, applies a Hann window and
// measures the eight DTMF frequencies with Goertzel filters. A block holds a
// key when the strongest row and column tones
//   - are each above -45 dBFS (about -42 dBm0),
//   - are each 6 dB above the other tones of their group,
//   - lie within ±2.5% of their nominal frequencies (ITU-T Q.24: ±1.5% is
//     accepted, ±3.5% rejected),
//   - keep within the twist limits: the column tone up to 8 dB above the
//     row tone (normal twist), the row tone up to 4 dB above the column
//     tone (reverse twist),
//   - together carry 80% of the block's power, and
//   - have second harmonics 12 dB below them (speech talk-off; the row
//     tone's harmonic is skipped for keys 2, 3, 6, B and C, where it falls
//     next to the column tone).
//
// A key is reported once, when two consecutive blocks (40 ms) hold it; it is
// reported again only after at least one block without it. Tones of 60 ms
// or more are always found, 40 ms tones when they happen to cover two
// blocks, 20 ms tones never.
//
// Frame allocates nothing.
type Detector struct {
	block    [blockSamples]float64 // samples collected for the next block
	filled   int                   // how many of block are filled
	windowed [blockSamples]float64 // scratch: the windowed block
	last     byte                  // key of the current run of blocks, 0 for none
	run      int                   // length of the current run of blocks
	found    [4]byte               // keys recognised but not yet returned, oldest first
	nfound   int                   // how many of found are in use
}

// NewDetector returns a Detector that has heard only silence.
func NewDetector() *Detector { return &Detector{} }

// Reset forgets all audio heard so far.
func (d *Detector) Reset() { *d = Detector{} }

// Frame takes the next pcm samples (normally one 20 ms frame of 160; any
// length from 80 to 480 is fine) and returns a key and true when a key press
// has been recognised. Keys are returned one per call, in order: should one
// frame complete two presses (a key change without a pause inside a long
// frame), the second is returned by the next call. Up to four recognised
// keys wait for their turn; beyond that the oldest is dropped, which only
// very long frames full of key changes can cause.
func (d *Detector) Frame(pcm []int16) (key byte, ok bool) {
	for len(pcm) > 0 {
		n := copyToFloat(d.block[d.filled:], pcm)
		d.filled += n
		pcm = pcm[n:]
		if d.filled < blockSamples {
			break
		}
		d.filled = 0
		if k, found := d.push(d.analyze()); found {
			d.enqueue(k)
		}
	}
	return d.dequeue()
}

// enqueue adds a recognised key to the keys waiting to be returned.
func (d *Detector) enqueue(k byte) {
	if d.nfound == len(d.found) {
		d.dequeue()
	}
	d.found[d.nfound] = k
	d.nfound++
}

// dequeue removes and returns the oldest waiting key.
func (d *Detector) dequeue() (byte, bool) {
	if d.nfound == 0 {
		return 0, false
	}
	k := d.found[0]
	copy(d.found[:], d.found[1:d.nfound])
	d.nfound--
	return k, true
}

// push advances the run of blocks with the key found in the latest block
// (0 for none) and reports a key when its run reaches minBlocks.
func (d *Detector) push(k byte) (byte, bool) {
	if k != d.last {
		d.last, d.run = k, 0
	}
	d.run++
	if k != 0 && d.run == minBlocks {
		return k, true
	}
	return 0, false
}

// copyToFloat converts as many samples of src as fit into dst.
func copyToFloat(dst []float64, src []int16) int {
	n := min(len(dst), len(src))
	for i, s := range src[:n] {
		dst[i] = float64(s)
	}
	return n
}
