package sip

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// sipMsg builds a message from lines written with "\n"; "{CL}" becomes the
// body's length and "{ADDR}" the server's address.
func sipMsg(head, body string) string {
	head = strings.ReplaceAll(head, "{CL}", strconv.Itoa(len(body)))
	return strings.ReplaceAll(head, "\n", "\r\n") + "\r\n" + body
}

const wireOptions = `OPTIONS sip:voxgate@{ADDR} SIP/2.0
Via: SIP/2.0/{T} 127.0.0.1:5099;rport;branch=z9hG4bK{BR}
Max-Forwards: 70
From: "Wire" <sip:wire@127.0.0.1>;tag=1928301774
To: <sip:voxgate@{ADDR}>
Call-ID: {BR}@127.0.0.1
CSeq: 63104 OPTIONS
Content-Length: {CL}
`

const wireSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

// wireCases are RFC 3261 parsing and validation rules and RFC 4475
// torture cases, written for this test: status expected over UDP and TCP.
var wireCases = []struct {
	name string
	head string // {T} transport, {BR} branch/Call-ID, {ADDR} server
	body string
	want int
	// from, when set, must appear in the answer's From (what sipgo parsed)
	from string
}{
	{name: "plain OPTIONS", head: wireOptions, want: 200},
	{name: "folded From with spaces around tag =", head: strings.Replace(wireOptions,
		`From: "Wire" <sip:wire@127.0.0.1>;tag=1928301774`,
		"From: \"Wire\"\n  <sip:wire@127.0.0.1>\n\t ; tag = 1928301774", 1), want: 200, from: "tag=1928301774"},
	{name: "white space everywhere allowed (RFC 4475 3.1.1.1 style)", head: `OPTIONS sip:voxgate@{ADDR} SIP/2.0
Via  : SIP / 2.0 / {T} 127.0.0.1:5099 ; rport ; branch = z9hG4bK{BR}
Max-Forwards :   70
From   :   "Wire, \"quoted\"; x=y"   <sip:wire@127.0.0.1>  ;  tag = 98asjd8
To:
 <sip:voxgate@{ADDR}>
Call-ID	: {BR}@127.0.0.1
CSeq	:	8
   OPTIONS
Content-Length: {CL}
`, want: 200, from: "tag=98asjd8"},
	{name: "compact forms", head: `OPTIONS sip:voxgate@{ADDR} SIP/2.0
v: SIP/2.0/{T} 127.0.0.1:5099;rport;branch=z9hG4bK{BR}
f: <sip:wire@127.0.0.1>;tag=7
t: <sip:voxgate@{ADDR}>
i: {BR}@127.0.0.1
CSeq: 1 OPTIONS
l: {CL}
`, want: 200},
	{name: "Request-URI with ?Route= header", head: strings.Replace(strings.ReplaceAll(wireOptions, "OPTIONS", "INVITE"),
		"sip:voxgate@{ADDR} SIP", "sip:voxgate@{ADDR}?Route=%3Csip:attacker.example%3E SIP", 1) + "Contact: <sip:wire@127.0.0.1:5099>\nContent-Type: application/sdp\n",
		body: wireSDP, want: 400},
	{name: "CSeq method differs", head: strings.Replace(wireOptions, "63104 OPTIONS", "63104 INVITE", 1), want: 400},
	{name: "CSeq number too large", head: strings.Replace(wireOptions, "63104 OPTIONS", "4294967296 OPTIONS", 1), want: 400},
	{name: "CSeq without number", head: strings.Replace(wireOptions, "63104 OPTIONS", "OPTIONS", 1), want: 400},
	{name: "two Call-IDs", head: wireOptions + "Call-ID: other@127.0.0.1\n", want: 400},
	{name: "two From", head: wireOptions + "f: <sip:x@127.0.0.1>;tag=2\n", want: 400},
	{name: "two To", head: wireOptions + "To: <sip:y@127.0.0.1>\n", want: 400},
	{name: "two CSeq", head: wireOptions + "CSeq: 63105 OPTIONS\n", want: 400},
	{name: "two Max-Forwards", head: wireOptions + "Max-Forwards: 69\n", want: 400},
	{name: "missing Call-ID", head: strings.Replace(wireOptions, "Call-ID: {BR}@127.0.0.1\n", "", 1), want: 400},
	{name: "missing From", head: strings.Replace(wireOptions, `From: "Wire" <sip:wire@127.0.0.1>;tag=1928301774`+"\n", "", 1), want: 400},
	{name: "Max-Forwards not a number", head: strings.Replace(wireOptions, "Max-Forwards: 70", "Max-Forwards: 5 5", 1), want: 400},
	{name: "Max-Forwards over 255", head: strings.Replace(wireOptions, "Max-Forwards: 70", "Max-Forwards: 300", 1), want: 400},
	{name: "unterminated quote in From", head: strings.Replace(wireOptions, `"Wire" <sip`, `"Wire <sip`, 1), want: 400},
	{name: "From without >", head: strings.Replace(wireOptions, `<sip:wire@127.0.0.1>`, `<sip:wire@127.0.0.1`, 1), want: 400},
	{name: "header line without colon", head: wireOptions + "NoColonHere\n", want: 400},
	{name: "unknown URI scheme", head: strings.Replace(wireOptions, "OPTIONS sip:voxgate@{ADDR}", "OPTIONS nope:voxgate@{ADDR}", 1), want: 416},
	{name: "SIP version 7.0", head: strings.Replace(wireOptions, "{ADDR} SIP/2.0", "{ADDR} SIP/7.0", 1), want: 505},
	{name: "extra space in request line", head: strings.Replace(wireOptions, "OPTIONS sip", "OPTIONS  sip", 1), want: 400},
	{name: "negative Content-Length", head: strings.Replace(wireOptions, "Content-Length: {CL}", "Content-Length: -1", 1), want: 400, body: ""},
	{name: "Call-ID with space", head: strings.Replace(wireOptions, "Call-ID: {BR}@127.0.0.1", "Call-ID: {BR} x", 1), want: 400},
	{name: "Require of an extension we lack (420)", head: wireOptions + "Require: 100rel, foo\n", want: 420},
	{name: "Require: timer is supported", head: wireOptions + "Require: timer\n", want: 200},
	{name: "INVITE larger than sipgo reads (513)", head: strings.ReplaceAll(wireOptions, "OPTIONS", "INVITE") + "Contact: <sip:wire@127.0.0.1:5099>\nContent-Type: application/sdp\n",
		body: wireSDP + "a=x-pad:" + strings.Repeat("x", 40000) + "\r\n", want: 513},
}

