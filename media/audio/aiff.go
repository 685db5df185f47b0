package audio

import (
	"encoding/binary"
	"math"
)

// decodeAIFF decodes an AIFF or AIFF-C file: big-endian PCM, and in AIFF-C
// also little-endian PCM (sowt), float (fl32, fl64), μ-law and A-law.
func decodeAIFF(data []byte) ([]int16, error) {
	if len(data) < 12 || string(data[:4]) != "FORM" || (string(data[8:12]) != "AIFF" && string(data[8:12]) != "AIFC") {
		return nil, unsupportedf("AIFF: no FORM/AIFF header")
	}
	aifc := string(data[8:12]) == "AIFC"
	be := binary.BigEndian
	var (
		layout   sampleLayout
		rate     int
		frames   int64
		haveComm bool
		sound    []byte
		hasSound bool
	)
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		size := int64(be.Uint32(data[off+4:]))
		body := data[off+8:]
		if size < int64(len(body)) {
			body = body[:size]
		}
		switch id {
		case "COMM":
			var err error
			if layout, rate, frames, err = parseAIFFComm(body, aifc); err != nil {
				return nil, err
			}
			haveComm = true
		case "SSND":
			if len(body) < 8 {
				return nil, unsupportedf("AIFF: SSND chunk of %d bytes", len(body))
			}
			skip := int64(be.Uint32(body))
			if skip > int64(len(body)-8) {
				return nil, unsupportedf("AIFF: SSND offset %d beyond the chunk", skip)
			}
			sound, hasSound = body[8+skip:], true
		}
		next := int64(off) + 8 + size + size&1
		if next > int64(len(data)) {
			break
		}
		off = int(next)
	}
	switch {
	case !haveComm:
		return nil, unsupportedf("AIFF: no COMM chunk")
	case !hasSound:
		return nil, unsupportedf("AIFF: no SSND chunk")
	}
	if want := frames * int64(layout.stride); want < int64(len(sound)) {
		sound = sound[:want]
	}
	out, err := decodeLayout(layout, rate, sound)
	if err != nil {
		return nil, unsupportedf("AIFF: %w", err)
	}
	return out, nil
}

// parseAIFFComm reads a COMM chunk.
func parseAIFFComm(b []byte, aifc bool) (l sampleLayout, rate int, frames int64, err error) {
	if len(b) < 18 {
		return l, 0, 0, unsupportedf("AIFF: COMM chunk of %d bytes", len(b))
	}
	be := binary.BigEndian
	l.channels = int(int16(be.Uint16(b)))
	frames = int64(be.Uint32(b[2:]))
	bits := int(int16(be.Uint16(b[6:])))
	rate, ok := extendedToInt(b[8:18])
	if !ok {
		return l, 0, 0, unsupportedf("AIFF: bad sample rate % x", b[8:18])
	}
	l.enc, l.width, l.bigEndian = encSigned, (bits+7)/8, true
	if aifc {
		if len(b) < 22 {
			return l, 0, 0, unsupportedf("AIFF-C: COMM chunk of %d bytes", len(b))
		}
		switch c := string(b[18:22]); c {
		case "NONE", "twos":
		case "sowt":
			l.bigEndian = false
		case "raw ":
			l.enc, l.width = encUnsigned, 1
		case "fl32", "FL32":
			l.enc, l.width = encFloat, 4
		case "fl64", "FL64":
			l.enc, l.width = encFloat, 8
		case "ulaw", "ULAW":
			l.enc, l.width = encULaw, 1
		case "alaw", "ALAW":
			l.enc, l.width = encALaw, 1
		default:
			return l, 0, 0, unsupportedf("AIFF-C: compression %q", c)
		}
	}
	l.stride = l.channels * l.width
	if err := l.validate(); err != nil {
		return l, 0, 0, unsupportedf("AIFF: %w", err)
	}
	return l, rate, frames, nil
}

// extendedToInt converts an 80-bit IEEE 754 extended float (AIFF's sample
// rate) to the nearest integer. ok is false for values outside 1..2^31.
func extendedToInt(b []byte) (v int, ok bool) {
	exp := int(binary.BigEndian.Uint16(b)) // sign bit included: negative rates fail below
	mant := binary.BigEndian.Uint64(b[2:])
	shift := exp - 16383
	if shift < 0 || shift > 30 || mant == 0 {
		return 0, false
	}
	f := math.Ldexp(float64(mant), shift-63)
	return int(math.Round(f)), true
}
