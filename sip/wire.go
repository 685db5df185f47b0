package sip

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
)

// This file checks raw SIP messages against RFC 3261's framing and
// validation rules (§7, §8.2, §18.3, §20, §25) before sipgo parses them,
// so that a malformed request is answered (400, 416, 505, 513) instead of
// being dropped or half-accepted, and so that forms the RFC allows but
// sipgo's parser refuses (line folding, white space around ";" and "=" in
// header parameters) reach sipgo in canonical form. Responses pass
// through with framing checks only.

// maxMessageSize is the largest message handed to sipgo: its read buffer
// (sipmsg.TransportBufferReadSize). Larger requests get 513.
const maxMessageSize = 32768

// rejection is why a request is refused: the status to answer with.
// Code 0 means drop without an answer (no Via to answer to, or an ACK).
type rejection struct {
	code   int
	reason string
	header string // an extra header line for the answer ("Unsupported: 100rel"), "" when none
}

func (r *rejection) Error() string { return strconv.Itoa(r.code) + " " + r.reason }

func badRequest(reason string) *rejection {
	return &rejection{code: 400, reason: "Bad Request: " + reason}
}

// rawHeader is one header field, unfolded; name is the long form in lower case.
type rawHeader struct {
	name  string
	raw   string // the name as received
	value string
}

// rawMessage is a message split into its parts, header values unfolded.
type rawMessage struct {
	startLine string
	method    string // "" for a response
	uri       string
	headers   []rawHeader
	body      []byte
}

// compactForms maps RFC 3261 §7.3.3 (and extensions') compact header names.
var compactForms = map[string]string{
	"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
	"c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to",
	"v": "via", "x": "session-expires", "o": "event", "u": "allow-events",
}

// singleValued headers may appear once (RFC 3261 §7.3.1, §20).
var singleValued = []string{"call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type", "expires", "min-expires"}

// addressHeaders have name-addr values with parameters; white space around
// ";", "=" and "," outside quotes is removed (RFC 3261 §25.1 allows it,
// sipgo's parser does not).
var addressHeaders = map[string]bool{"from": true, "to": true, "contact": true, "route": true, "record-route": true, "via": true}

func (m *rawMessage) header(name string) (string, bool) {
	for _, h := range m.headers {
		if h.name == name {
			return h.value, true
		}
	}
	return "", false
}

// splitMessage finds the end of the header section in data. It returns
// the header section (without the blank line) and where the body starts,
// or ok false when data holds no complete header section yet.
func splitMessage(data []byte) (head []byte, bodyStart int, ok bool) {
	i := bytes.Index(data, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, 0, false
	}
	return data[:i], i + 4, true
}

// parseHead splits a header section into start line and unfolded headers.
func parseHead(head []byte) (*rawMessage, *rejection) {
	text := string(head)
	start, rest, _ := strings.Cut(text, "\r\n")
	m := &rawMessage{startLine: start, headers: make([]rawHeader, 0, strings.Count(rest, "\r\n")+1)}
	if m.startLine == "" || strings.ContainsAny(m.startLine, "\r\n\x00") {
		return nil, badRequest("malformed start line")
	}
	// A bad line is remembered and the rest still read, so that the
	// answer can carry Via, From, To, Call-ID and CSeq.
	var rej *rejection
	for more := rest != "" || strings.Contains(text, "\r\n"); more; {
		var line string
		line, rest, more = strings.Cut(rest, "\r\n")
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if len(m.headers) == 0 {
				rej = badRequest("continuation line before any header")
				continue
			}
			last := &m.headers[len(m.headers)-1]
			last.value = strings.TrimRight(last.value, " \t") + " " + strings.Trim(line, " \t")
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimRight(name, " \t")
		if !ok || !isToken(name) {
			if rej == nil {
				rej = badRequest("malformed header line")
			}
			continue
		}
		long := headerName(name)
		if c, ok := compactForms[long]; ok {
			long = c
		}
		m.headers = append(m.headers, rawHeader{name: long, raw: name, value: strings.Trim(value, " \t")})
	}
	for i := range m.headers {
		if addressHeaders[m.headers[i].name] {
			m.headers[i].value = tightenParams(m.headers[i].value, m.headers[i].name == "via")
		}
	}
	return m, rej
}

