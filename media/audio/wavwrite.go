package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/voxgate/voxgate/internal/atomicfile"
)

// wavHeaderSize is the size of the canonical PCM WAV header written here.
const wavHeaderSize = 44

// maxWAVData is the largest data chunk a RIFF size field can describe.
const maxWAVData = math.MaxUint32 - (wavHeaderSize - 8)

// ErrWAVTooLong is returned by WAVWriter.WriteFrame when the recording
// would exceed the 4 GiB RIFF limit (about 74 hours at 8 kHz).
var ErrWAVTooLong = errors.New("audio: WAV data would exceed 4 GiB")

// errWriterClosed is returned by WAVWriter.WriteFrame after Close.
var errWriterClosed = errors.New("audio: WAV writer closed")

// wavHeader returns the 44-byte header of a 16-bit PCM WAV of channels
// interleaved channels holding dataBytes bytes of samples.
func wavHeader(rate, channels int, dataBytes uint32) [wavHeaderSize]byte {
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], dataBytes+wavHeaderSize-8)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)                      // fmt chunk size
	le.PutUint16(h[20:], wavFormatPCM)            // format tag
	le.PutUint16(h[22:], uint16(channels))        // channels
	le.PutUint32(h[24:], uint32(rate))            // sample rate
	le.PutUint32(h[28:], uint32(rate*2*channels)) // byte rate
	le.PutUint16(h[32:], uint16(2*channels))      // block align
	le.PutUint16(h[34:], 16)                      // bits per sample
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataBytes)
	return h
}

// EncodeWAV returns pcm as a 16-bit mono PCM WAV file with the canonical
// 44-byte header.
func EncodeWAV(pcm []int16, rate int) []byte {
	n := min(len(pcm)*2, maxWAVData) / 2 // a RIFF file cannot say more
	h := wavHeader(rate, 1, uint32(n*2))
	out := make([]byte, wavHeaderSize+n*2)
	copy(out, h[:])
	for i, s := range pcm[:n] {
		binary.LittleEndian.PutUint16(out[wavHeaderSize+2*i:], uint16(s))
	}
	return out
}

// WAVWriter streams a 16-bit PCM WAV, as used for recordings: mono, or
// several channels whose samples the frames interleave. The
// header is written first with "unknown" sizes (0xFFFFFFFF, which lenient
// readers, DecodeWAV included, take as "to the end of the file"), samples
// are appended through a small buffer, and Close seeks back to patch the
// real sizes. A WAVWriter is not safe for concurrent use.
type WAVWriter struct {
	w        io.WriteSeeker
	buf      *bufio.Writer
	rate     int
	channels int
	samples  int64
	scratch  []byte
	err      error // sticky: the first write error, or errWriterClosed
}

// NewWAVWriter writes a mono header to w, which should be positioned at
// the start of an empty file, and returns a writer for the samples.
func NewWAVWriter(w io.WriteSeeker, rate int) (*WAVWriter, error) {
	return NewWAVWriterChannels(w, rate, 1)
}

// NewWAVWriterChannels is NewWAVWriter for a file of channels interleaved
// channels (1 or 2): each frame written holds whole sample frames, left
// channel first.
func NewWAVWriterChannels(w io.WriteSeeker, rate, channels int) (*WAVWriter, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("audio: WAV writer: invalid sample rate %d", rate)
	}
	if channels < 1 || channels > 2 {
		return nil, fmt.Errorf("audio: WAV writer: %d channels: want 1 or 2", channels)
	}
	h := wavHeader(rate, channels, 0)
	binary.LittleEndian.PutUint32(h[4:], math.MaxUint32)  // RIFF size: unknown
	binary.LittleEndian.PutUint32(h[40:], math.MaxUint32) // data size: unknown
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("audio: WAV writer: header: %w", err)
	}
	return &WAVWriter{w: w, buf: bufio.NewWriterSize(w, 8192), rate: rate, channels: channels}, nil
}

// WriteFrame appends p. It does not keep p, and it does not allocate once
// it has seen a frame of len(p) samples.
func (ww *WAVWriter) WriteFrame(p []int16) error {
	if ww.err != nil {
		return ww.err
	}
	if (ww.samples+int64(len(p)))*2 > maxWAVData {
		return ErrWAVTooLong
	}
	if cap(ww.scratch) < 2*len(p) {
		ww.scratch = make([]byte, 2*len(p))
	}
	b := ww.scratch[:2*len(p)]
	for i, s := range p {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	if _, err := ww.buf.Write(b); err != nil {
		ww.err = fmt.Errorf("audio: WAV writer: %w", err)
		return ww.err
	}
	ww.samples += int64(len(p))
	return nil
}

// Samples returns how many samples have been written.
func (ww *WAVWriter) Samples() int { return int(ww.samples) }

// Close flushes the samples and patches the header sizes. It does not
// close the underlying file, and leaves its offset at the end of the data.
// Calling Close again returns nil.
func (ww *WAVWriter) Close() error {
	if ww.err == errWriterClosed {
		return nil
	}
	failed := ww.err
	ww.err = errWriterClosed
	if failed != nil {
		return failed
	}
	if err := ww.buf.Flush(); err != nil {
		return fmt.Errorf("audio: WAV writer: flush: %w", err)
	}
	h := wavHeader(ww.rate, ww.channels, uint32(ww.samples*2))
	if err := ww.patch(4, h[4:8]); err != nil {
		return err
	}
	if err := ww.patch(40, h[40:44]); err != nil {
		return err
	}
	if _, err := ww.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("audio: WAV writer: seek to end: %w", err)
	}
	return nil
}

// patch overwrites the header bytes at off.
func (ww *WAVWriter) patch(off int64, b []byte) error {
	if _, err := ww.w.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("audio: WAV writer: seek to header: %w", err)
	}
	if _, err := ww.w.Write(b); err != nil {
		return fmt.Errorf("audio: WAV writer: patch header: %w", err)
	}
	return nil
}

// TrimWAVFile writes sample frames [from, to) (a sample frame holds one
// sample of each channel) of src, a 16-bit PCM WAV with the canonical
// 44-byte header as WAVWriter and EncodeWAV write it, to dst, atomically.
// Frames past the end of src are not there to keep.
func TrimWAVFile(src, dst string, from, to int) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(data) < wavHeaderSize || string(data[:4]) != "RIFF" || string(data[36:40]) != "data" {
		return fmt.Errorf("audio: trim %s: not a canonical WAV file", src)
	}
	le := binary.LittleEndian
	block := int(le.Uint16(data[32:])) // bytes per sample frame
	if block == 0 {
		return fmt.Errorf("audio: trim %s: block align 0", src)
	}
	body := data[wavHeaderSize:]
	lo, hi := min(max(from, 0)*block, len(body)), min(max(to, 0)*block, len(body))
	lo = min(lo, hi)
	out := make([]byte, 0, wavHeaderSize+hi-lo)
	out = append(out, data[:wavHeaderSize]...)
	out = append(out, body[lo:hi]...)
	le.PutUint32(out[40:], uint32(hi-lo))
	le.PutUint32(out[4:], uint32(hi-lo+wavHeaderSize-8))
	return atomicfile.Write(dst, out)
}
