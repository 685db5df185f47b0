package sip

import (
	"fmt"
	"strings"
)

// ParseInfoDTMF reads a DTMF key from a SIP INFO body. It understands
// application/dtmf-relay ("Signal=5\r\nDuration=160") and application/dtmf
// ("5"). ok is false for other content types.
func ParseInfoDTMF(contentType string, body []byte) (key byte, ok bool, err error) {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	var signal string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			name, value, found := strings.Cut(line, "=")
			if found && strings.EqualFold(strings.TrimSpace(name), "signal") {
				signal = strings.TrimSpace(value)
			}
		}
		if signal == "" {
			return 0, true, fmt.Errorf("sip: dtmf-relay body has no Signal= line")
		}
	case "application/dtmf":
		signal = strings.TrimSpace(string(body))
	default:
		return 0, false, nil
	}
	switch {
	case signal == "10":
		return '*', true, nil
	case signal == "11":
		return '#', true, nil
	case len(signal) == 1 && strings.ContainsRune("0123456789*#ABCDabcd", rune(signal[0])):
		return strings.ToUpper(signal)[0], true, nil
	}
	return 0, true, fmt.Errorf("sip: INFO DTMF signal %q is not a key", signal)
}
