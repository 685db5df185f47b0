package messaging

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Encoding is how a message body travels: GSM-7 (the GSM 03.38 default
// alphabet with its extension table) or UCS-2 (UTF-16BE, surrogate pairs
// allowed).
type Encoding int

// The two encodings.
const (
	GSM7 Encoding = iota + 1
	UCS2
)

// String returns "GSM-7" or "UCS-2".
func (e Encoding) String() string {
	if e == GSM7 {
		return "GSM-7"
	}
	return "UCS-2"
}

// gsmBasic is the GSM 03.38 default alphabet in code order (128 septets;
// 0x1B is the escape to the extension table, written here as a space that
// is never looked up).
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExtension maps the extension table's codes (after ESC) to characters.
var gsmExtension = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\', 0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

const gsmEscape = 0x1B

// Reverse tables, built once at start (read-only afterwards).
var (
	gsmBasicCode = func() map[rune]byte {
		m := make(map[rune]byte, 128)
		for i, r := range gsmBasic {
			if i != gsmEscape {
				m[r] = byte(i)
			}
		}
		return m
	}()
	gsmExtCode = func() map[rune]byte {
		m := make(map[rune]byte, len(gsmExtension))
		for c, r := range gsmExtension {
			m[r] = c
		}
		return m
	}()
)

// gsmSeptets returns how many septets r takes in GSM-7 (1, or 2 for the
// extension table) and false when r has no GSM-7 form.
func gsmSeptets(r rune) (int, bool) {
	if _, ok := gsmBasicCode[r]; ok {
		return 1, true
	}
	if _, ok := gsmExtCode[r]; ok {
		return 2, true
	}
	return 0, false
}

// IsGSM7 reports whether every character of s is in the GSM 03.38 default
// alphabet or its extension table.
func IsGSM7(s string) bool {
	for _, r := range s {
		if _, ok := gsmSeptets(r); !ok {
			return false
		}
	}
	return true
}

// EncodeGSM7 returns s as unpacked GSM-7 (one septet per octet, extension
// characters as ESC + code), the form SMPP carries with data_coding 0.
// Characters outside the alphabet become '?'.
func EncodeGSM7(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := gsmBasicCode[r]; ok {
			out = append(out, c)
		} else if c, ok := gsmExtCode[r]; ok {
			out = append(out, gsmEscape, c)
		} else {
			out = append(out, '?')
		}
	}
	return out
}

// DecodeGSM7 decodes unpacked GSM-7 (one septet per octet). Octets with the
// high bit set are masked to 7 bits; an escape followed by a code the
// extension table lacks decodes as a space and then the basic character
// (GSM 03.38's rule); a trailing escape is dropped.
func DecodeGSM7(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i] & 0x7F
		if c != gsmEscape {
			sb.WriteRune(gsmBasic[c])
			continue
		}
		if i+1 >= len(b) {
			break
		}
		i++
		next := b[i] & 0x7F
		if r, ok := gsmExtension[next]; ok {
			sb.WriteRune(r)
			continue
		}
		sb.WriteByte(' ')
		if next != gsmEscape {
			sb.WriteRune(gsmBasic[next])
		}
	}
	return sb.String()
}

// EncodeUCS2 returns s as UTF-16 big-endian (astral characters as
// surrogate pairs), the form SMPP carries with data_coding 8.
func EncodeUCS2(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(units))
	for i, u := range units {
		out[2*i], out[2*i+1] = byte(u>>8), byte(u)
	}
	return out
}

// DecodeUCS2 decodes UTF-16 big-endian; an odd trailing octet is dropped
// and unpaired surrogates become U+FFFD.
func DecodeUCS2(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units))
}

// DecodeLatin1 decodes ISO-8859-1 (data_coding 3).
func DecodeLatin1(b []byte) string {
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// Segment limits (messaging.md §4.2).
const (
	gsmSingle  = 160 // septets in one GSM-7 message
	gsmPart    = 153 // septets in one part of a concatenated GSM-7 message
	ucs2Single = 70  // UTF-16 units in one UCS-2 message
	ucs2Part   = 67  // UTF-16 units in one part of a concatenated UCS-2 message
)

// Split returns the encoding s needs and s cut into the parts it is sent
// in: one part when it fits a single message, else parts of at most 153
// septets (GSM-7, never splitting an escape pair) or 67 UTF-16 units
// (UCS-2, never splitting a surrogate pair). An empty body is one empty
// part.
func Split(s string) (Encoding, []string) {
	if IsGSM7(s) {
		n := 0
		for _, r := range s {
			w, _ := gsmSeptets(r)
			n += w
		}
		if n <= gsmSingle {
			return GSM7, []string{s}
		}
		return GSM7, cut(s, gsmPart, func(r rune) int { w, _ := gsmSeptets(r); return w })
	}
	if utf16Len(s) <= ucs2Single {
		return UCS2, []string{s}
	}
	return UCS2, cut(s, ucs2Part, utf16.RuneLen)
}

// NumSegments is the number of parts Split cuts s into (Twilio's
// num_segments for an SMS).
func NumSegments(s string) int {
	_, parts := Split(s)
	return len(parts)
}

// cut splits s into runs of characters whose widths sum to at most limit.
func cut(s string, limit int, width func(rune) int) []string {
	var parts []string
	start, used := 0, 0
	for i, r := range s {
		w := width(r)
		if used+w > limit {
			parts = append(parts, s[start:i])
			start, used = i, 0
		}
		used += w
	}
	return append(parts, s[start:])
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			n++
			continue
		}
		n += utf16.RuneLen(r)
	}
	return n
}
