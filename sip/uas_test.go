package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/pion/rtp"
)

// testUAS is a far end for outbound-call tests, built from sipgo. What it
// does with an INVITE depends on the Request-URI user (see behaviour).
type testUAS struct {
	t       *testing.T
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	dialogs *sipgo.DialogServerCache
	addr    netip.AddrPort // UDP
	tcpAddr netip.AddrPort
	rtp     *net.UDPConn // media address of answers (and of early media)
	rtp2    *net.UDPConn // media address of the answer after early media

	user, password string // digest credentials the "auth" behaviour wants

	mu        sync.Mutex
	behaviour map[string]string // Request-URI user -> behaviour; default "answer"
	invites   []*sipmsg.Request
	events    chan string // "canceled:<user>", "bye:<user>", "reinvite:<code>:<body>"...
	backlog   []string    // events received by expect but not yet expected (test goroutine only)
	handlers  sync.WaitGroup
}

func newTestUAS(t *testing.T) *testUAS {
	t.Helper()
	u := &testUAS{t: t, behaviour: map[string]string{}, events: make(chan string, 64), user: "alice", password: "s3cret"}
	var err error
	if u.ua, err = sipgo.NewUA(sipgo.WithUserAgent("test-uas")); err != nil {
		t.Fatal(err)
	}
	if u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(testLogger(t))); err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	client, err := sipgo.NewClient(u.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(int(u.addr.Port())))
	if err != nil {
		t.Fatal(err)
	}
	contact := sipmsg.ContactHeader{Address: sipmsg.Uri{User: "uas", Host: "127.0.0.1", Port: int(u.addr.Port())}}
	u.dialogs = sipgo.NewDialogServerCache(client, contact)
	for _, c := range []**net.UDPConn{&u.rtp, &u.rtp2} {
		if *c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	u.srv.OnInvite(u.onInvite)
	u.srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) { _ = u.dialogs.ReadAck(req, tx) })
	u.srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if err := u.dialogs.ReadBye(req, tx); err != nil {
			res := sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil)
			_ = tx.Respond(res)
			return
		}
		u.events <- "bye:" + req.To().Address.User
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.tcpAddr = ln.Addr().(*net.TCPAddr).AddrPort()
	var served sync.WaitGroup
	served.Add(2)
	go func() {
		defer served.Done()
		_ = u.srv.ServeUDP(conn)
	}()
	go func() {
		defer served.Done()
		_ = u.srv.ServeTCP(ln)
	}()
	t.Cleanup(func() {
		conn.Close()
		ln.Close()
		served.Wait()
		u.handlers.Wait()
		u.ua.Close()
		u.rtp.Close()
		u.rtp2.Close()
	})
	return u
}

func (u *testUAS) set(user, behaviour string) {
	u.mu.Lock()
	u.behaviour[user] = behaviour
	u.mu.Unlock()
}

func (u *testUAS) uri(user string) string { return fmt.Sprintf("sip:%s@%s", user, u.addr) }

func (u *testUAS) lastInvite() *sipmsg.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.invites) == 0 {
		return nil
	}
	return u.invites[len(u.invites)-1]
}

func (u *testUAS) inviteCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.invites)
}

// expect waits for an event with the given prefix and returns it. Other
// events are kept for later expects.
func (u *testUAS) expect(prefix string, d time.Duration) string {
	u.t.Helper()
	for i, ev := range u.backlog {
		if strings.HasPrefix(ev, prefix) {
			u.backlog = append(u.backlog[:i], u.backlog[i+1:]...)
			return ev
		}
	}
	deadline := time.After(d)
	for {
		select {
		case ev := <-u.events:
			if strings.HasPrefix(ev, prefix) {
				return ev
			}
			u.backlog = append(u.backlog, ev)
		case <-deadline:
			u.t.Fatalf("test UAS: no %q event within %v", prefix, d)
			return ""
		}
	}
}

func uasSDP(conn *net.UDPConn, direction string) []byte {
	port := conn.LocalAddr().(*net.UDPAddr).Port
	return []byte(strings.Join([]string{"v=0", "o=uas 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 8 101", port), "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=" + direction, ""}, "\r\n"))
}

