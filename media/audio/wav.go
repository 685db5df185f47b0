package audio

import (
	"bytes"
	"encoding/binary"
)

// WAV format tags (the wFormatTag of the fmt chunk).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatALaw       = 0x0006
	wavFormatULaw       = 0x0007
	wavFormatMPEG3      = 0x0055
	wavFormatExtensible = 0xFFFE
)

// ksGUIDSuffix is the tail shared by the KSDATAFORMAT_SUBTYPE_* GUIDs whose
// first two bytes are a plain WAV format tag.
var ksGUIDSuffix = []byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71}

// wavFormatNames names common tags we cannot decode, for error messages.
var wavFormatNames = map[uint16]string{
	0x0002: "MS ADPCM",
	0x0011: "IMA ADPCM",
	0x0031: "GSM 6.10",
	0x0050: "MPEG audio",
}

// wavFmt is the part of a fmt chunk we use.
type wavFmt struct {
	tag        uint16
	channels   int
	rate       int
	blockAlign int
	bits       int
}

// DecodeWAV decodes a RIFF/WAVE (or RF64) file to 8 kHz mono. It walks the
// chunk list rather than assuming a 44-byte header, so sox's μ-law files
// (18-byte fmt chunk plus a fact chunk) and files with LIST/JUNK chunks work.
// Supported: integer PCM of 8, 16, 24 and 32 bits, 32/64-bit float, μ-law,
// A-law, MPEG Layer III data and WAVE_FORMAT_EXTENSIBLE wrapping any of them;
// any sample rate from 1 kHz to 768 kHz and up to 64 channels (averaged).
// A data chunk whose size overruns the file, as written by streaming
// encoders, is read to the end of the file.
func DecodeWAV(data []byte) ([]int16, error) {
	if len(data) < 12 || (string(data[:4]) != "RIFF" && string(data[:4]) != "RF64") || string(data[8:12]) != "WAVE" {
		return nil, unsupportedf("WAV: no RIFF/WAVE header")
	}
	var (
		f       wavFmt
		haveFmt bool
		pcm     []byte
		hasData bool
	)
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		size := int64(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		if size < int64(len(body)) {
			body = body[:size]
		}
		switch id {
		case "fmt ":
			var err error
			if f, err = parseWAVFmt(body); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !hasData {
				pcm, hasData = body, true
			}
		}
		next := int64(off) + 8 + size + size&1 // chunks are word aligned
		if next > int64(len(data)) {
			break
		}
		off = int(next)
	}
	switch {
	case !haveFmt:
		return nil, unsupportedf("WAV: no fmt chunk")
	case !hasData:
		return nil, unsupportedf("WAV: no data chunk")
	}
	if f.tag == wavFormatMPEG3 {
		return DecodeMP3(pcm)
	}
	layout, err := f.layout()
	if err != nil {
		return nil, err
	}
	out, err := decodeLayout(layout, f.rate, pcm)
	if err != nil {
		return nil, unsupportedf("WAV: %w", err)
	}
	return out, nil
}

// parseWAVFmt reads a fmt chunk, resolving WAVE_FORMAT_EXTENSIBLE to the
// format tag inside its sub-format GUID.
func parseWAVFmt(b []byte) (wavFmt, error) {
	if len(b) < 16 {
		return wavFmt{}, unsupportedf("WAV: fmt chunk of %d bytes", len(b))
	}
	le := binary.LittleEndian
	f := wavFmt{
		tag:        le.Uint16(b[0:]),
		channels:   int(le.Uint16(b[2:])),
		rate:       int(le.Uint32(b[4:])),
		blockAlign: int(le.Uint16(b[12:])),
		bits:       int(le.Uint16(b[14:])),
	}
	if f.tag == wavFormatExtensible {
		if len(b) < 40 {
			return wavFmt{}, unsupportedf("WAV: extensible fmt chunk of %d bytes", len(b))
		}
		guid := b[24:40]
		if !bytes.Equal(guid[2:], ksGUIDSuffix) {
			return wavFmt{}, unsupportedf("WAV: unknown extensible sub-format % x", guid)
		}
		f.tag = le.Uint16(guid)
	}
	return f, nil
}

// layout maps the fmt chunk to a sample layout.
func (f wavFmt) layout() (sampleLayout, error) {
	if f.channels < 1 {
		return sampleLayout{}, unsupportedf("WAV: %d channels", f.channels)
	}
	l := sampleLayout{channels: f.channels, width: (f.bits + 7) / 8}
	switch f.tag {
	case wavFormatPCM:
		l.enc = encSigned
		if f.bits <= 8 {
			l.enc = encUnsigned
		}
		// A sample may sit in a wider container (e.g. 20 bits in 3 bytes,
		// 24 bits in 4); the block alignment tells.
		if c := f.blockAlign / f.channels; f.blockAlign%f.channels == 0 && c > l.width && c <= 4 {
			l.width = c
		}
	case wavFormatFloat:
		l.enc = encFloat
	case wavFormatULaw:
		l.enc, l.width = encULaw, 1
	case wavFormatALaw:
		l.enc, l.width = encALaw, 1
	default:
		name := wavFormatNames[f.tag]
		if name == "" {
			name = "unknown"
		}
		return sampleLayout{}, unsupportedf("WAV: format tag 0x%04x (%s)", f.tag, name)
	}
	l.stride = l.channels * l.width
	if f.blockAlign > l.stride {
		l.stride = f.blockAlign
	}
	return l, nil
}
