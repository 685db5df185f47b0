package sip

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// benchCaller is a hand-written UAC for the call setup benchmarks: it
// places INVITE/200/ACK/BYE/200 calls on one connection (UDP, TCP or
// TLS), so that the gateway's side is what is measured.
type benchCaller struct {
	transport string // "UDP", "TCP", "TLS"
	conn      net.Conn
	r         *bufio.Reader // nil over UDP
	buf       []byte
	gw        string
	local     string
}

func newBenchCaller(tb testing.TB, transport string, conn net.Conn, gw string) *benchCaller {
	c := &benchCaller{transport: transport, conn: conn, gw: gw, local: conn.LocalAddr().String(), buf: make([]byte, 1<<16)}
	if transport != "UDP" {
		c.r = bufio.NewReaderSize(conn, 1<<16)
	}
	return c
}

func (c *benchCaller) read(tb testing.TB) sipmsg.Message {
	tb.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if c.r != nil {
		return readStreamMessage(tb, c.r)
	}
	n, err := c.conn.Read(c.buf)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	m, err := sipmsg.ParseMessage(c.buf[:n])
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return m
}

// final reads until the final response to method.
func (c *benchCaller) final(tb testing.TB, method sipmsg.RequestMethod) *sipmsg.Response {
	tb.Helper()
	for {
		res, ok := c.read(tb).(*sipmsg.Response)
		if ok && res.StatusCode >= 200 && res.CSeq() != nil && res.CSeq().MethodName == method {
			return res
		}
	}
}

func (c *benchCaller) send(tb testing.TB, head, body string) {
	tb.Helper()
	msg := head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	if _, err := io.WriteString(c.conn, msg); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// call places one call: INVITE (RTP/SAVP with an SDES key over TLS, else
// RTP/AVP), 200, ACK, BYE, 200.
func (c *benchCaller) call(tb testing.TB, n int) {
	tb.Helper()
	callID := fmt.Sprintf("bench-%d-%s", n, sipmsg.GenerateTagN(8))
	uri := "sip:+15550001000@" + c.gw + ";transport=" + strings.ToLower(c.transport)
	dialog := func(method string, cseq int, toTag string) string {
		to := "<sip:+15550001000@" + c.gw + ">"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		return method + " " + uri + " SIP/2.0\r\n" +
			"Via: SIP/2.0/" + c.transport + " " + c.local + ";rport;branch=z9hG4bK" + sipmsg.GenerateTagN(12) + "\r\n" +
			"Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=bench" + callID + "\r\nTo: " + to + "\r\n" +
			"Call-ID: " + callID + "\r\n" + fmt.Sprintf("CSeq: %d %s\r\n", cseq, method)
	}
	var key []byte
	if c.transport == "TLS" {
		key = randomKey()
	}
	c.send(tb, dialog("INVITE", 1, "")+"Contact: <sip:bench@"+c.local+";transport="+strings.ToLower(c.transport)+">\r\nContent-Type: application/sdp\r\n", sdpOffer(4000, key))
	res := c.final(tb, sipmsg.INVITE)
	if res.StatusCode != 200 {
		tb.Fatalf("INVITE: %d", res.StatusCode)
	}
	if key != nil && !strings.Contains(string(res.Body()), "a=crypto:") {
		tb.Fatalf("the 200 carries no SDES key:\n%s", res.Body())
	}
	toTag, _ := res.To().Params.Get("tag")
	c.send(tb, dialog("ACK", 1, toTag), "")
	c.send(tb, dialog("BYE", 2, toTag), "")
	if res := c.final(tb, sipmsg.BYE); res.StatusCode != 200 {
		tb.Fatalf("BYE: %d", res.StatusCode)
	}
}

// benchGateway starts a gateway with UDP, TCP and TLS listeners that
// answers every call, and returns the listeners' addresses and a TLS
// client configuration that verifies its certificate.
func benchGateway(b *testing.B) (addrs map[string]netip.AddrPort, tlsConf *tls.Config) {
	caFile, certFile, keyFile := writeTestPKI(b)
	srv, _ := startServer(b, Config{Listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0"}, TLSCert: certFile, TLSKey: keyFile}, nil)
	addrs = map[string]netip.AddrPort{}
	for _, l := range srv.Listeners() {
		addrs[strings.ToUpper(l.Transport)] = l.Addr
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return addrs, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// BenchmarkCallSetup: whole calls (INVITE with SDP, 200, ACK, BYE, 200)
// answered by a gateway, from a hand-written UAC, per transport: udp and
// tcp (one connection for all calls) with RTP/AVP; over TLS with
// RTP/SAVP and an SDES key each way, on one connection for all calls
// (tls-reused) or a new verified connection per call (tls-per-call: TCP
// connect, full TLS handshake with certificate verification and no
// session resumption, the call, close). ns/op is one call.
func BenchmarkCallSetup(b *testing.B) {
	addrs, tlsConf := benchGateway(b)
	for _, tc := range []struct{ name, transport string }{{"udp", "UDP"}, {"tcp", "TCP"}, {"tls-reused", "TLS"}} {
		b.Run(tc.name, func(b *testing.B) {
			gw := addrs[tc.transport]
			var conn net.Conn
			var err error
			switch tc.transport {
			case "UDP":
				conn, err = net.Dial("udp", gw.String())
			case "TCP":
				conn, err = net.Dial("tcp", gw.String())
			case "TLS":
				conn, err = tls.Dial("tcp", gw.String(), tlsConf)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			c := newBenchCaller(b, tc.transport, conn, gw.String())
			n := 0
			for b.Loop() {
				n++
				c.call(b, n)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
	b.Run("tls-per-call", func(b *testing.B) {
		gw := addrs["TLS"]
		n := 0
		for b.Loop() {
			n++
			conn, err := tls.Dial("tcp", gw.String(), tlsConf)
			if err != nil {
				b.Fatal(err)
			}
			newBenchCaller(b, "TLS", conn, gw.String()).call(b, n)
			conn.Close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

// BenchmarkTLSHandshake: TCP connect and a full TLS handshake with the
// gateway's tls: listener (certificate verified, no resumption), then
// close: what tls-per-call adds to each call, both sides together.
func BenchmarkTLSHandshake(b *testing.B) {
	addrs, tlsConf := benchGateway(b)
	gw := addrs["TLS"].String()
	for b.Loop() {
		conn, err := tls.Dial("tcp", gw, tlsConf)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
}
