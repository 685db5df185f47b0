package audio

import (
	"mime"
	"strconv"
	"strings"

	"github.com/voxgate/voxgate/media"
)

// Decode turns a fetched audio file into 8 kHz mono int16 samples.
//
// The container is recognised by its magic bytes whatever contentType says
// (servers often send application/octet-stream or a wrong audio type):
// RIFF/WAVE and RF64 ([DecodeWAV]), FORM/AIFF and AIFC, Sun .au (".snd"),
// and ID3v2 tags or MPEG Layer III frames ([DecodeMP3]). Only headerless
// data falls back to contentType (parameters such as ";rate=16000" are
// honoured, default 8000 Hz, mono):
//
//	audio/basic, audio/ulaw, audio/x-ulaw, audio/mulaw, audio/pcmu  raw μ-law
//	audio/alaw, audio/x-alaw, audio/pcma                            raw A-law
//	audio/l16                                                       raw 16-bit big-endian PCM (RFC 2586)
//	audio/mpeg, audio/mp3, audio/mpeg3, audio/x-mpeg-3               MP3 with junk before the first frame
//
// Any failure, including empty data, returns an error wrapping
// [ErrUnsupported].
func Decode(data []byte, contentType string) ([]int16, error) {
	if len(data) == 0 {
		return nil, unsupportedf("empty audio file")
	}
	switch {
	case hasPrefixAt(data, 0, "RIFF", "RF64") && hasPrefixAt(data, 8, "WAVE"):
		return DecodeWAV(data)
	case hasPrefixAt(data, 0, "FORM") && hasPrefixAt(data, 8, "AIFF", "AIFC"):
		return decodeAIFF(data)
	case hasPrefixAt(data, 0, ".snd"):
		return decodeAU(data)
	}
	raw, rawErr := rawLayout(contentType)
	if looksLikeMP3(data) {
		pcm, err := DecodeMP3(data)
		if err == nil || raw == nil {
			return pcm, err
		}
		// The bytes only looked like MPEG; believe the raw Content-Type.
	}
	if rawErr != nil {
		return nil, rawErr
	}
	if raw == nil {
		return DecodeMP3(data)
	}
	pcm, err := decodeLayout(raw.layout, raw.rate, data)
	if err != nil {
		return nil, unsupportedf("%s: %w", raw.name, err)
	}
	return pcm, nil
}

// hasPrefixAt reports whether data[off:] starts with one of the prefixes.
func hasPrefixAt(data []byte, off int, prefixes ...string) bool {
	if off > len(data) {
		return false
	}
	for _, p := range prefixes {
		if strings.HasPrefix(string(data[off:]), p) {
			return true
		}
	}
	return false
}

// rawFormat is headerless audio described only by its Content-Type.
type rawFormat struct {
	name   string
	layout sampleLayout
	rate   int
}

// rawLayout interprets contentType. It returns (nil, nil) for MPEG types,
// which DecodeMP3 handles, and an error for anything that is not audio we
// can decode without a header.
func rawLayout(contentType string) (*rawFormat, error) {
	if strings.TrimSpace(contentType) == "" {
		return nil, unsupportedf("unrecognised audio data and no Content-Type")
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, unsupportedf("Content-Type %q: %w", contentType, err)
	}
	f := &rawFormat{name: mediaType, rate: media.SampleRate}
	switch mediaType {
	case "audio/basic", "audio/ulaw", "audio/x-ulaw", "audio/mulaw", "audio/x-mulaw", "audio/pcmu":
		f.layout = sampleLayout{enc: encULaw, width: 1}
	case "audio/alaw", "audio/x-alaw", "audio/pcma":
		f.layout = sampleLayout{enc: encALaw, width: 1}
	case "audio/l16":
		f.layout = sampleLayout{enc: encSigned, width: 2, bigEndian: true}
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3", "audio/x-mp3":
		return nil, nil
	default:
		return nil, unsupportedf("unrecognised audio data with Content-Type %q", contentType)
	}
	f.layout.channels = 1
	if s, ok := params["rate"]; ok {
		if f.rate, err = strconv.Atoi(s); err != nil {
			return nil, unsupportedf("Content-Type %q: bad rate: %w", contentType, err)
		}
	}
	if s, ok := params["channels"]; ok {
		if f.layout.channels, err = strconv.Atoi(s); err != nil {
			return nil, unsupportedf("Content-Type %q: bad channels: %w", contentType, err)
		}
	}
	f.layout.stride = f.layout.channels * f.layout.width
	return f, nil
}