func fillWire(head, body, transport, branch, addr string) string {
	head = strings.NewReplacer("{T}", transport, "{BR}", branch, "{ADDR}", addr).Replace(head)
	return sipMsg(head, body)
}

// readResponse reads one SIP response from r: status code and From value.
func readResponse(t *testing.T, r *bufio.Reader) (code int, from string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading status line: %v", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		t.Fatalf("not a response: %q", line)
	}
	code, _ = strconv.Atoi(f[1])
	cl := 0
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading headers: %v", err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		name, v, _ := strings.Cut(h, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "from", "f":
			from = strings.TrimSpace(v)
		case "content-length", "l":
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	_, _ = io.CopyN(io.Discard, r, int64(cl))
	return code, from
}

func TestWireValidationTable(t *testing.T) {
	srv, _ := startServer(t, Config{}, nil)
	var udpAddr, tcpAddr string
	for _, l := range srv.Listeners() {
		if l.Transport == "udp" {
			udpAddr = l.Addr.String()
		} else {
			tcpAddr = l.Addr.String()
		}
	}
	for i, tc := range wireCases {
		for _, transport := range []string{"UDP", "TCP"} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				addr := udpAddr
				if transport == "TCP" {
					addr = tcpAddr
				}
				conn, err := net.Dial(strings.ToLower(transport), addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(conn, fillWire(tc.head, tc.body, transport, fmt.Sprintf("w%d%s", i, transport), addr)); err != nil {
					t.Fatal(err)
				}
				r := bufio.NewReaderSize(conn, 1<<16)
				code, from := readResponse(t, r)
				for code == 100 {
					code, from = readResponse(t, r)
				}
				if code != tc.want {
					t.Fatalf("answered %d, want %d", code, tc.want)
				}
				if tc.from != "" && !strings.Contains(from, tc.from) {
					t.Errorf("From in answer %q, want it to contain %q", from, tc.from)
				}
			})
		}
	}
}

// A UDP datagram whose body is shorter than its Content-Length is answered
// 400 (RFC 3261 §18.3); bytes after the body are discarded.
func TestWireDatagramBodyLength(t *testing.T) {
	srv, _ := startServer(t, Config{}, nil)
	addr := udpListener(t, srv).String()
	for _, tc := range []struct {
		name string
		cl   string
		want int
	}{{"short body", "20", 400}, {"extra bytes after the body", "0", 200}} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			msg := fillWire(strings.Replace(wireOptions, "{CL}", tc.cl, 1), "garbage", "UDP", "dg"+tc.cl, addr)
			if _, err := io.WriteString(conn, msg); err != nil {
				t.Fatal(err)
			}
			if code, _ := readResponse(t, bufio.NewReader(conn)); code != tc.want {
				t.Fatalf("answered %d, want %d", code, tc.want)
			}
		})
	}
}

