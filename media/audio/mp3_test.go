package audio

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// mp3Delay bounds the encoder + decoder delay searched when aligning
// decoded MP3 with the reference (LAME adds ~1100 samples at the source
// rate, about 140 samples at 8 kHz, plus an Info frame).
const mp3Delay = 1500

// fixtureMP3 is a committed 0.5 s, 22.05 kHz mono, 32 kbit/s MPEG-2 MP3 of
// testSignal, made with: sox -n -r 22050 -c 1 testdata/tones_22050_mono.mp3
// synth 0.5 sine 440 synth 0.5 sine mix 1300 synth 0.5 sine mix 2900 vol 0.9
// Its padded frames trip go-mp3's frame-length bug, so it also checks
// repackLSF (without it the correlation falls to ~0.2).
func fixtureMP3(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "tones_22050_mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkMP3 decodes data and compares it with ref, allowing for codec delay.
func checkMP3(t *testing.T, data []byte, ref []int16) {
	t.Helper()
	got, err := DecodeMP3(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < len(ref) || len(got) > len(ref)+mp3Delay {
		t.Errorf("%d samples, want %d plus codec delay", len(got), len(ref))
	}
	c, lag := bestCorrelation(ref, got, mp3Delay)
	if c < 0.98 {
		t.Errorf("best correlation with reference = %.4f (lag %d), want > 0.98", c, lag)
	}
	t.Logf("correlation %.4f at lag %d", c, lag)
}

func TestDecodeMP3Fixture(t *testing.T) {
	checkMP3(t, fixtureMP3(t), soxReference(t))
}

// soxCanMP3 reports whether this sox reads and writes MP3 (libsox-fmt-mp3).
func soxCanMP3(t *testing.T) bool {
	probe := filepath.Join(t.TempDir(), "probe.mp3")
	out, err := exec.Command("sox", "-n", probe, "synth", "0.1", "sine", "440").CombinedOutput()
	if err != nil {
		t.Logf("this sox cannot write MP3 (install libsox-fmt-mp3): %v\n%s", err, out)
	}
	return err == nil
}

// soxCanMP3Bench is soxCanMP3 for benchmarks.
func soxCanMP3Bench() bool {
	dir, err := os.MkdirTemp("", "mp3probe")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	return exec.Command("sox", "-n", filepath.Join(dir, "p.mp3"), "synth", "0.1", "sine", "440").Run() == nil
}

func TestDecodeMP3FromSox(t *testing.T) {
	if !soxCanMP3(t) {
		t.Skip("no MP3 support in sox; TestDecodeMP3Fixture still runs")
	}
	ref := soxReference(t)
	for _, rate := range []int{11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000} {
		for _, ch := range []int{1, 2} {
			for _, kbps := range []string{"32", "96"} {
				t.Run(fmt.Sprintf("%d_%dch_%skbps", rate, ch, kbps), func(t *testing.T) {
					args := append([]string{"-n", "-r", fmt.Sprint(rate), "-c", fmt.Sprint(ch), "-C", kbps, "OUT"}, testSignal...)
					data := sox(t, "in.mp3", args...)
					got, err := DecodeMP3(data)
					if err != nil {
						t.Fatal(err)
					}
					// The reference decoder: sox's libmad, resampled by sox.
					dir := t.TempDir()
					in := filepath.Join(dir, "in.mp3")
					if err := os.WriteFile(in, data, 0o600); err != nil {
						t.Fatal(err)
					}
					mad, err := DecodeWAV(sox(t, "mad.wav", in, "-r", "8000", "-c", "1", "-b", "16", "OUT"))
					if err != nil {
						t.Fatal(err)
					}
					if c, lag := bestCorrelation(mad, got, 50); c < 0.98 {
						t.Errorf("correlation with libmad's decoding = %.4f (lag %d), want > 0.98", c, lag)
					}
					// Lossy coding at 32 kbit/s bends the waveform; still it
					// must resemble the signal that was encoded.
					if c, lag := bestCorrelation(ref, got, mp3Delay); c < 0.9 {
						t.Errorf("correlation with the synthesised signal = %.4f (lag %d), want > 0.9", c, lag)
					}
				})
			}
		}
	}
}

func TestDecodeMP3WithID3Tags(t *testing.T) {
	ref := soxReference(t)
	mp3 := fixtureMP3(t)
	// ID3v2.4 tag with a 20-byte body (synchsafe size), then an ID3v1 tag.
	tag := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x14"), make([]byte, 20)...)
	v1 := append([]byte("TAG"), make([]byte, 125)...)
	data := append(append(append([]byte{}, tag...), mp3...), v1...)
	checkMP3(t, data, ref)

	if _, err := DecodeMP3(append(tag[:10:10], mp3[:5]...)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ID3 tag longer than the file: err = %v, want ErrUnsupported", err)
	}
}

func TestDecodeMP3Rejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("<html><body>404 not found</body></html>")},
		{"sync bytes only", []byte{0xFF, 0xFB, 0x90, 0x00}},
		{"truncated frame", fixtureMP3(t)[:300]},
	}
	if soxCanMP3(t) {
		// 8 kHz MP3 is MPEG-2.5, which go-mp3 cannot decode.
		tests = append(tests, struct {
			name string
			data []byte
		}{"MPEG-2.5", sox(t, "8k.mp3", "-n", "-r", "8000", "-c", "1", "OUT", "synth", "0.5", "sine", "440")})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeMP3(tc.data)
			if tc.name == "truncated frame" && err == nil {
				// A truncated stream may legitimately yield its whole frames.
				t.Logf("truncated stream decoded to %d samples", len(got))
				return
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("DecodeMP3 = %d samples, %v; want an ErrUnsupported error", len(got), err)
			}
			t.Log(err)
		})
	}
}
