package api

import "strings"

// codeInvalidTo is Twilio's "Invalid 'To' Phone Number".
const codeInvalidTo = 21211

// checkTo refuses, up front, a Calls.create To that the gateway could
// never call: it must be a phone number (digits, * and #, optionally after
// a +, with spaces, dots, dashes and parentheses allowed between them), a
// SIP URI (sip:user@host…) or client:identity.
func checkTo(to string) error {
	lower := strings.ToLower(to)
	switch {
	case strings.HasPrefix(lower, "client:"):
		if id := to[len("client:"):]; id != "" && !strings.ContainsAny(id, " \t\r\n") {
			return nil
		}
	case strings.HasPrefix(lower, "sip:"):
		if validSIPTarget(to[len("sip:"):]) {
			return nil
		}
	case phoneNumber(to):
		return nil
	}
	return badRequest(codeInvalidTo, "The 'To' number %s is not a valid phone number, SIP URI or client identity.", to)
}

// phoneNumber reports whether s is digits (with * and #), optionally after
// a +, separated at most by spaces, dots, dashes and parentheses.
func phoneNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			digits++
		case strings.ContainsRune(" .-()", r):
		default:
			return false
		}
	}
	return digits > 0
}

// validSIPTarget reports whether rest (a sip: URI without its scheme) names
// a host, after an optional user part, with no spaces.
func validSIPTarget(rest string) bool {
	if rest == "" || strings.ContainsAny(rest, " \t\r\n<>\"") {
		return false
	}
	hostPart := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if at == 0 {
			return false
		}
		hostPart = rest[at+1:]
	}
	host := strings.FieldsFunc(hostPart, func(r rune) bool { return r == ';' || r == '?' })
	return len(host) > 0 && host[0] != "" && hostPart[0] != ';' && hostPart[0] != '?' && hostPart[0] != ':'
}
