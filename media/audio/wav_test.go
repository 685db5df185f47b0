package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// testSignal is the sox synth chain used for decode tests: three tones
// inside the telephone band, 0.5 s, peak 0.9 of full scale.
var testSignal = []string{"synth", "0.5", "sine", "440", "synth", "0.5", "sine", "mix", "1300", "synth", "0.5", "sine", "mix", "2900", "vol", "0.9"}

// soxReference is testSignal synthesised directly at 8 kHz, 16-bit mono.
func soxReference(t *testing.T) []int16 {
	t.Helper()
	data := sox(t, "ref.wav", append([]string{"-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "OUT"}, testSignal...)...)
	ref, err := DecodeWAV(data)
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	return ref
}

func TestDecodeWAVFromSox(t *testing.T) {
	ref := soxReference(t)
	encodings := []struct {
		name string
		args []string
	}{
		{"u8", []string{"-e", "unsigned-integer", "-b", "8"}},
		{"s16", []string{"-e", "signed-integer", "-b", "16"}},
		{"s24", []string{"-e", "signed-integer", "-b", "24"}},
		{"s32", []string{"-e", "signed-integer", "-b", "32"}},
		{"f32", []string{"-e", "floating-point", "-b", "32"}},
		{"f64", []string{"-e", "floating-point", "-b", "64"}},
		{"ulaw", []string{"-e", "u-law", "-b", "8"}},
		{"alaw", []string{"-e", "a-law", "-b", "8"}},
	}
	rates := []int{8000, 11025, 16000, 22050, 32000, 44100, 48000}
	tags := map[uint16]bool{}
	for _, enc := range encodings {
		for _, rate := range rates {
			for _, ch := range []int{1, 2, 6} {
				if ch == 6 && rate != 44100 {
					continue // surround only at one rate, to keep the test quick
				}
				t.Run(fmt.Sprintf("%s_%d_%dch", enc.name, rate, ch), func(t *testing.T) {
					args := append([]string{"-n", "-r", fmt.Sprint(rate), "-c", fmt.Sprint(ch)}, enc.args...)
					args = append(append(args, "OUT"), testSignal...)
					data := sox(t, "in.wav", args...)
					tags[wavTag(t, data)] = true
					got, err := DecodeWAV(data)
					if err != nil {
						t.Fatal(err)
					}
					if d := len(got) - len(ref); d < -1 || d > 1 {
						t.Errorf("%d samples, want %d", len(got), len(ref))
					}
					c := correlation(ref, got, 0)
					if c < 0.98 {
						t.Errorf("correlation with reference = %.4f, want > 0.98", c)
					}
					t.Logf("correlation %.5f", c)
					if d := dB(rms(got), rms(ref)); d < -0.5 || d > 0.5 {
						t.Errorf("level %.2f dB from reference, want within 0.5 dB", d)
					}
				})
			}
		}
	}
	for _, tag := range []uint16{wavFormatPCM, wavFormatFloat, wavFormatULaw, wavFormatALaw, wavFormatExtensible} {
		if !tags[tag] {
			t.Errorf("no sox file used format tag 0x%04x; the test no longer covers it", tag)
		}
	}
}

// wavTag returns the format tag of the first fmt chunk in a WAV file.
func wavTag(t *testing.T, data []byte) uint16 {
	t.Helper()
	for off := 12; off+8 <= len(data); {
		size := int(binary.LittleEndian.Uint32(data[off+4:]))
		if string(data[off:off+4]) == "fmt " {
			return binary.LittleEndian.Uint16(data[off+8:])
		}
		off += 8 + size + size&1
	}
	t.Fatal("no fmt chunk")
	return 0
}

func TestDecodeWAVSoxULawLayout(t *testing.T) {
	// testing-with-real-peers.md §3.1: sox writes an 18-byte fmt chunk and a
	// fact chunk, so the samples start at byte 58, not 44.
	data := sox(t, "ulaw.wav", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "OUT", "synth", "1", "sine", "1000", "vol", "0.5")
	if got := binary.LittleEndian.Uint32(data[16:]); got != 18 {
		t.Fatalf("sox fmt chunk is %d bytes; this test expects the 18-byte form", got)
	}
	if string(data[38:42]) != "fact" || string(data[50:54]) != "data" {
		t.Fatalf("unexpected sox chunk layout: % x", data[36:58])
	}
	got, err := DecodeWAV(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8000 {
		t.Fatalf("%d samples, want 8000", len(got))
	}
	want := sine(1000, 0.5*32767, 8000, 8000)
	if c := correlation(want, got, 0); c < 0.999 {
		t.Errorf("correlation with a 1 kHz sine = %.4f", c)
	}
}

func TestDecodeWAVExactPCM(t *testing.T) {
	// An exact 16-bit round trip through sox checks byte order and sign
	// independently of sox's synth.
	pcm := []int16{0, 1, -1, 32767, -32768, 12345, -12345, 256, -256}
	ours := EncodeWAV(pcm, 8000)
	got, err := DecodeWAV(ours)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(pcm) {
		t.Errorf("round trip = %v, want %v", got, pcm)
	}
}

// wavFile builds a WAV from a fmt chunk body, extra chunks and data.
func wavFile(fmtChunk []byte, data []byte, extra ...[]byte) []byte {
	chunk := func(id string, body []byte) []byte {
		b := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(body)))
		b = append(b, body...)
		if len(body)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	body := []byte("WAVE")
	for _, e := range extra {
		body = append(body, e...)
	}
	body = append(body, chunk("fmt ", fmtChunk)...)
	body = append(body, chunk("data", data)...)
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}

func fmtChunk(tag, channels uint16, rate uint32, blockAlign, bits uint16) []byte {
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(blockAlign))
	b = binary.LittleEndian.AppendUint16(b, blockAlign)
	return binary.LittleEndian.AppendUint16(b, bits)
}

func TestDecodeWAVHandBuilt(t *testing.T) {
	le := binary.LittleEndian
	pcm16 := func(v ...int16) []byte {
		var b []byte
		for _, s := range v {
			b = le.AppendUint16(b, uint16(s))
		}
		return b
	}
	listChunk := append(le.AppendUint32([]byte("LIST"), 5), "INFOx\x00"...) // odd size, padded
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"odd LIST chunk before fmt", wavFile(fmtChunk(1, 1, 8000, 2, 16), pcm16(100, -100, 7), listChunk), []int16{100, -100, 7}},
		{"stereo averaged", wavFile(fmtChunk(1, 2, 8000, 4, 16), pcm16(100, 300, -50, -150)), []int16{200, -100}},
		{"trailing partial frame ignored", wavFile(fmtChunk(1, 1, 8000, 2, 16), append(pcm16(5, 6), 0x7F)), []int16{5, 6}},
		{"8-bit unsigned", wavFile(fmtChunk(1, 1, 8000, 1, 8), []byte{128, 255, 0}), []int16{0, 127 * 256, -128 * 256}},
		{"24-bit in 32-bit container", wavFile(fmtChunk(1, 1, 8000, 4, 24), []byte{0, 0, 0x10, 0x20}), []int16{0x2010}},
		{"float clips", wavFile(fmtChunk(3, 1, 8000, 4, 32), le.AppendUint32(le.AppendUint32(nil, 0x40000000), 0xC0000000)), []int16{32767, -32768}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeWAV(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// A streaming writer's "unknown" data size reads to the end of the file.
	f := wavFile(fmtChunk(1, 1, 8000, 2, 16), pcm16(1, 2, 3))
	le.PutUint32(f[len(f)-10:], 0xFFFFFFFF)
	if got, err := DecodeWAV(f); err != nil || fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("unknown data size: got %v, %v", got, err)
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	good := wavFile(fmtChunk(1, 1, 8000, 2, 16), []byte{1, 0})
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE")},
		{"no fmt", append([]byte("RIFF\x0c\x00\x00\x00WAVE"), "data\x02\x00\x00\x00\x01\x00"...)},
		{"no data", good[:36]},
		{"short fmt", wavFile([]byte{1, 0, 1, 0}, []byte{0, 0})},
		{"GSM", wavFile(fmtChunk(0x31, 1, 8000, 65, 0), []byte{0, 0})},
		{"ADPCM", wavFile(fmtChunk(0x11, 1, 8000, 256, 4), []byte{0, 0})},
		{"zero channels", wavFile(fmtChunk(1, 0, 8000, 2, 16), []byte{0, 0})},
		{"zero rate", wavFile(fmtChunk(1, 1, 0, 2, 16), []byte{0, 0})},
		{"huge rate", wavFile(fmtChunk(1, 1, 4000000000, 2, 16), []byte{0, 0})},
		{"48-bit PCM", wavFile(fmtChunk(1, 1, 8000, 6, 48), []byte{0, 0, 0, 0, 0, 0})},
		{"16-bit float", wavFile(fmtChunk(3, 1, 8000, 2, 16), []byte{0, 0})},
		{"extensible too short", wavFile(fmtChunk(0xFFFE, 1, 8000, 2, 16), []byte{0, 0})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeWAV(tc.file)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("DecodeWAV = %d samples, %v; want an ErrUnsupported error", len(got), err)
			}
		})
	}
}
