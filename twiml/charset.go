package twiml

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// toUTF8 returns data as UTF-8. Documents declaring a single-byte charset
// (ISO-8859-1, US-ASCII, windows-1252) are converted before decoding so that
// byte offsets, and therefore line numbers, stay consistent with what the
// decoder sees. Other non-UTF-8 encodings fail with 12100.
func toUTF8(data []byte) ([]byte, *Problem) {
	label := declaredEncoding(data)
	if label == "" || isUTF8Label(label) {
		return data, nil
	}
	table := singleByteCharset(label)
	if table == nil {
		return nil, parseFailure(1, fmt.Sprintf("unsupported encoding %q", label))
	}
	ascii := true
	for _, b := range data {
		if b >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return data, nil
	}
	out := make([]byte, 0, len(data)+len(data)/4)
	for _, b := range data {
		if b < 0x80 {
			out = append(out, b)
			continue
		}
		out = utf8.AppendRune(out, table(b))
	}
	return out, nil
}

// declaredEncoding returns the encoding named in the XML declaration, if any.
func declaredEncoding(data []byte) string {
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(data[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := strings.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return rest[1 : 1+j]
}

func isUTF8Label(label string) bool {
	return strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8")
}

// singleByteCharset returns the byte-to-rune mapping for the supported
// single-byte charsets, or nil.
func singleByteCharset(label string) func(byte) rune {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		return func(b byte) rune { return rune(b) }
	case "windows-1252", "cp1252":
		return windows1252
	}
	return nil
}

// cp1252High maps bytes 0x80-0x9F of windows-1252; other bytes equal Latin-1.
var cp1252High = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

func windows1252(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return cp1252High[b-0x80]
	}
	return rune(b)
}
