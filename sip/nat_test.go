package sip

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// TestNATPhoneReachedAtSource: a phone behind NAT names its private
// address (10.1.2.3:5099) in Via (with rport) and Contact. The answers
// to its INVITE come back to the port it sent from, with received= and
// rport= in the Via (RFC 3581), and the gateway's BYE, when the call's
// app hangs up, goes to that address too rather than to the
// unreachable Contact.
func TestNATPhoneReachedAtSource(t *testing.T) {
	srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		time.Sleep(300 * time.Millisecond)
		_ = c.Hangup(ctx)
	})
	u := newRawUAC(t, udpListener(t, srv))
	u.sentBy = "10.1.2.3:5099"
	u.send("INVITE", 1, sdpOffer(40000, nil))
	res := u.final(1) // read on the socket it was sent from: rport worked
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d", res.StatusCode)
	}
	port := u.conn.LocalAddr().(*net.UDPAddr).Port
	via := res.Via()
	if via == nil || !strings.Contains(via.String(), "received=127.0.0.1") || !strings.Contains(via.String(), "rport="+strconv.Itoa(port)) {
		t.Errorf("the 200's Via is %v; want received=127.0.0.1 and rport=%d", via, port)
	}
	u.send("ACK", 1, "")
	bye := u.read(10*time.Second, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Request)
		return ok && r.Method == sipmsg.BYE
	}).(*sipmsg.Request)
	if bye.Recipient.Host != "10.1.2.3" {
		t.Errorf("BYE Request-URI %s; want the phone's Contact", bye.Recipient.String())
	}
	ok := sipmsg.NewResponseFromRequest(bye, 200, "OK", nil)
	if _, err := u.conn.WriteToUDP([]byte(ok.String()), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(u.server))); err != nil {
		t.Fatal(err)
	}
}

// TestContactAndSDPFromPublicIP: with sip.public_ip set (the gateway's
// address as seen from outside its NAT), the 200's Contact and its SDP
// (o= and c=) carry that address, not the listening one.
func TestContactAndSDPFromPublicIP(t *testing.T) {
	public := netip.MustParseAddr("127.0.0.2")
	srv, _ := startServer(t, Config{PublicIP: public}, nil)
	u := newRawUAC(t, udpListener(t, srv))
	u.send("INVITE", 1, sdpOffer(40000, nil))
	res := u.final(1)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d", res.StatusCode)
	}
	if c := res.Contact(); c == nil || c.Address.Host != public.String() {
		t.Errorf("Contact %v; want host %s", c, public)
	}
	body := string(res.Body())
	for _, want := range []string{"c=IN IP4 127.0.0.2\r\n", " IN IP4 127.0.0.2\r\ns="} {
		if !strings.Contains(body, want) {
			t.Errorf("SDP lacks %q:\n%s", want, body)
		}
	}
	u.send("ACK", 1, "")
	u.send("BYE", 2, "")
	if res := u.final(2); res.StatusCode != 200 {
		t.Errorf("BYE: %d", res.StatusCode)
	}
}

// TestNATRegisteredPhoneDialled: a phone behind NAT registers (digest)
// naming its private address in Via (with rport) and Contact; dialling
// it sends the INVITE to the address its REGISTER came from, where it
// answers 486 (the Request-URI stays its Contact).
func TestNATRegisteredPhoneDialled(t *testing.T) {
	srv, _ := startServer(t, Config{Users: []User{{Username: "alice", Password: "alice-secret"}}}, nil)
	gw := udpListener(t, srv)
	u := newRawUAC(t, gw)
	u.sentBy = "10.1.2.3:5099"
	register := func(cseq int, authz string) *sipmsg.Response {
		t.Helper()
		var b strings.Builder
		b.WriteString("REGISTER sip:" + gw.String() + " SIP/2.0\r\n")
		b.WriteString("Via: SIP/2.0/UDP " + u.sentBy + ";rport;branch=z9hG4bK" + sipmsg.GenerateTagN(10) + "\r\n")
		b.WriteString("Max-Forwards: 70\r\nFrom: <sip:alice@" + gw.Addr().String() + ">;tag=" + u.fromTag + "\r\n")
		b.WriteString("To: <sip:alice@" + gw.Addr().String() + ">\r\nCall-ID: reg-" + u.callID + "\r\n")
		b.WriteString("CSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nContact: <sip:alice@" + u.sentBy + ">\r\nExpires: 120\r\n")
		if authz != "" {
			b.WriteString("Authorization: " + authz + "\r\n")
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		if _, err := u.conn.WriteToUDP([]byte(b.String()), net.UDPAddrFromAddrPort(gw)); err != nil {
			t.Fatal(err)
		}
		return u.final(cseq)
	}
	res := register(1, "")
	if res.StatusCode != 401 {
		t.Fatalf("REGISTER without credentials: %d, want 401", res.StatusCode)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + gw.String(), Username: "alice", Password: "alice-secret", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res := register(2, cred.String()); res.StatusCode != 200 {
		t.Fatalf("REGISTER with credentials: %d", res.StatusCode)
	}

	dialed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, err := srv.Dial(ctx, DialRequest{To: "sip:alice@" + gw.Addr().String(), Timeout: 5 * time.Second})
		dialed <- err
	}()
	inv := u.read(10*time.Second, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Request)
		return ok && r.Method == sipmsg.INVITE
	}).(*sipmsg.Request)
	if inv.Recipient.Host != "10.1.2.3" {
		t.Errorf("INVITE Request-URI %s; want the phone's Contact", inv.Recipient.String())
	}
	busy := sipmsg.NewResponseFromRequest(inv, 486, "Busy Here", nil)
	busy.To().Params.Add("tag", "phone1")
	if _, err := u.conn.WriteToUDP([]byte(busy.String()), net.UDPAddrFromAddrPort(gw)); err != nil {
		t.Fatal(err)
	}
	var de *DialError
	if err := <-dialed; !errors.As(err, &de) || de.Status != DialBusy {
		t.Errorf("Dial to the NATed phone: %v; want busy (its 486)", err)
	}
}

