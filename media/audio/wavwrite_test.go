package audio

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEncodeWAV(t *testing.T) {
	pcm := sine(1000, 12000, 8000, 8000)
	wav := EncodeWAV(pcm, 8000)
	le := binary.LittleEndian
	if len(wav) != 44+16000 {
		t.Fatalf("len = %d", len(wav))
	}
	for _, c := range []struct {
		name      string
		off, size int
		want      uint32
	}{
		{"RIFF size", 4, 4, 36 + 16000}, {"fmt size", 16, 4, 16}, {"format", 20, 2, 1},
		{"channels", 22, 2, 1}, {"rate", 24, 4, 8000}, {"byte rate", 28, 4, 16000},
		{"block align", 32, 2, 2}, {"bits", 34, 2, 16}, {"data size", 40, 4, 16000},
	} {
		var got uint32
		if c.size == 2 {
			got = uint32(le.Uint16(wav[c.off:]))
		} else {
			got = le.Uint32(wav[c.off:])
		}
		if got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	// sox must read it back bit for bit.
	dir := t.TempDir()
	in := filepath.Join(dir, "ours.wav")
	if err := os.WriteFile(in, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := sox(t, "back.raw", in, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "OUT")
	back := sampleLayout{enc: encSigned, width: 2, channels: 1, stride: 2}.toMono(raw)
	if !slices.Equal(back, pcm) {
		t.Error("sox read different samples")
	}
}

func TestWAVWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWAVWriter(f, 8000)
	if err != nil {
		t.Fatal(err)
	}
	want := sine(440, 9000, 8000, 12345)
	for chunk := range slices.Chunk(want, 160) {
		if err := w.WriteFrame(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if w.Samples() != len(want) {
		t.Errorf("Samples() = %d, want %d", w.Samples(), len(want))
	}
	// Mid-recording the file is already readable (sizes "unknown").
	if err := w.buf.Flush(); err != nil {
		t.Fatal(err)
	}
	if partial, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	} else if got, err := DecodeWAV(partial); err != nil || len(got) != len(want) {
		t.Errorf("unfinished file: %d samples, %v", len(got), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.WriteFrame(want[:10]); err == nil {
		t.Error("WriteFrame after Close succeeded")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(data, EncodeWAV(want, 8000)) {
		t.Error("file differs from EncodeWAV of the same samples")
	}
	// And sox agrees on the length.
	raw := sox(t, "back.raw", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "OUT")
	if len(raw) != 2*len(want) {
		t.Errorf("sox read %d samples, want %d", len(raw)/2, len(want))
	}
}

// failingSeeker accepts the header and then fails every write.
type failingSeeker struct{ writes int }

var errDisk = errors.New("disk full")

func (f *failingSeeker) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 1 {
		return 0, errDisk
	}
	return len(p), nil
}
func (f *failingSeeker) Seek(int64, int) (int64, error) { return 0, nil }

func TestWAVWriterErrors(t *testing.T) {
	if _, err := NewWAVWriter(&failingSeeker{writes: 1}, 8000); !errors.Is(err, errDisk) {
		t.Errorf("header write failure: err = %v", err)
	}
	if _, err := NewWAVWriter(&failingSeeker{}, 0); err == nil {
		t.Error("rate 0 accepted")
	}
	w, err := NewWAVWriter(&failingSeeker{}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var werr error
	for range 100 { // past the 8 KiB buffer
		if werr = w.WriteFrame(frame); werr != nil {
			break
		}
	}
	if !errors.Is(werr, errDisk) {
		t.Errorf("WriteFrame err = %v, want disk full", werr)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close err = %v, want disk full", err)
	}
}

// discardSeeker is an io.WriteSeeker that keeps nothing.
type discardSeeker struct{}

func (discardSeeker) Write(p []byte) (int, error)    { return len(p), nil }
func (discardSeeker) Seek(int64, int) (int64, error) { return 0, nil }

var _ io.WriteSeeker = discardSeeker{}

func BenchmarkWAVWriterWriteFrame(b *testing.B) {
	w, err := NewWAVWriter(discardSeeker{}, 8000)
	if err != nil {
		b.Fatal(err)
	}
	frame := sine(440, 9000, 8000, 160)
	b.ReportAllocs()
	for b.Loop() {
		err := w.WriteFrame(frame)
		if errors.Is(err, ErrWAVTooLong) { // 4 GiB written: start a new file
			w, err = NewWAVWriter(discardSeeker{}, 8000)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestStereoWriterAndTrimWAVFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWAVWriterChannels(f, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 { // ten sample frames: left i, right -i
		if err := w.WriteFrame([]int16{int16(i), int16(-i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.wav")
	if err := TrimWAVFile(src, dst, 3, 6); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if ch, align := le.Uint16(data[22:]), le.Uint16(data[32:]); ch != 2 || align != 4 {
		t.Fatalf("header says %d channels, block align %d; want 2, 4", ch, align)
	}
	if size := le.Uint32(data[40:]); size != 12 || len(data) != 44+12 {
		t.Fatalf("data size %d in a %d-byte file; want 12 bytes of 3 frames", size, len(data))
	}
	for k := range 3 {
		l, r := int16(le.Uint16(data[44+4*k:])), int16(le.Uint16(data[46+4*k:]))
		if l != int16(3+k) || r != -int16(3+k) {
			t.Errorf("frame %d = (%d, %d), want (%d, %d)", k, l, r, 3+k, -(3 + k))
		}
	}
	if err := TrimWAVFile(src, dst, 8, 100); err != nil {
		t.Fatal(err)
	}
	if pcm, err := DecodeWAV(mustRead(t, dst)); err != nil || len(pcm) != 2 {
		t.Errorf("trim past the end: %d samples, %v; want the last 2 frames", len(pcm), err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