func (u *testUAS) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	u.handlers.Add(1)
	defer u.handlers.Done()
	user := req.Recipient.User
	u.mu.Lock()
	u.invites = append(u.invites, req.Clone())
	b, ok := u.behaviour[user]
	u.mu.Unlock()
	if !ok {
		b = "answer"
	}
	dlg, err := u.dialogs.ReadInvite(req, tx)
	if err != nil {
		u.t.Errorf("test UAS: ReadInvite: %v", err)
		return
	}
	defer dlg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	contact := func() sipmsg.Header {
		h := sipmsg.ContactHeader{Address: sipmsg.Uri{User: "uas", Host: "127.0.0.1", Port: int(u.addr.Port())}}
		return &h
	}
	answer := func(conn *net.UDPConn) bool {
		res := sipmsg.NewSDPResponseFromRequest(dlg.InviteRequest, uasSDP(conn, "sendrecv"))
		res.AppendHeader(contact())
		res.AppendHeader(sipmsg.NewHeader("X-Uas-Answer", user))
		if err := dlg.WriteResponse(res); err != nil {
			if dlg.Context().Err() == nil { // a BYE may overtake the ACK
				u.t.Errorf("test UAS: answer %s: %v", user, err)
			}
			return false
		}
		return true
	}
	switch b {
	case "busy":
		_ = dlg.Respond(486, "Busy Here", nil)
	case "decline":
		_ = dlg.Respond(603, "Decline", nil)
	case "notfound":
		_ = dlg.Respond(404, "Not Found", nil, sipmsg.NewHeader("X-Reason", "nobody"))
	case "unavailable":
		_ = dlg.Respond(503, "Service Unavailable", nil)
	case "redirect":
		_ = dlg.Respond(302, "Moved Temporarily", nil, contact())
	case "authfail":
		_ = dlg.Respond(401, "Unauthorized", nil, sipmsg.NewHeader("WWW-Authenticate", uasChallenge().String()))
	case "auth":
		h := req.GetHeader("Authorization")
		if h == nil {
			_ = dlg.Respond(401, "Unauthorized", nil, sipmsg.NewHeader("WWW-Authenticate", uasChallenge().String()))
			return
		}
		if err := u.checkDigest(h.Value(), req); err != nil {
			u.events <- "auth-bad:" + err.Error()
			_ = dlg.Respond(403, "Forbidden", nil)
			return
		}
		u.events <- "auth-ok:" + user
		if answer(u.rtp) {
			<-dlg.Context().Done()
		}
	case "noanswer":
		_ = dlg.Respond(180, "Ringing", nil, contact())
		<-dlg.Context().Done()
		u.events <- "canceled:" + user
	case "early":
		res := sipmsg.NewResponseFromRequest(dlg.InviteRequest, 183, "Session Progress", uasSDP(u.rtp, "sendrecv"))
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(contact())
		if err := dlg.WriteResponse(res); err != nil {
			u.t.Errorf("test UAS: 183: %v", err)
			return
		}
		offer, err := ParseOffer(req.Body())
		if err != nil {
			u.t.Errorf("test UAS: offer: %v", err)
			return
		}
		sendRTP(u.rtp, offer.Remote, 8, 25) // 0.5 s of early media
		if answer(u.rtp2) {
			<-dlg.Context().Done()
		}
	case "byeafter":
		if answer(u.rtp) {
			time.Sleep(300 * time.Millisecond)
			if err := dlg.Bye(ctx); err != nil {
				u.t.Errorf("test UAS: BYE: %v", err)
			}
			u.events <- "sent-bye:" + user
		}
	case "reinvite":
		if !answer(u.rtp) {
			return
		}
		re := sipmsg.NewRequest(sipmsg.INVITE, dlg.InviteRequest.Contact().Address)
		re.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		re.SetBody(uasSDP(u.rtp2, "sendonly"))
		res, err := dlg.Do(ctx, re)
		if err != nil {
			u.t.Errorf("test UAS: re-INVITE: %v", err)
			return
		}
		ack := sipmsg.NewRequest(sipmsg.ACK, dlg.InviteRequest.Contact().Address)
		_ = dlg.WriteRequest(ack)
		u.events <- fmt.Sprintf("reinvite:%d:%s", res.StatusCode, res.Body())
		<-dlg.Context().Done()
	default: // "answer"
		_ = dlg.Respond(180, "Ringing", nil, contact())
		// sipgo handles responses on goroutines of their own: a 200 right
		// behind the 180 may overtake it, and then the 180 is dropped.
		time.Sleep(50 * time.Millisecond)
		if answer(u.rtp) {
			<-dlg.Context().Done() // until BYE
		}
	}
}

// uasChallenge is the test UAS's digest challenge.
func uasChallenge() *digest.Challenge {
	return &digest.Challenge{Realm: "uas.test", Nonce: "n0nce-42", Algorithm: "MD5", QOP: []string{"auth"}}
}

// checkDigest verifies credentials against the UAS's challenge, computed
// independently of the code under test.
func (u *testUAS) checkDigest(authz string, req *sipmsg.Request) error {
	creds, err := digest.ParseCredentials(authz)
	if err != nil {
		return err
	}
	if creds.Username != u.user {
		return fmt.Errorf("username %q", creds.Username)
	}
	if creds.URI != req.Recipient.Addr() {
		return fmt.Errorf("digest uri %q, request uri %q", creds.URI, req.Recipient.Addr())
	}
	chal := uasChallenge()
	want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: creds.URI, Username: u.user, Password: u.password, Cnonce: creds.Cnonce, Count: creds.Nc})
	if err != nil {
		return err
	}
	if want.Response != creds.Response {
		return fmt.Errorf("wrong digest response")
	}
	return nil
}

// sendRTP sends n 20 ms packets of a loud A-law (pt 8) or µ-law (pt 0)
// square wave from conn to dst, paced in real time.
func sendRTP(conn *net.UDPConn, dst netip.AddrPort, pt uint8, n int) {
	payload := make([]byte, 160)
	for i := range payload {
		if (i/20)%2 == 0 {
			payload[i] = 0x2a // loud positive (A-law); also loud in µ-law
		} else {
			payload[i] = 0xaa
		}
	}
	for i := range n {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(100 + i), Timestamp: uint32(i * 160), SSRC: 0x1234, Marker: i == 0}, Payload: payload}
		b, _ := p.Marshal()
		_, _ = conn.WriteToUDPAddrPort(b, dst)
		time.Sleep(20 * time.Millisecond)
	}
}

// readRTP reads one RTP packet from conn within d.
func readRTP(t *testing.T, conn *net.UDPConn, d time.Duration) (rtp.Packet, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(d))
	defer conn.SetReadDeadline(time.Time{})
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no RTP within %v: %v", d, err)
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatalf("bad RTP: %v", err)
	}
	return p, from
}
