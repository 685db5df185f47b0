package media

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zaf/g711"

	"github.com/voxgate/voxgate/media/g722"
)

// Codec is an RTP audio codec with its static payload type: G.711 (PCMU,
// PCMA) or G.722. All three carry one byte per 8 kHz sample on the wire
// (G.722 codes 16 kHz audio, but its RTP clock is 8000 Hz, RFC 3551), so
// a 20 ms packet is FrameSamples bytes whichever is used.
type Codec struct {
	Name        string // SDP encoding name: "PCMU", "PCMA" or "G722"
	PayloadType uint8
	enc         *[1 << 16]uint8 // G.711: code for every 16-bit sample, indexed by uint16(sample)
	dec         *[1 << 8]int16  // G.711: sample for every code
	// wideband marks G.722, which keeps state per stream: an RTP leg
	// codes it with a CodecState of each direction's own, and Encode and
	// Decode, which have no state, panic on it.
	wideband bool
}

// G.711 conversion tables, built once from github.com/zaf/g711's
// per-sample functions (the reference) and never changed: a table lookup
// per sample is several times faster than calling the function, which
// matters at 8,000 samples per second for each of thousands of calls.
var (
	ulawEncode = encodeTable(g711.EncodeUlawFrame)
	alawEncode = encodeTable(g711.EncodeAlawFrame)
	ulawDecode = decodeTable(g711.DecodeUlawFrame)
	alawDecode = decodeTable(g711.DecodeAlawFrame)
)

func encodeTable(encode func(int16) uint8) *[1 << 16]uint8 {
	var t [1 << 16]uint8
	for i := range t {
		t[i] = encode(int16(uint16(i)))
	}
	return &t
}

func decodeTable(decode func(uint8) int16) *[1 << 8]int16 {
	var t [1 << 8]int16
	for i := range t {
		t[i] = decode(uint8(i))
	}
	return &t
}

// The codecs Voxgate speaks on RTP legs.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, enc: ulawEncode, dec: ulawDecode}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, enc: alawEncode, dec: alawDecode}
	// G722 is ITU-T G.722 at 64 kbit/s (package media/g722), converted
	// to and from the engine's 8 kHz audio.
	G722 = Codec{Name: "G722", PayloadType: 9, wideband: true}
)

// Codecs lists the codecs Voxgate speaks, in its default order of
// preference.
func Codecs() []Codec { return []Codec{PCMU, PCMA, G722} }

// IsZero reports whether c is the zero Codec (none chosen).
func (c Codec) IsZero() bool { return c.Name == "" }

// Stateful reports whether the codec keeps state per stream (G.722):
// code it through a CodecState.
func (c Codec) Stateful() bool { return c.wideband }

// CodecByName returns the codec with the given SDP encoding name
// (case-insensitive).
func CodecByName(name string) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return PCMU, nil
	case "PCMA":
		return PCMA, nil
	case "G722", "G.722":
		return G722, nil
	}
	return Codec{}, fmt.Errorf("media: unsupported codec %q", name)
}

// Encode appends the G.711 encoding of pcm to dst and returns it. It does
// not allocate when dst has room for len(pcm) bytes. It panics for G.722
// (use a CodecState).
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	if c.wideband {
		panic("media: Codec.Encode on " + c.Name + ", which needs a CodecState")
	}
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	out = out[:len(pcm)]
	enc := c.enc
	for i, s := range pcm {
		out[i] = enc[uint16(s)]
	}
	return dst
}

// Decode appends the linear samples of the G.711 payload to dst and returns
// it. It does not allocate when dst has room for len(payload) samples. It
// panics for G.722 (use a CodecState).
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	if c.wideband {
		panic("media: Codec.Decode on " + c.Name + ", which needs a CodecState")
	}
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)]
	out := dst[n:]
	out = out[:len(payload)]
	dec := c.dec
	for i, b := range payload {
		out[i] = dec[b]
	}
	return dst
}

// String returns the SDP encoding name.
func (c Codec) String() string { return c.Name }

// CodecState codes one direction of one RTP stream in any Codec: G.711
// directly, G.722 with its per-stream encoder or decoder state, which it
// resets when the stream switches to G.722 from another codec (a
// re-INVITE). Its zero value is ready. It is not safe for concurrent
// use; one is owned by a leg's send loop, another by its receive loop.
// The G.722 state (about 1.4 KB) is made by the first G.722 frame, so a
// G.711 stream does not carry it.
type CodecState struct {
	enc  *g722.NarrowEncoder // nil until the first G.722 Encode
	dec  *g722.NarrowDecoder // nil until the first G.722 Decode
	last string              // the codec last used
}

// Encode appends the encoding of pcm (8 kHz) in c to dst, one byte per
// sample, and returns it. It does not allocate when dst has room.
func (s *CodecState) Encode(c Codec, dst []byte, pcm []int16) []byte {
	if !c.wideband {
		s.last = c.Name
		return c.Encode(dst, pcm)
	}
	if s.enc == nil {
		s.enc = new(g722.NarrowEncoder)
		s.last = ""
	}
	if s.last != c.Name {
		s.enc.Reset()
		s.last = c.Name
	}
	return s.enc.Encode(dst, pcm)
}

// Decode appends the 8 kHz samples of payload, coded in c, to dst and
// returns it, one sample per byte. It does not allocate when dst has
// room.
func (s *CodecState) Decode(c Codec, dst []int16, payload []byte) []int16 {
	if !c.wideband {
		s.last = c.Name
		return c.Decode(dst, payload)
	}
	if s.dec == nil {
		s.dec = new(g722.NarrowDecoder)
		s.last = ""
	}
	if s.last != c.Name {
		s.dec.Reset()
		s.last = c.Name
	}
	return s.dec.Decode(dst, payload)
}

// Reset forgets the stream: the next G.722 packet starts a new one (the
// far end changed its SSRC).
func (s *CodecState) Reset() { s.last = "" }
