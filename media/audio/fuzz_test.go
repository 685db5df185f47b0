package audio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes and Content-Types to Decode: it must
// never panic, and every error must wrap ErrUnsupported.
func FuzzDecode(f *testing.F) {
	le16 := func(v ...int16) []byte { return EncodeWAV(v, 8000)[44:] }
	f.Add(EncodeWAV([]int16{1, 2, 3, -4}, 8000), "audio/wav")
	f.Add(wavFile(fmtChunk(7, 1, 8000, 1, 8), []byte{0xFF, 0x7F, 0x00}), "")
	f.Add(wavFile(fmtChunk(1, 2, 44100, 6, 24), make([]byte, 12)), "")
	f.Add(wavFile(fmtChunk(3, 1, 22050, 8, 64), make([]byte, 16)), "")
	f.Add([]byte("FORM\x00\x00\x00\x2eAIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00\x00\x02\x00\x10\x40\x0b\xfa\x00\x00\x00\x00\x00\x00\x00SSND\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02"), "")
	f.Add([]byte(".snd\x00\x00\x00\x18\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x1f\x40\x00\x00\x00\x01\xff\x7f"), "")
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"), "")
	f.Add(le16(100, 200), "audio/L16;rate=16000;channels=2")
	f.Add([]byte{0xFF, 0xFF, 0xFF}, "audio/basic")
	f.Add([]byte("<html></html>"), "text/html")
	if mp3, err := os.ReadFile(filepath.Join("testdata", "tones_22050_mono.mp3")); err == nil {
		f.Add(mp3, "audio/mpeg")
		f.Add(mp3[:700], "")
	}
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		pcm, err := Decode(data, contentType)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v does not wrap ErrUnsupported", err)
			}
			if pcm != nil {
				t.Fatalf("error with %d samples", len(pcm))
			}
		}
	})
}
