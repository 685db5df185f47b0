package audio

import (
	"bytes"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// mp3SyncSearch bounds how far into the file DecodeMP3 looks for the first
// frame (after any ID3v2 tag).
const mp3SyncSearch = 64 << 10

// DecodeMP3 decodes MPEG Layer III audio (with or without ID3 tags) to
// 8 kHz mono, using github.com/hajimehoshi/go-mp3. MPEG-2 and MPEG-2.5
// streams are re-framed first to dodge that decoder's frame-length bug
// (see repackLSF). Rejected: layers I and II, and MPEG-2.5 at 8 kHz. If the
// stream breaks off after some audio was decoded, the audio decoded so far
// is returned.
func DecodeMP3(data []byte) (pcm []int16, err error) {
	data, ok := skipID3v2(data)
	if !ok {
		return nil, unsupportedf("MP3: truncated ID3v2 tag")
	}
	if n := len(data); n >= 128 && string(data[n-128:n-125]) == "TAG" {
		data = data[:n-128] // ID3v1 tag
	}
	start := -1
	var h mpegHeader
	for i := 0; i+4 <= len(data) && i < mp3SyncSearch; i++ {
		if h, ok = mpegFrameAt(data[i:]); ok {
			start = i
			break
		}
	}
	switch {
	case start < 0:
		return nil, unsupportedf("MP3: no MPEG audio frame found")
	case h.layer != 3:
		return nil, unsupportedf("MP3: MPEG layer %d is not supported", h.layer)
	}
	data = data[start:]
	if h.version != 10 {
		repacked, ok := repackLSF(data)
		switch {
		case ok:
			data = repacked
		case h.version == 25:
			return nil, unsupportedf("MP3: MPEG-2.5 at %d Hz is not supported", h.rate)
		}
	}
	return decodeMP3Frames(data, h.rate)
}

// decodeMP3Frames runs go-mp3 on data, which starts with a frame, and
// resamples from rate (the true rate: go-mp3 is told 16 kHz for repacked
// MPEG-2.5).
func decodeMP3Frames(data []byte, rate int) (pcm []int16, err error) {
	// go-mp3 may panic on corrupt input; never let a fetched file crash
	// the gateway.
	defer func() {
		if r := recover(); r != nil {
			pcm, err = nil, unsupportedf("MP3: corrupt stream (decoder panic: %v)", r)
		}
	}()
	// Hide Seek so go-mp3 does not pre-scan every frame header.
	dec, err := mp3.NewDecoder(struct{ io.Reader }{bytes.NewReader(data)})
	if err != nil {
		return nil, unsupportedf("MP3: %w", err)
	}
	var raw bytes.Buffer
	raw.Grow(len(data) * 8) // a first guess; it grows as needed
	if _, err := io.Copy(&raw, dec); err != nil && raw.Len() == 0 {
		return nil, unsupportedf("MP3: %w", err)
	}
	stereo := sampleLayout{enc: encSigned, width: 2, channels: 2, stride: 4}
	out, err := decodeLayout(stereo, rate, raw.Bytes())
	if err != nil {
		return nil, unsupportedf("MP3: %w", err)
	}
	return out, nil
}
