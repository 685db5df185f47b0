package audio

// mpegHeader is a parsed MPEG audio frame header.
type mpegHeader struct {
	version int // 10 = MPEG-1, 20 = MPEG-2, 25 = MPEG-2.5
	layer   int // 1, 2 or 3
	bitrate int // kbit/s
	rate    int // Hz
	padding int // 0 or 1 slot
}

// MPEG audio bitrate tables in kbit/s, indexed by the 4-bit bitrate index
// (0 = free format, which we treat as invalid).
var (
	mpeg1Bitrates = [3][15]int{
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448}, // layer I
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},    // layer II
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},     // layer III
	}
	mpeg2Bitrates = [3][15]int{
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256}, // layer I
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},      // layers II and III
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	}
	mpegRates = map[int][3]int{
		10: {44100, 48000, 32000},
		20: {22050, 24000, 16000},
		25: {11025, 12000, 8000},
	}
)

// parseMPEGHeader decodes the 4-byte frame header at the start of b.
func parseMPEGHeader(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegHeader{}, false
	}
	var h mpegHeader
	switch (b[1] >> 3) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 20
	case 3:
		h.version = 10
	default:
		return mpegHeader{}, false
	}
	h.layer = 4 - int((b[1]>>1)&3)
	brIndex, rateIndex := int(b[2]>>4), int((b[2]>>2)&3)
	if h.layer == 4 || brIndex == 0 || brIndex == 15 || rateIndex == 3 || b[3]&3 == 2 {
		return mpegHeader{}, false
	}
	if h.version == 10 {
		h.bitrate = mpeg1Bitrates[h.layer-1][brIndex]
	} else {
		h.bitrate = mpeg2Bitrates[h.layer-1][brIndex]
	}
	h.rate = mpegRates[h.version][rateIndex]
	h.padding = int(b[2]>>1) & 1
	return h, true
}

// frameLen returns the length of the frame in bytes, header included.
func (h mpegHeader) frameLen() int {
	switch {
	case h.layer == 1:
		return (12000*h.bitrate/h.rate + h.padding) * 4
	case h.layer == 3 && h.version != 10:
		return 72000*h.bitrate/h.rate + h.padding
	}
	return 144000*h.bitrate/h.rate + h.padding
}

// mpegFrameAt reports whether a plausible MPEG audio frame starts at b[0]:
// a valid header whose successor, if the data reaches that far, is a valid
// header of the same version, layer and rate.
func mpegFrameAt(b []byte) (mpegHeader, bool) {
	h, ok := parseMPEGHeader(b)
	if !ok {
		return h, false
	}
	n := h.frameLen()
	if len(b) < n+4 {
		return h, true
	}
	next, ok := parseMPEGHeader(b[n:])
	return h, ok && next.version == h.version && next.layer == h.layer && next.rate == h.rate
}

// skipID3v2 returns data without any ID3v2 tags at its start. ok is false
// when a tag claims more bytes than there are.
func skipID3v2(data []byte) (rest []byte, ok bool) {
	for len(data) >= 10 && string(data[:3]) == "ID3" {
		s := data[6:10]
		if (s[0]|s[1]|s[2]|s[3])&0x80 != 0 {
			return nil, false // sizes are synchsafe: 7 bits per byte
		}
		size := 10 + (int(s[0])<<21 | int(s[1])<<14 | int(s[2])<<7 | int(s[3]))
		if data[5]&0x10 != 0 {
			size += 10 // footer present
		}
		if size > len(data) {
			return nil, false
		}
		data = data[size:]
	}
	return data, true
}

// looksLikeMP3 reports whether data starts with an ID3v2 tag or an MPEG
// audio frame (confirmed by the frame that follows it).
func looksLikeMP3(data []byte) bool {
	if len(data) >= 3 && string(data[:3]) == "ID3" {
		return true
	}
	_, ok := mpegFrameAt(data)
	return ok
}
