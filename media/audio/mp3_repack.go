package audio

// go-mp3 v0.3.4 computes the length of MPEG-2 frames as
// ((144·bitrate/rate) + padding) >> 1, which is one byte short for padded
// frames whenever 144·bitrate/rate rounds down to an even number (22.05 kHz
// at 8-32 or 96 kbit/s, for instance: exactly what sox/LAME write for
// speech). It then loses a byte of the bit reservoir and decodes noise.
// It also refuses MPEG-2.5. repackLSF works around both without touching
// the audio data: it re-frames a low-sampling-frequency (MPEG-2/2.5)
// Layer III stream into unpadded frames at the top MPEG-2 bitrate, whose
// length go-mp3 computes correctly, moving each frame's main data into the
// new frames' bit reservoir. Headers keep their mode bits; MPEG-2.5 11.025
// and 12 kHz frames are relabelled as MPEG-2 16 kHz, which uses the same
// scale factor band tables (the caller must then use the real rate).

// lsfMaxBitrateIndex is the bitrate index of 160 kbit/s in MPEG-2 Layer III.
const lsfMaxBitrateIndex = 14

// lsfReservoir is the furthest back (in bytes) an MPEG-2 frame's main data
// may begin: main_data_begin is 8 bits wide.
const lsfReservoir = 255

// lsfFrame is one frame of the source stream.
type lsfFrame struct {
	header   [4]byte
	sideInfo []byte // 9 bytes (mono) or 17 (stereo)
	dataPos  int    // start of this frame's main data in the reservoir stream
	dataLen  int    // bytes of main data (part2_3_length, rounded up)
}

// repackLSF returns the re-framed stream, or ok == false if data does not
// start with MPEG-2/2.5 Layer III frames or cannot be re-framed (the caller
// then falls back to the original bytes).
func repackLSF(data []byte) (out []byte, ok bool) {
	var (
		frames    []lsfFrame
		reservoir []byte // every frame's main data section, concatenated
	)
	for off := 0; off+4 <= len(data); {
		h, valid := parseMPEGHeader(data[off:])
		if !valid || h.layer != 3 || h.version == 10 {
			// Junk between frames: resynchronise on a confirmed frame.
			next := -1
			for i := off + 1; i+4 <= len(data); i++ {
				if g, ok := mpegFrameAt(data[i:]); ok && g.layer == 3 && g.version != 10 {
					next = i
					break
				}
			}
			if next < 0 {
				break
			}
			off = next
			continue
		}
		if h.version == 25 && h.rate == 8000 {
			return nil, false // no MPEG-2 rate shares the 8 kHz band tables
		}
		n := h.frameLen()
		if off+n > len(data) {
			break // truncated last frame
		}
		frame := data[off : off+n]
		off += n

		pos := 4
		if frame[1]&1 == 0 {
			pos += 2 // CRC
		}
		mono := frame[3]>>6 == 3
		siLen := 17
		if mono {
			siLen = 9
		}
		if pos+siLen > len(frame) {
			continue
		}
		si := frame[pos : pos+siLen]
		section := frame[pos+siLen:]

		// Side info: main_data_begin (8 bits), private bits (1 mono, 2
		// stereo), then 63 bits per channel starting with part2_3_length.
		mainDataBegin := int(si[0])
		bitPos, channels := 10, 2
		if mono {
			bitPos, channels = 9, 1
		}
		bitsUsed := 0
		for ch := range channels {
			bitsUsed += readBits(si, bitPos+63*ch, 12)
		}
		f := lsfFrame{
			sideInfo: si,
			dataPos:  len(reservoir) - mainDataBegin,
			dataLen:  (bitsUsed + 7) / 8,
		}
		copy(f.header[:], frame[:4])
		reservoir = append(reservoir, section...)
		if f.dataPos < 0 || f.dataPos+f.dataLen > len(reservoir) {
			continue // refers to data before the stream start, or corrupt
		}
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		return nil, false
	}
	return writeLSF(frames, reservoir)
}

// writeLSF emits frames as unpadded 160 kbit/s MPEG-2 frames without CRC,
// placing each frame's main data as early as the reservoir allows.
func writeLSF(frames []lsfFrame, reservoir []byte) ([]byte, bool) {
	type outFrame struct {
		header   [4]byte
		sideInfo []byte
		start    int // of this frame's section in stream
		size     int
	}
	var (
		outs    = make([]outFrame, 0, len(frames))
		stream  []byte // the new frames' main data sections, concatenated
		dataEnd int    // end of the previous frame's main data in stream
	)
	for _, f := range frames {
		h := f.header
		rateIndex := (h[2] >> 2) & 3
		if (h[1]>>3)&3 == 0 { // MPEG-2.5 11.025/12 kHz -> MPEG-2 16 kHz tables
			h[1] |= 0x10
			rateIndex = 2
		}
		h[1] |= 1 // no CRC
		h[2] = lsfMaxBitrateIndex<<4 | rateIndex<<2 | h[2]&1
		hdr, _ := parseMPEGHeader(h[:])
		o := outFrame{header: h, start: len(stream), size: hdr.frameLen() - 4 - len(f.sideInfo)}

		// Main data may start up to 255 bytes back, after the previous
		// frame's data, and must end within this frame's section.
		begin := max(dataEnd, o.start-lsfReservoir)
		if begin+f.dataLen > o.start+o.size {
			return nil, false
		}
		o.sideInfo = append([]byte(nil), f.sideInfo...)
		o.sideInfo[0] = byte(o.start - begin) // main_data_begin
		stream = append(stream, make([]byte, o.size)...)
		copy(stream[begin:], reservoir[f.dataPos:f.dataPos+f.dataLen])
		dataEnd = begin + f.dataLen
		outs = append(outs, o)
	}
	out := make([]byte, 0, len(stream)+len(outs)*21)
	for _, o := range outs {
		out = append(out, o.header[:]...)
		out = append(out, o.sideInfo...)
		out = append(out, stream[o.start:o.start+o.size]...)
	}
	return out, true
}

// readBits returns n bits (MSB first) of b starting at bit pos.
func readBits(b []byte, pos, n int) int {
	v := 0
	for i := range n {
		bit := pos + i
		v = v<<1 | int(b[bit/8]>>(7-bit%8))&1
	}
	return v
}
