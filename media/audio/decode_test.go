package audio

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeOtherContainersFromSox(t *testing.T) {
	ref := soxReference(t)
	tests := []struct {
		name string
		file string // output file name: sox picks the format from it
		args []string
	}{
		{"aiff s16 44100 stereo", "a.aiff", []string{"-r", "44100", "-c", "2", "-b", "16"}},
		{"aiff s8 22050", "a.aiff", []string{"-r", "22050", "-c", "1", "-b", "8"}},
		{"aiff s24 48000", "a.aiff", []string{"-r", "48000", "-c", "1", "-b", "24"}},
		{"aifc s16 16000", "a.aifc", []string{"-r", "16000", "-c", "1", "-b", "16"}},
		{"aifc float 32000", "a.aifc", []string{"-r", "32000", "-c", "1", "-e", "floating-point", "-b", "32"}},
		{"au ulaw 8000", "a.au", []string{"-r", "8000", "-c", "1", "-e", "u-law"}},
		{"au alaw 8000 stereo", "a.au", []string{"-r", "8000", "-c", "2", "-e", "a-law"}},
		{"au s16 22050", "a.au", []string{"-r", "22050", "-c", "1", "-b", "16"}},
		{"au s32 11025", "a.au", []string{"-r", "11025", "-c", "1", "-b", "32"}},
		{"au float 44100", "a.au", []string{"-r", "44100", "-c", "1", "-e", "floating-point", "-b", "32"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"-n"}, tc.args...), "OUT")
			data := sox(t, tc.file, append(args, testSignal...)...)
			got, err := Decode(data, "application/octet-stream")
			if err != nil {
				t.Fatal(err)
			}
			if c := correlation(ref, got, 0); c < 0.98 {
				t.Errorf("correlation with reference = %.4f, want > 0.98", c)
			}
		})
	}
}

func TestDecodeRawByContentType(t *testing.T) {
	ref := soxReference(t)
	tests := []struct {
		name, contentType string
		soxType           []string
	}{
		{"ulaw", "audio/basic", []string{"-r", "8000", "-c", "1", "-t", "ul"}},
		{"ulaw with params", "Audio/x-ULaw; rate=8000", []string{"-r", "8000", "-c", "1", "-t", "ul"}},
		{"ulaw 16k", "audio/ulaw;rate=16000", []string{"-r", "16000", "-c", "1", "-t", "ul"}},
		{"alaw", "audio/x-alaw", []string{"-r", "8000", "-c", "1", "-t", "al"}},
		{"L16 stereo 44.1k", "audio/L16;rate=44100;channels=2", []string{"-r", "44100", "-c", "2", "-t", "s16", "-B"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"-n"}, tc.soxType...), "OUT")
			data := sox(t, "raw", append(args, testSignal...)...)
			got, err := Decode(data, tc.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if c := correlation(ref, got, 0); c < 0.98 {
				t.Errorf("correlation with reference = %.4f, want > 0.98", c)
			}
		})
	}
}

