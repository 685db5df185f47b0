package sip

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// rawUAC is a SIP user agent written by hand over one UDP socket, for
// the requests our own client does not send (re-INVITEs with new keys,
// ACKs with chosen answers).
type rawUAC struct {
	t       *testing.T
	conn    *net.UDPConn
	server  string
	callID  string
	fromTag string
	toTag   string
	cseq    int
	// sentBy, when set, is the Via sent-by and Contact address the UAC
	// claims (a phone behind NAT names its private address); its Via
	// then asks for rport.
	sentBy string
	// extra, when set, is added to the requests' headers (CRLF-ended
	// lines).
	extra string
}

func newRawUAC(t *testing.T, server netip.AddrPort) *rawUAC {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUAC{t: t, conn: conn, server: server.String(), callID: sipmsg.GenerateTagN(16) + "@raw", fromTag: sipmsg.GenerateTagN(8)}
}

func (u *rawUAC) addr() string { return u.conn.LocalAddr().String() }

// send sends a request in the call's dialog (To tag once known).
func (u *rawUAC) send(method string, cseq int, body string) {
	u.t.Helper()
	to := "<sip:+15550001000@" + u.server + ">"
	if u.toTag != "" {
		to += ";tag=" + u.toTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:+15550001000@%s SIP/2.0\r\n", method, u.server)
	sentBy := u.addr()
	if u.sentBy != "" {
		sentBy = u.sentBy
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s\r\n", sentBy, sipmsg.GenerateTagN(10))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n", u.fromTag, to, u.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\nContact: <sip:raw@%s>\r\n", cseq, method, sentBy)
	b.WriteString(u.extra)
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := u.conn.WriteToUDP([]byte(b.String()), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(u.server))); err != nil {
		u.t.Fatal(err)
	}
}

// read returns the next SIP message from the server that want accepts
// (others, such as 100 Trying and retransmissions, are skipped).
func (u *rawUAC) read(d time.Duration, want func(sipmsg.Message) bool) sipmsg.Message {
	u.t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		_ = u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			u.t.Fatalf("waiting for a SIP message: %v", err)
		}
		m, err := sipmsg.ParseMessage(buf[:n])
		if err == nil && want(m) {
			return m
		}
	}
}

// final waits for the final response to the request with CSeq cseq.
func (u *rawUAC) final(cseq int) *sipmsg.Response {
	u.t.Helper()
	m := u.read(10*time.Second, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Response)
		return ok && r.StatusCode >= 200 && r.CSeq().SeqNo == uint32(cseq)
	})
	res := m.(*sipmsg.Response)
	if to := res.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok {
			u.toTag = tag
		}
	}
	return res
}

