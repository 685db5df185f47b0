package audio

import (
	"encoding/binary"
	"math"

	"github.com/voxgate/voxgate/media"
)

// sampleEncoding is how one sample is stored in a container.
type sampleEncoding uint8

const (
	encSigned   sampleEncoding = iota + 1 // two's complement integer
	encUnsigned                           // offset binary (8-bit WAV)
	encFloat                              // IEEE 754, full scale ±1.0
	encULaw                               // G.711 μ-law, 1 byte
	encALaw                               // G.711 A-law, 1 byte
)

// String names the encoding for error messages.
func (e sampleEncoding) String() string {
	switch e {
	case encSigned:
		return "signed PCM"
	case encUnsigned:
		return "unsigned PCM"
	case encFloat:
		return "float"
	case encULaw:
		return "μ-law"
	case encALaw:
		return "A-law"
	}
	return "unknown encoding"
}

// sampleLayout describes interleaved sample frames in a container.
type sampleLayout struct {
	enc       sampleEncoding
	width     int  // bytes per sample: 1-4, or 8 for float64
	bigEndian bool // AIFF, .au and audio/L16 are big-endian; WAV is not
	channels  int
	stride    int // bytes per frame; at least channels*width
}

// Limits on what a header may claim; anything outside is rejected as
// corrupt rather than risking absurd allocations.
const (
	minSampleRate = 1000
	maxSampleRate = 768000
	maxChannels   = 64
)

// g711Tables holds the linear value of every μ-law and A-law byte,
// computed once from the codecs in package media.
var g711Tables = func() (t struct{ ulaw, alaw [256]int16 }) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	copy(t.ulaw[:], media.PCMU.Decode(nil, all))
	copy(t.alaw[:], media.PCMA.Decode(nil, all))
	return t
}()

// validate checks the layout for internal consistency.
func (l sampleLayout) validate() error {
	if l.channels < 1 || l.channels > maxChannels {
		return detailf("%d channels", l.channels)
	}
	ok := false
	switch l.enc {
	case encSigned:
		ok = l.width >= 1 && l.width <= 4
	case encUnsigned, encULaw, encALaw:
		ok = l.width == 1
	case encFloat:
		ok = l.width == 4 || l.width == 8
	}
	if !ok {
		return detailf("%d-byte %s samples", l.width, l.enc)
	}
	if l.stride < l.channels*l.width {
		return detailf("frame of %d bytes cannot hold %d channels of %d bytes", l.stride, l.channels, l.width)
	}
	return nil
}

// sample returns the sample starting at b[0] on the int16 scale
// (full scale ±32768), without rounding.
func (l sampleLayout) sample(b []byte) float64 {
	switch l.enc {
	case encULaw:
		return float64(g711Tables.ulaw[b[0]])
	case encALaw:
		return float64(g711Tables.alaw[b[0]])
	case encUnsigned:
		return float64(int(b[0])-128) * 256
	case encFloat:
		var v float64
		if l.width == 4 {
			v = float64(math.Float32frombits(l.uint32(b)))
		} else {
			v = math.Float64frombits(l.uint64(b))
		}
		if math.IsNaN(v) {
			return 0
		}
		return v * 32768
	}
	// encSigned: place the sample in the top bits of an int32.
	var u uint32
	switch l.width {
	case 1:
		u = uint32(b[0]) << 24
	case 2:
		u = uint32(l.uint16(b)) << 16
	case 3:
		if l.bigEndian {
			u = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8
		} else {
			u = uint32(b[2])<<24 | uint32(b[1])<<16 | uint32(b[0])<<8
		}
	default:
		u = l.uint32(b)
	}
	return float64(int32(u)) / 65536
}

func (l sampleLayout) uint16(b []byte) uint16 {
	if l.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (l sampleLayout) uint32(b []byte) uint32 {
	if l.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (l sampleLayout) uint64(b []byte) uint64 {
	if l.bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// toMono decodes every whole frame in data and averages the channels. A
// trailing partial frame is ignored.
func (l sampleLayout) toMono(data []byte) []int16 {
	frames := len(data) / l.stride
	out := make([]int16, frames)
	if l.enc == encSigned && l.width == 2 && l.channels == 1 && !l.bigEndian && l.stride == 2 {
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		return out
	}
	scale := 1 / float64(l.channels)
	for i := range out {
		frame := data[i*l.stride:]
		var sum float64
		for c := range l.channels {
			sum += l.sample(frame[c*l.width:])
		}
		out[i] = clip16(sum * scale)
	}
	return out
}

// clip16 rounds v to the nearest int16, saturating at the limits.
func clip16(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}

// decodeLayout converts interleaved frames at rate to 8 kHz mono.
func decodeLayout(l sampleLayout, rate int, data []byte) ([]int16, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	if rate < minSampleRate || rate > maxSampleRate {
		return nil, detailf("sample rate %d Hz", rate)
	}
	return Resample(l.toMono(data), rate, media.SampleRate), nil
}