// isToken reports whether s is an RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// tightenParams removes white space next to ";", "=" and "," (and "/" in
// Via) outside quoted strings and <...>.
func tightenParams(v string, via bool) string {
	if !tightNeeded(v, via) {
		return v
	}
	return tighten(v, via)
}

// tighten is tightenParams without the check that it would change v.
func tighten(v string, via bool) string {
	sep := func(c byte) bool { return isParamSep(c, via) }
	var b strings.Builder
	quoted, angle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(v) {
				i++
				b.WriteByte(v[i])
			} else if c == '"' {
				quoted = false
			}
			continue
		case angle:
			angle = c != '>'
		case c == '"':
			quoted = true
		case c == '<':
			angle = true
		case c == ' ' || c == '\t':
			j := i
			for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
				j++
			}
			prev := b.Len() > 0 && sep(b.String()[b.Len()-1])
			if prev || j < len(v) && sep(v[j]) {
				i = j - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// checkRequest applies RFC 3261's validation to a request's start line and
// headers (§8.2.1–8.2.2, §19.1.1, §20). Responses are not checked.
func checkRequest(m *rawMessage) *rejection {
	parts := strings.Split(m.startLine, " ")
	if strings.HasPrefix(m.startLine, "SIP/") {
		return nil // a response
	}
	if len(m.headers) == 0 {
		return &rejection{}
	}
	if _, ok := m.header("via"); !ok {
		return &rejection{} // nowhere to send an answer
	}
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !isToken(parts[0]) {
		return badRequest("malformed request line")
	}
	m.method, m.uri = parts[0], parts[1]
	if rej := checkVersion(parts[2]); rej != nil {
		return rej
	}
	if rej := checkRequestURI(m.uri); rej != nil {
		return rej
	}
	seen := map[string]int{}
	for _, h := range m.headers {
		seen[h.name]++
	}
	for _, name := range []string{"via", "from", "to", "call-id", "cseq"} {
		if seen[name] == 0 {
			return badRequest("missing " + name + " header")
		}
	}
	for _, name := range singleValued {
		if seen[name] > 1 {
			return badRequest("more than one " + name + " header")
		}
	}
	if rej := checkHeaderValues(m); rej != nil {
		return rej
	}
	return checkRequire(m)
}

// supportedOptions are the option tags a Require header may name
// (RFC 3261 §8.2.2.3): session timers (RFC 4028); and 100rel (RFC 3262)
// on an INVITE only (checkRequire).
var supportedOptions = map[string]bool{"timer": true}

// checkRequire answers 420 Bad Extension, listing them in Unsupported,
// to a request that requires extensions we do not have (not for ACK and
// CANCEL, §8.2.2.3).
func checkRequire(m *rawMessage) *rejection {
	if m.method == "ACK" || m.method == "CANCEL" {
		return nil
	}
	var unsupported []string
	for _, h := range m.headers {
		if h.name != "require" {
			continue
		}
		for _, opt := range strings.Split(h.value, ",") {
			opt = strings.ToLower(strings.TrimSpace(opt))
			if opt == "100rel" && m.method == "INVITE" {
				continue // reliable provisionals (RFC 3262): see prack_uas.go
			}
			if opt != "" && !supportedOptions[opt] {
				unsupported = append(unsupported, opt)
			}
		}
	}
	if len(unsupported) == 0 {
		return nil
	}
	return &rejection{code: 420, reason: "Bad Extension", header: "Unsupported: " + strings.Join(unsupported, ", ")}
}

func checkVersion(v string) *rejection {
	if strings.EqualFold(v, "SIP/2.0") {
		return nil
	}
	if len(v) > 4 && strings.EqualFold(v[:4], "SIP/") {
		return &rejection{code: 505, reason: "Version Not Supported"}
	}
	return badRequest("malformed SIP version")
}

// checkRequestURI refuses schemes other than sip, sips and tel (416) and
// SIP URIs that carry headers ("?"), which RFC 3261 §19.1.1 does not
// allow in a Request-URI (400).
func checkRequestURI(uri string) *rejection {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !isToken(scheme) || rest == "" || strings.ContainsAny(uri, "<>\"") {
		return badRequest("malformed Request-URI")
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips":
		if strings.Contains(rest, "?") {
			return badRequest("Request-URI must not carry headers")
		}
		if strings.HasPrefix(rest, "@") || strings.HasSuffix(rest, "@") {
			return badRequest("malformed Request-URI")
		}
	case "tel":
	default:
		return &rejection{code: 416, reason: "Unsupported URI Scheme"}
	}
	return nil
}

func checkHeaderValues(m *rawMessage) *rejection {
	cseq, _ := m.header("cseq")
	num, method, ok := strings.Cut(cseq, " ")
	method = strings.Trim(method, " \t")
	n, err := strconv.ParseUint(num, 10, 32)
	if !ok || err != nil || n > 1<<31-1 || !isToken(method) {
		return badRequest("malformed CSeq")
	}
	if method != m.method {
		return badRequest("CSeq method does not match the request method")
	}
	if v, ok := m.header("max-forwards"); ok {
		if n, err := strconv.ParseUint(v, 10, 8); err != nil || n > 255 {
			return badRequest("malformed Max-Forwards")
		}
	}
	if v, ok := m.header("content-length"); ok {
		if _, err := strconv.ParseUint(v, 10, 31); err != nil {
			return badRequest("malformed Content-Length")
		}
	}
	for _, name := range []string{"from", "to"} {
		v, _ := m.header(name)
		if !wellFormedAddress(v) {
			return badRequest("malformed " + name + " header")
		}
	}
	if v, _ := m.header("call-id"); strings.ContainsAny(v, " \t") {
		return badRequest("malformed Call-ID")
	}
	return nil
}

// wellFormedAddress checks a From/To value's quoting and angle brackets
// and that it holds a URI.
func wellFormedAddress(v string) bool {
	quoted, open, closed := false, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			open++
		case c == '>':
			closed++
		}
	}
	if quoted || open > 1 || open != closed {
		return false
	}
	if open == 1 {
		return strings.Contains(v[strings.LastIndexByte(v, '<'):], ":")
	}
	return strings.Contains(v, ":")
}

