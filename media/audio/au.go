package audio

import "encoding/binary"

// auUnknownSize is the .au data size meaning "until the end of the file".
const auUnknownSize = 0xFFFFFFFF

// decodeAU decodes a Sun/NeXT .au file (magic ".snd"): μ-law, A-law, 8 to
// 32-bit big-endian PCM and 32/64-bit float.
func decodeAU(data []byte) ([]int16, error) {
	if len(data) < 24 || string(data[:4]) != ".snd" {
		return nil, unsupportedf("AU: no .snd header")
	}
	be := binary.BigEndian
	offset := int64(be.Uint32(data[4:]))
	size := int64(be.Uint32(data[8:]))
	encoding := be.Uint32(data[12:])
	rate := int64(be.Uint32(data[16:]))
	channels := int64(be.Uint32(data[20:]))
	if offset < 24 || offset > int64(len(data)) {
		return nil, unsupportedf("AU: data offset %d outside a %d-byte file", offset, len(data))
	}
	if channels < 1 || channels > maxChannels {
		return nil, unsupportedf("AU: %d channels", channels)
	}
	if rate > maxSampleRate {
		return nil, unsupportedf("AU: sample rate %d Hz", rate)
	}
	body := data[offset:]
	if size != auUnknownSize && size < int64(len(body)) {
		body = body[:size]
	}
	l := sampleLayout{enc: encSigned, bigEndian: true, channels: int(channels)}
	switch encoding {
	case 1:
		l.enc, l.width = encULaw, 1
	case 2, 3, 4, 5: // 8, 16, 24, 32-bit linear
		l.width = int(encoding) - 1
	case 6:
		l.enc, l.width = encFloat, 4
	case 7:
		l.enc, l.width = encFloat, 8
	case 27:
		l.enc, l.width = encALaw, 1
	default:
		return nil, unsupportedf("AU: encoding %d", encoding)
	}
	l.stride = l.channels * l.width
	out, err := decodeLayout(l, int(rate), body)
	if err != nil {
		return nil, unsupportedf("AU: %w", err)
	}
	return out, nil
}
