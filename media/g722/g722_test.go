package g722

import (
	"encoding/binary"
	"os"
	"testing"
)

func readS16(t testing.TB, name string) []int16 {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

func readBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncoderMatchesReference encodes the test signal (a 50 Hz-7.5 kHz
// chirp, a full-scale square burst and noise) and compares every code
// byte with spandsp's (testdata/make_reference.py).
func TestEncoderMatchesReference(t *testing.T) {
	pcm := readS16(t, "testdata/signal.s16")
	want := readBytes(t, "testdata/signal.g722")
	e := NewEncoder()
	// In packets of 20 ms, as on RTP.
	var got []byte
	for i := 0; i < len(pcm); i += 320 {
		got = e.Encode(got, pcm[i:min(i+320, len(pcm))])
	}
	if len(got) != len(want) {
		t.Fatalf("%d code bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("code byte %d (sample %d) is %#02x, reference %#02x", i, 2*i, got[i], want[i])
		}
	}
}

// TestDecoderMatchesReference decodes the reference's code of the test
// signal, and pseudo-random bytes (every code value, in any order), and
// compares the samples with spandsp's output. The predictor state is the
// encoder's (bit exact above), but spandsp's decoder output differs from
// ours by a few units now and then (its low-band reconstruction is off
// by 1-2 at times; found by decoding in its 8 kHz mode), and where the
// signal clips it wraps the 16-bit value round while G.722's LIMIT
// saturates, as we do. So: besides the wrapped samples, at least 90% (99%
// for the test signal) identical and none more than 8 units apart.
func TestDecoderMatchesReference(t *testing.T) {
	for _, name := range []string{"signal", "random"} {
		t.Run(name, func(t *testing.T) {
			code := readBytes(t, "testdata/"+name+".g722")
			want := readS16(t, "testdata/"+name+".decoded.s16")
			d := NewDecoder()
			var got []int16
			for i := 0; i < len(code); i += 160 {
				got = d.Decode(got, code[i:min(i+160, len(code))])
			}
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			same, wrapped := 0, 0
			for i := range got {
				diff := int(got[i]) - int(want[i])
				switch {
				case diff == 0:
					same++
				case (got[i] == 32767 || got[i] == -32768) && (want[i] < 0) != (got[i] < 0):
					wrapped++ // saturated here, wrapped round there
				case diff > 8 || diff < -8:
					t.Fatalf("sample %d is %d, reference %d", i, got[i], want[i])
				}
			}
			t.Logf("%d of %d samples identical, %d saturated where the reference wrapped", same, len(got), wrapped)
			need := (len(got) - wrapped) * 99 / 100
			if name == "random" {
				need = (len(got) - wrapped) * 90 / 100
			}
			if same < need {
				t.Errorf("only %d of %d samples identical to the reference, want %d", same, len(got)-wrapped, need)
			}
		})
	}
}
