package messaging

import (
	"strings"
	"testing"
)

// The vectors Twilio's segment calculator maintainers checked against live
// Twilio (messaging.md §4.2).
func TestNumSegmentsTwilioVectors(t *testing.T) {
	tests := []struct {
		name string
		body string
		enc  Encoding
		want int
	}{
		{"160 a", strings.Repeat("a", 160), GSM7, 1},
		{"161 a", strings.Repeat("a", 161), GSM7, 2},
		{"70 han", strings.Repeat("中", 70), UCS2, 1},
		{"71 han", strings.Repeat("中", 71), UCS2, 2},
		{"CRLF counts", strings.Repeat("a", 80) + "\r\n" + strings.Repeat("a", 79), GSM7, 2},
		{"LF only", strings.Repeat("a", 80) + "\n" + strings.Repeat("a", 79), GSM7, 1},
		{"precomposed e-acute", strings.Repeat("é", 70), GSM7, 1},
		{"combining acute", strings.Repeat("e\u0301", 70), UCS2, 3},
		{"curly quotes", "“hi”", UCS2, 1},
		{"one pipe", "|", GSM7, 1},
		{"brackets and emoji", "this is a " + strings.Repeat("]", 74) + "😘", UCS2, 2},
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10), GSM7, 2},
	}
	for _, tt := range tests {
		enc, parts := Split(tt.body)
		if enc != tt.enc || len(parts) != tt.want {
			t.Errorf("%s: %v, %d parts; want %v, %d", tt.name, enc, len(parts), tt.enc, tt.want)
		}
		if strings.Join(parts, "") != tt.body {
			t.Errorf("%s: parts do not join back to the body", tt.name)
		}
	}
}

func TestSplitLimits(t *testing.T) {
	_, parts := Split(strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10))
	if len(parts[0]) != 152 { // the escape pair would need septets 153-154
		t.Errorf("first part %d septets; an escape pair must not be split", len(parts[0]))
	}
	_, parts = Split(strings.Repeat("ж", 84))
	if len(parts) != 2 || len([]rune(parts[0])) != 67 || len([]rune(parts[1])) != 17 {
		t.Errorf("84 Cyrillic: parts %d/%d", len([]rune(parts[0])), len([]rune(parts[len(parts)-1])))
	}
	_, parts = Split(strings.Repeat("a", 66) + "😘" + "b" + strings.Repeat("c", 10))
	if parts[0] != strings.Repeat("a", 66) { // the pair would straddle units 67-68
		t.Errorf("surrogate pair split: first part %q", parts[0])
	}
}

func TestGSM7RoundTrip(t *testing.T) {
	all := string(gsmBasic[:gsmEscape]) + string(gsmBasic[gsmEscape+1:]) + "^{}\\[~]|€\f"
	if !IsGSM7(all) {
		t.Fatal("the whole alphabet is not GSM-7")
	}
	if got := DecodeGSM7(EncodeGSM7(all)); got != all {
		t.Errorf("round trip:\n got %q\nwant %q", got, all)
	}
	if got := EncodeGSM7("a€"); string(got) != "a\x1b\x65" {
		t.Errorf("EncodeGSM7(a€) = % x", got)
	}
	if got := DecodeGSM7([]byte{0x1b, 0x41}); got != " A" {
		t.Errorf("unknown extension code decodes as %q", got)
	}
}

func TestUCS2RoundTrip(t *testing.T) {
	s := "Привет 😘 中文"
	if got := DecodeUCS2(EncodeUCS2(s)); got != s {
		t.Errorf("round trip %q", got)
	}
}

func FuzzGSM7(f *testing.F) {
	for _, s := range []string{"", "hello", "€uro [x]", "\x1b", "\x1b\x1b\x1b", "\xff\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := DecodeGSM7(b)
		if !IsGSM7(s) {
			t.Fatalf("DecodeGSM7(% x) = %q is not GSM-7", b, s)
		}
		if again := DecodeGSM7(EncodeGSM7(s)); again != s {
			t.Fatalf("re-encoding %q gives %q", s, again)
		}
		enc, parts := Split(string(b))
		if strings.Join(parts, "") != string(b) || (enc != GSM7 && enc != UCS2) {
			t.Fatalf("Split(%q) lost text", b)
		}
	})
}