// Over TCP, a request followed in the same write by one that is refused,
// and then by one that cannot be framed (no Content-Length), gets its
// answer; the refused one gets 400; the connection is not cut before.
func TestWireTCPBadMessageAfterGood(t *testing.T) {
	srv, _ := startServer(t, Config{}, nil)
	var addr string
	for _, l := range srv.Listeners() {
		if l.Transport == "tcp" {
			addr = l.Addr.String()
		}
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	good := fillWire(wireOptions, "", "TCP", "good1", addr)
	bad := fillWire(wireOptions+"Call-ID: again\n", "", "TCP", "bad1", addr)
	good2 := fillWire(wireOptions, "", "TCP", "good2", addr)
	unframed := fillWire(strings.Replace(wireOptions, "Content-Length: {CL}\n", "", 1), "", "TCP", "unframed", addr)
	if _, err := io.WriteString(conn, good+bad+good2+unframed+"junk junk junk\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	got := map[int]int{}
	for range 4 {
		code, _ := readResponse(t, r)
		got[code]++
	}
	if got[200] != 2 || got[400] != 2 {
		t.Fatalf("answers %v, want two 200 and two 400", got)
	}
}

// FuzzWireCheck drives the datagram and stream checks with arbitrary
// bytes: they never panic, a refused request's answer is a response
// sipgo parses, and a request passed on is one sipgo parses.
func FuzzWireCheck(f *testing.F) {
	for i, tc := range wireCases {
		if len(tc.body) < 1000 {
			f.Add([]byte(fillWire(tc.head, tc.body, "UDP", fmt.Sprint("f", i), "127.0.0.1:5060")))
		}
	}
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
	w := &wireCheck{server: "fuzz", log: testLoggerDiscard(), logLim: &logLimiter{}, refused: func(string) {}, parser: sipmsg.NewParser()}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v wireVerdict) {
			// An answer echoes the request's headers (which may be
			// malformed) but is one well-framed response.
			if v.reply != nil && (!bytes.HasPrefix(v.reply, []byte("SIP/2.0 ")) || bytes.Index(v.reply, []byte("\r\n\r\n")) != len(v.reply)-4) {
				t.Fatalf("answer is not one response: %q", v.reply)
			}
			if v.pass != nil && len(bytes.Trim(v.pass, "\r\n\x00")) > 0 && !bytes.HasPrefix(v.pass, []byte("SIP/")) {
				if _, err := sipmsg.ParseMessage(v.pass); err != nil {
					t.Fatalf("passed request does not parse: %v\n%q", err, v.pass)
				}
			}
		}
		check(w.datagram(data, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5060}))
		for rest := data; len(rest) > 0; {
			n, v, fatal, err := w.stream(rest)
			if err != nil || fatal {
				break
			}
			check(v)
			if n == 0 {
				t.Fatal("stream consumed nothing")
			}
			rest = rest[n:]
		}
	})
}

func testLoggerDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A request whose Via names another host than the one it came from gets
// received= in the Via of its answer, and the answer goes to the source
// (RFC 3261 §18.2.1, §18.2.2).
func TestWireViaReceived(t *testing.T) {
	srv, _ := startServer(t, Config{}, nil)
	addr := udpListener(t, srv).String()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	port := conn.LocalAddr().(*net.UDPAddr).Port
	// The phone thinks it is 10.1.2.3 (behind NAT) but its port is right.
	head := strings.Replace(wireOptions, "127.0.0.1:5099;rport;", "10.1.2.3:"+strconv.Itoa(port)+";", 1)
	if _, err := io.WriteString(conn, fillWire(head, "", "UDP", "nat1", addr)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no answer (sent to the Via host instead of the source?): %v", err)
	}
	var via string
	for {
		h, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(h) == "" {
			break
		}
		if strings.HasPrefix(h, "Via:") {
			via = h
		}
	}
	if !strings.HasPrefix(line, "SIP/2.0 200") || !strings.Contains(via, "received=127.0.0.1") {
		t.Errorf("answer %q with Via %q; want 200 with received=127.0.0.1", line, via)
	}
}