// TestNATRegisteredTCPPhoneDialled: a phone behind NAT registers over TCP
// (digest) naming its private address in Via and Contact, and keeps the
// connection open; dialling it sends the INVITE over that connection
// (a new one to its Contact could not reach it), and its 486, sent back
// on the same connection, ends the Dial as busy.
func TestNATRegisteredTCPPhoneDialled(t *testing.T) {
	srv, _ := startServer(t, Config{Users: []User{{Username: "alice", Password: "alice-secret"}}}, nil)
	var gw netip.AddrPort
	for _, l := range srv.Listeners() {
		if l.Transport == "tcp" {
			gw = l.Addr
		}
	}
	conn, err := net.Dial("tcp", gw.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	const sentBy = "10.1.2.3:5099"
	callID := "tcpnat-" + sipmsg.GenerateTagN(8)
	register := func(cseq int, authz string) *sipmsg.Response {
		t.Helper()
		var b strings.Builder
		b.WriteString("REGISTER sip:" + gw.String() + ";transport=tcp SIP/2.0\r\n")
		b.WriteString("Via: SIP/2.0/TCP " + sentBy + ";rport;branch=z9hG4bK" + sipmsg.GenerateTagN(10) + "\r\n")
		b.WriteString("Max-Forwards: 70\r\nFrom: <sip:alice@" + gw.Addr().String() + ">;tag=tcpnat\r\n")
		b.WriteString("To: <sip:alice@" + gw.Addr().String() + ">\r\nCall-ID: " + callID + "\r\n")
		b.WriteString("CSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nContact: <sip:alice@" + sentBy + ";transport=tcp>\r\nExpires: 120\r\n")
		if authz != "" {
			b.WriteString("Authorization: " + authz + "\r\n")
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		if _, err := io.WriteString(conn, b.String()); err != nil {
			t.Fatal(err)
		}
		for {
			if res, ok := readStreamMessage(t, r).(*sipmsg.Response); ok && res.StatusCode >= 200 {
				return res
			}
		}
	}
	res := register(1, "")
	if res.StatusCode != 401 {
		t.Fatalf("REGISTER without credentials: %d, want 401", res.StatusCode)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	uri := "sip:" + gw.String() + ";transport=tcp"
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: "alice", Password: "alice-secret", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res := register(2, cred.String()); res.StatusCode != 200 {
		t.Fatalf("REGISTER with credentials: %d", res.StatusCode)
	}

	dialed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, err := srv.Dial(ctx, DialRequest{To: "sip:alice@" + gw.Addr().String(), Timeout: 5 * time.Second})
		dialed <- err
	}()
	var inv *sipmsg.Request
	for inv == nil {
		if m, ok := readStreamMessage(t, r).(*sipmsg.Request); ok && m.Method == sipmsg.INVITE {
			inv = m
		}
	}
	if inv.Recipient.Host != "10.1.2.3" {
		t.Errorf("INVITE Request-URI %s; want the phone's Contact", inv.Recipient.String())
	}
	if v := inv.Via(); v == nil || !strings.EqualFold(v.Transport, "TCP") {
		t.Errorf("INVITE Via %v; want TCP", v)
	}
	busy := sipmsg.NewResponseFromRequest(inv, 486, "Busy Here", nil)
	busy.To().Params.Add("tag", "phone1")
	if _, err := io.WriteString(conn, busy.String()); err != nil {
		t.Fatal(err)
	}
	var de *DialError
	if err := <-dialed; !errors.As(err, &de) || de.Status != DialBusy {
		t.Errorf("Dial to the NATed TCP phone: %v; want busy (its 486)", err)
	}
}

// readStreamMessage reads one SIP message framed by its Content-Length
// from a stream and parses it.
func readStreamMessage(t testing.TB, r *bufio.Reader) sipmsg.Message {
	t.Helper()
	var head strings.Builder
	cl := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading a message: %v", err)
		}
		if strings.TrimSpace(line) == "" && head.Len() == 0 {
			continue // keep-alive CRLF
		}
		head.WriteString(line)
		if strings.TrimSpace(line) == "" {
			break
		}
		name, v, _ := strings.Cut(line, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); n == "content-length" || n == "l" {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	m, err := sipmsg.ParseMessage(append([]byte(head.String()), body...))
	if err != nil {
		t.Fatalf("parsing %q: %v", head.String(), err)
	}
	return m
}