// contentLength returns the message's Content-Length, or -1 without one.
func (m *rawMessage) contentLength() int {
	v, ok := m.header("content-length")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// encode writes the message in canonical form: headers unfolded, one per
// line, parameters without white space.
func (m *rawMessage) encode() []byte {
	var b bytes.Buffer
	b.Grow(len(m.startLine) + 64*len(m.headers) + len(m.body))
	b.WriteString(m.startLine)
	b.WriteString("\r\n")
	for _, h := range m.headers {
		b.WriteString(h.raw)
		b.WriteString(": ")
		b.WriteString(h.value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(m.body)
	return b.Bytes()
}

// answer builds the response to a refused request from its Via, From, To,
// Call-ID and CSeq (RFC 3261 §8.2.6), or nil when it cannot be answered.
func (m *rawMessage) answer(rej *rejection, server string) []byte {
	if m == nil || rej.code == 0 || m.method == "ACK" {
		return nil
	}
	if _, ok := m.header("via"); !ok {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(rej.code) + " " + rej.reason + "\r\n")
	done := map[string]bool{}
	for _, h := range m.headers {
		switch h.name {
		case "via":
		case "from", "call-id", "cseq", "to":
			if done[h.name] {
				continue
			}
			done[h.name] = true
		default:
			continue
		}
		v := h.value
		if h.name == "to" && !strings.Contains(strings.ToLower(v), ";tag=") {
			v += ";tag=" + randomTag()
		}
		b.WriteString(canonicalName(h.name) + ": " + v + "\r\n")
	}
	if rej.header != "" {
		b.WriteString(rej.header + "\r\n")
	}
	b.WriteString("Server: " + server + "\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func canonicalName(name string) string {
	switch name {
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	case "via":
		return "Via"
	case "from":
		return "From"
	}
	return "To"
}

func randomTag() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
