package dtmf

import (
	"errors"
	"fmt"
)

// EventSize is the length in bytes of one RFC 4733 telephone-event payload.
const EventSize = 4

// ErrShortPayload is returned (wrapped) by ParseEvent for payloads shorter
// than EventSize.
var ErrShortPayload = errors.New("dtmf: telephone-event payload too short")

// Event is one RFC 4733 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	|     event     |E|R| volume    |          duration             |
type Event struct {
	Code     uint8  // event code: 0-9, 10 = '*', 11 = '#', 12-15 = 'A'-'D'
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level in -dBm0, 0-63 (larger is quieter)
	Duration uint16 // duration so far, in RTP timestamp units (8000 Hz)
}

// ParseEvent decodes the first telephone-event of payload. Bytes beyond the
// first EventSize are ignored. The reserved R bit is ignored.
func ParseEvent(payload []byte) (Event, error) {
	e, ok := parseEvent(payload)
	if !ok {
		return Event{}, fmt.Errorf("parse telephone-event of %d bytes: %w", len(payload), ErrShortPayload)
	}
	return e, nil
}

// parseEvent is ParseEvent without the error value, for the hot path.
func parseEvent(p []byte) (Event, bool) {
	if len(p) < EventSize {
		return Event{}, false
	}
	return Event{
		Code:     p[0],
		End:      p[1]&0x80 != 0,
		Volume:   p[1] & 0x3f,
		Duration: uint16(p[2])<<8 | uint16(p[3]),
	}, true
}

// AppendTo appends the 4-byte wire form of e to dst and returns the result.
// The R bit is zero; Volume is truncated to 6 bits. It does not allocate when
// dst has room for EventSize more bytes.
func (e Event) AppendTo(dst []byte) []byte {
	b1 := e.Volume & 0x3f
	if e.End {
		b1 |= 0x80
	}
	return append(dst, e.Code, b1, byte(e.Duration>>8), byte(e.Duration))
}

// KeyToCode returns the telephone-event code of a DTMF key: '0'-'9' are 0-9,
// '*' is 10, '#' is 11, 'A'-'D' (or 'a'-'d') are 12-15. ok is false for any
// other byte.
func KeyToCode(key byte) (code uint8, ok bool) {
	switch {
	case key >= '0' && key <= '9':
		return key - '0', true
	case key == '*':
		return 10, true
	case key == '#':
		return 11, true
	case key >= 'A' && key <= 'D':
		return key - 'A' + 12, true
	case key >= 'a' && key <= 'd':
		return key - 'a' + 12, true
	}
	return 0, false
}

// CodeToKey returns the DTMF key of a telephone-event code, the inverse of
// KeyToCode ('A'-'D' in upper case). ok is false for codes above 15 (such as
// 16, hook flash), which are not keys.
func CodeToKey(code uint8) (key byte, ok bool) {
	if int(code) >= len(codeKeys) {
		return 0, false
	}
	return codeKeys[code], true
}

// codeKeys maps event codes 0-15 to keys.
const codeKeys = "0123456789*#ABCD"