func TestDecodeSniffsWhateverTheContentType(t *testing.T) {
	ref := soxReference(t)
	files := map[string][]byte{
		"wav ulaw": sox(t, "a.wav", append([]string{"-n", "-r", "8000", "-e", "u-law", "OUT"}, testSignal...)...),
		"wav s16":  sox(t, "a.wav", append([]string{"-n", "-r", "22050", "-b", "16", "OUT"}, testSignal...)...),
		"aiff":     sox(t, "a.aiff", append([]string{"-n", "-r", "8000", "-b", "16", "OUT"}, testSignal...)...),
		"au":       sox(t, "a.au", append([]string{"-n", "-r", "8000", "-e", "u-law", "OUT"}, testSignal...)...),
		"mp3":      fixtureMP3(t),
	}
	for name, data := range files {
		for _, ct := range []string{"", "audio/mpeg", "audio/wav", "audio/basic", "audio/x-alaw", "text/html; charset=utf-8", "application/octet-stream", "bogus;;"} {
			t.Run(fmt.Sprintf("%s as %q", name, ct), func(t *testing.T) {
				got, err := Decode(data, ct)
				if err != nil {
					t.Fatal(err)
				}
				maxLag := 0
				if name == "mp3" {
					maxLag = mp3Delay
				}
				if c, _ := bestCorrelation(ref, got, maxLag); c < 0.98 {
					t.Errorf("correlation with reference = %.4f", c)
				}
			})
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	html := []byte("<!DOCTYPE html><html><body>Not Found</body></html>")
	tests := []struct {
		name, contentType string
		data              []byte
	}{
		{"empty", "audio/basic", nil},
		{"html page", "text/html", html},
		{"html page served as wav", "audio/wav", html},
		{"html page served as mp3", "audio/mpeg", html},
		{"unknown bytes, no type", "", []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"bad content type", "audio/ulaw; rate", []byte{1, 2, 3}},
		{"bad rate", "audio/ulaw; rate=abc", []byte{1, 2, 3}},
		{"absurd rate", "audio/ulaw; rate=5", []byte{1, 2, 3}},
		{"zero channels", "audio/L16; channels=0", []byte{1, 2, 3, 4}},
		{"WAV with 0 channels", "", wavFile(fmtChunk(1, 0, 8000, 2, 16), []byte{0, 0})},
		{"WAV with 48-bit PCM", "", wavFile(fmtChunk(1, 1, 8000, 6, 48), make([]byte, 6))},
		{"AIFF with 0 channels", "", []byte("FORM\x00\x00\x00\x2eAIFFCOMM\x00\x00\x00\x12\x00\x00\x00\x00\x00\x02\x00\x10\x40\x0b\xfa\x00\x00\x00\x00\x00\x00\x00SSND\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02")},
		{"gsm", "audio/x-gsm", make([]byte, 33)},
		{"RIFF but not WAVE", "audio/wav", []byte("RIFF\x04\x00\x00\x00AVI LIST")},
		{"truncated WAV header", "audio/wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00")},
		{"AIFF without SSND", "audio/aiff", []byte("FORM\x00\x00\x00\x04AIFF")},
		{".au with bad offset", "audio/basic", []byte(".snd\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x1f\x40\x00\x00\x00\x01")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.data, tc.contentType)
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Decode = %d samples, %v; want an ErrUnsupported error", len(got), err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "audio: ") || strings.Count(msg, "audio: ") > 1 {
				t.Errorf("error %q should carry the package prefix exactly once", msg)
			}
		})
	}
}

// TestDecodeTruncatedFiles cuts real files at every length within their
// headers and at many lengths beyond: each prefix must decode or fail
// cleanly with ErrUnsupported.
func TestDecodeTruncatedFiles(t *testing.T) {
	files := [][]byte{
		sox(t, "a.wav", "-n", "-r", "8000", "-e", "u-law", "OUT", "synth", "0.05", "sine", "440"),
		sox(t, "a.wav", "-n", "-r", "44100", "-c", "2", "-b", "24", "OUT", "synth", "0.01", "sine", "440"),
		sox(t, "a.aifc", "-n", "-r", "8000", "OUT", "synth", "0.01", "sine", "440"),
		sox(t, "a.au", "-n", "-r", "8000", "OUT", "synth", "0.01", "sine", "440"),
		fixtureMP3(t),
	}
	for _, f := range files {
		for n := 0; n < len(f); n += 1 + n/200*12 {
			if _, err := Decode(f[:n], ""); err != nil && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%q... cut at %d: %v does not wrap ErrUnsupported", f[:4], n, err)
			}
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct{ name, file string }{
		{"wav_s16_44100_stereo_5s", "a.wav"},
		{"wav_ulaw_8000_5s", "a.wav"},
		{"mp3_22050_mono_5s", "a.mp3"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var args []string
			switch tc.name {
			case "wav_s16_44100_stereo_5s":
				args = []string{"-r", "44100", "-c", "2", "-b", "16"}
			case "wav_ulaw_8000_5s":
				args = []string{"-r", "8000", "-e", "u-law"}
			default:
				if !soxCanMP3Bench() {
					b.Skip("sox cannot write MP3")
				}
				args = []string{"-r", "22050", "-c", "1"}
			}
			args = append(append(append([]string{"-n"}, args...), "OUT"), "synth", "5", "pinknoise", "vol", "0.3")
			data := sox(b, tc.file, args...)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
