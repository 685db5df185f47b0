package media

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// Codec is a G.711 variant with its static RTP payload type.
type Codec struct {
	Name        string // SDP encoding name: "PCMU" or "PCMA"
	PayloadType uint8
	encode      func(int16) uint8
	decode      func(uint8) int16
}

// The codecs Voxgate speaks on RTP legs.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, encode: g711.EncodeUlawFrame, decode: g711.DecodeUlawFrame}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, encode: g711.EncodeAlawFrame, decode: g711.DecodeAlawFrame}
)

// CodecByName returns the codec with the given SDP encoding name
// (case-insensitive).
func CodecByName(name string) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return PCMU, nil
	case "PCMA":
		return PCMA, nil
	}
	return Codec{}, fmt.Errorf("media: unsupported codec %q", name)
}

// Encode appends the G.711 encoding of pcm to dst and returns it. It does
// not allocate when dst has room for len(pcm) bytes.
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, c.encode(s))
	}
	return dst
}

// Decode appends the linear samples of the G.711 payload to dst and returns
// it. It does not allocate when dst has room for len(payload) samples.
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, c.decode(b))
	}
	return dst
}

// String returns the SDP encoding name.
func (c Codec) String() string { return c.Name }