// sdpOffer is an RTP/SAVP (key != nil) or RTP/AVP offer or answer of
// PCMU on port.
func sdpOffer(port int, key []byte) string {
	proto, crypto := "RTP/AVP", ""
	if key != nil {
		proto = "RTP/SAVP"
		crypto = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(key) + "\r\n"
	}
	return fmt.Sprintf("v=0\r\no=raw 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d %s 0\r\n%sa=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		time.Now().UnixNano()%1000000, port, proto, crypto)
}

func randomKey() []byte { return newLocalCrypto(1, media.AESCM128HMACSHA1_80).Key }

// TestReInviteRekeysSRTP: a phone calls with SRTP, then sends a
// re-INVITE with a new key and switches to it once the 200 arrives (as
// RFC 4568 §7.1.4 has it). The gateway answers RTP/SAVP with its key
// and accepts every packet the phone sent, under either key. A
// re-INVITE offering plain RTP gets 488.
func TestReInviteRekeysSRTP(t *testing.T) {
	stats := make(chan media.RTPStats, 1)
	srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		<-ctx.Done()
		stats <- c.RTPLeg().Stats()
	})
	phoneConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	phonePort := phoneConn.LocalAddr().(*net.UDPAddr).Port
	u := newRawUAC(t, udpListener(t, srv))
	k1, k2 := randomKey(), randomKey()

	u.send("INVITE", 1, sdpOffer(phonePort, k1))
	res := u.final(1)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d", res.StatusCode)
	}
	ans, err := ParseOffer(res.Body())
	if err != nil || ans.Crypto == nil {
		t.Fatalf("the 200 is not RTP/SAVP with a key: %v\n%s", err, res.Body())
	}
	u.send("ACK", 1, "")
	phone := media.NewRTPLeg(media.RTPConfig{Conn: phoneConn, Remote: ans.Remote, Codec: media.PCMU, Logger: testLogger(t),
		SRTP: &media.SRTPKeys{Suite: ans.Crypto.Suite, Local: k1, Remote: ans.Crypto.Key}})
	phone.Start()
	defer phone.Close("test over")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = phone.Play(ctx, audio.NewPCMSource(tone(30), 1)) }()
	time.Sleep(500 * time.Millisecond)

	heardBefore := phone.Stats().PacketsReceived
	u.send("INVITE", 2, sdpOffer(phonePort, k2))
	res = u.final(2)
	if res.StatusCode != 200 {
		t.Fatalf("re-INVITE with a new key: %d", res.StatusCode)
	}
	ans2, err := ParseOffer(res.Body())
	if err != nil || ans2.Crypto == nil {
		t.Fatalf("the re-INVITE's 200 is not RTP/SAVP with a key: %v\n%s", err, res.Body())
	}
	time.Sleep(100 * time.Millisecond) // packets under the old key keep coming meanwhile
	if err := phone.RekeySRTP(&media.SRTPKeys{Suite: ans2.Crypto.Suite, Local: k2, Remote: ans2.Crypto.Key}); err != nil {
		t.Fatal(err)
	}
	u.send("ACK", 2, "")
	time.Sleep(500 * time.Millisecond)
	heardAfter := phone.Stats().PacketsReceived

	u.send("INVITE", 3, sdpOffer(phonePort, nil))
	if res := u.final(3); res.StatusCode != 488 {
		t.Errorf("re-INVITE turning SRTP off: %d, want 488", res.StatusCode)
	}
	u.send("ACK", 3, "") // (a hop-by-hop ACK for the 488; sipgo absorbs it)

	phone.Close("test over")
	time.Sleep(500 * time.Millisecond) // the gateway reads what is on its way before the BYE closes its leg
	sent := phone.Stats().PacketsSent
	u.send("BYE", 4, "")
	if res := u.final(4); res.StatusCode != 200 {
		t.Errorf("BYE: %d", res.StatusCode)
	}
	select {
	case st := <-stats:
		t.Logf("phone sent %d packets; the gateway accepted %d, lost %d", sent, st.PacketsReceived, st.PacketsLost)
		if st.PacketsReceived != sent || st.PacketsLost != 0 {
			t.Errorf("the phone sent %d packets across the re-key; the gateway accepted %d (%d lost)", sent, st.PacketsReceived, st.PacketsLost)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	// The gateway kept its key: the phone, re-keyed too, still hears it
	// (about 30 packets in those 600 ms; fewer on a loaded host).
	if heardBefore == 0 || heardAfter-heardBefore < 5 {
		t.Errorf("the phone accepted %d packets from the gateway before the re-key, %d in the 600 ms after", heardBefore, heardAfter-heardBefore)
	}
}

// TestLateOfferSRTPBothWays: a gateway dials a second one with late
// offer through trunks that require SRTP on both sides: the second
// gateway's 200 offers RTP/SAVP with its key, the first answers with
// its own in the ACK, and the tone it sends is heard over SRTP.
func TestLateOfferSRTPBothWays(t *testing.T) {
	type heard struct {
		srtp bool
		loud int
	}
	results := make(chan heard, 1)
	pbx := Trunk{Name: "pbx", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, SRTP: SRTPRequired}
	far, _ := startServer(t, Config{Trunks: []Trunk{pbx}}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		var rec frameCounter
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = c.Leg().Record(rctx, &rec)
		_, loud := rec.counts()
		c.mu.Lock()
		srtp := c.localCrypto != nil && c.remote.Crypto != nil
		c.mu.Unlock()
		results <- heard{srtp, loud}
	})
	trunk := Trunk{Name: "carrier", Host: udpListener(t, far).String(), SRTP: SRTPRequired, LateOffer: true}
	near, _ := startServer(t, Config{Trunks: []Trunk{trunk}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := near.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "carrier", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial with late offer and SRTP: %v", err)
	}
	if call.localCrypto == nil {
		t.Error("the outbound call's media is not SRTP")
	}
	go func() { _ = call.Leg().Play(ctx, audio.NewPCMSource(tone(3), 1)) }()
	select {
	case h := <-results:
		if !h.srtp || h.loud < 50 {
			t.Errorf("far end: srtp %v, %d loud frames; want SRTP and most of 100", h.srtp, h.loud)
		}
		t.Logf("far end heard %d loud frames over SRTP, keyed by a late offer", h.loud)
	case <-time.After(10 * time.Second):
		t.Fatal("far end's handler did not finish")
	}
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		_ = call.Hangup(ctx)
	}
}

// TestLateOfferSRTPRequiredAnswerChecked: an INVITE without SDP from a
// trunk that requires SRTP gets an RTP/SAVP offer with a=crypto in the
// 200; an ACK answering plain RTP ends the call with a BYE.
func TestLateOfferSRTPRequiredAnswerChecked(t *testing.T) {
	pbx := Trunk{Name: "pbx", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, SRTP: SRTPRequired}
	reasons := make(chan string, 1)
	srv, _ := startServer(t, Config{Trunks: []Trunk{pbx}}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		<-c.Done()
		reasons <- c.EndReason()
	})
	u := newRawUAC(t, udpListener(t, srv))
	u.send("INVITE", 1, "")
	res := u.final(1)
	body := string(res.Body())
	if res.StatusCode != 200 || !strings.Contains(body, "RTP/SAVP") || !strings.Contains(body, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Fatalf("200 to a late offer on an SRTP trunk: %d\n%s", res.StatusCode, body)
	}
	u.send("ACK", 1, sdpOffer(40000, nil))
	bye := u.read(10*time.Second, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Request)
		return ok && r.Method == sipmsg.BYE
	}).(*sipmsg.Request)
	okRes := sipmsg.NewResponseFromRequest(bye, 200, "OK", nil)
	if _, err := u.conn.WriteToUDP([]byte(okRes.String()), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(u.server))); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reasons:
		if r != "no-sdp-answer" {
			t.Errorf("the call ended with %q, want no-sdp-answer", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
}
