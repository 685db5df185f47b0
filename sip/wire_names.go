package sip

import "strings"

// The wire check runs on every SIP message; these keep its allocations
// down (BenchmarkParseHead).

// lowerNames maps header names as peers usually spell them to the lower
// case the wire check keys headers by, so that the common ones need no
// strings.ToLower (an allocation per header).
var lowerNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Via", "From", "To", "Call-ID", "Call-Id", "CSeq", "Contact", "Max-Forwards",
		"Content-Type", "Content-Length", "User-Agent", "Server", "Allow", "Supported", "Require",
		"Route", "Record-Route", "Expires", "Min-Expires", "Session-Expires", "Min-SE", "RSeq", "RAck",
		"Accept", "Authorization", "WWW-Authenticate", "Proxy-Authorization", "Proxy-Authenticate",
		"Event", "Subscription-State", "Allow-Events", "Date", "Reason", "Privacy", "P-Asserted-Identity",
		"Diversion", "Refer-To", "Referred-By", "Content-Disposition", "Content-Encoding", "Unsupported",
		"Warning", "Timestamp", "Organization", "Subject", "Replaces", "X-Twilio-CallSid"} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// headerName is name in lower case.
func headerName(name string) string {
	if l, ok := lowerNames[name]; ok {
		return l
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// tightNeeded reports whether tightenParams could change v: whether some
// run of white space in it has a separator beside it. Most values have
// white space only where it stays ("SIP/2.0/UDP host", `"name" <uri>`), and
// are then used as they are.
func tightNeeded(v string, via bool) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != ' ' && v[i] != '\t' {
			continue
		}
		j := i
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		if i > 0 && isParamSep(v[i-1], via) || j < len(v) && isParamSep(v[j], via) {
			return true
		}
		i = j
	}
	return false
}

// isParamSep reports whether c is a separator tightenParams removes white
// space around.
func isParamSep(c byte, via bool) bool {
	return c == ';' || c == '=' || c == ',' || via && c == '/'
}
