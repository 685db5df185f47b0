package webhook

import (
	"bytes"
	"strings"
)

// Kind says how the engine should treat a response body (Twilio's
// Content-Type rules).
type Kind int

// The kinds of response.
const (
	TwiML     Kind = iota + 1 // text/xml, application/xml, text/html, or an untyped body starting with '<'
	Audio                     // audio/*: play it, then hang up
	PlainText                 // text/plain: run it if it parses as TwiML, else speak it
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case TwiML:
		return "TwiML"
	case Audio:
		return "Audio"
	case PlainText:
		return "PlainText"
	}
	return "Unknown"
}

// kindOf maps a Content-Type header to a Kind. It returns 0 for a missing
// header (the body must be sniffed) and ok=false for a type Twilio rejects.
func kindOf(contentType string) (kind Kind, ok bool) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	switch {
	case mediaType == "":
		return 0, true
	case mediaType == "text/xml", mediaType == "application/xml", mediaType == "text/html":
		return TwiML, true
	case strings.HasPrefix(mediaType, "audio/"):
		return Audio, true
	case mediaType == "text/plain":
		return PlainText, true
	}
	return 0, false
}

// sniffKind classifies an untyped body: TwiML if, after an optional byte
// order mark, white space and XML declaration, it starts with '<';
// otherwise 0.
func sniffKind(body []byte) Kind {
	b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if bytes.HasPrefix(b, []byte("<?xml")) {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 {
			return 0
		}
		b = bytes.TrimLeft(b[end+2:], " \t\r\n")
	}
	if len(b) > 0 && b[0] == '<' {
		return TwiML
	}
	return 0
}
