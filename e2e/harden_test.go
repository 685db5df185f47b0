package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawUAC is a bare SIP-over-UDP caller on one socket: the tests below
// need to send exactly what an attacker would (a replayed header, another
// source address, an IPv6 offer).
type rawUAC struct {
	t    *testing.T
	conn *net.UDPConn
	gw   *net.UDPAddr
}

func newRawUAC(t *testing.T, localIP string, g *gateway) *rawUAC {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUAC{t: t, conn: conn, gw: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: g.sipPort}}
}

// sipResponse is a response as read off the wire.
type sipResponse struct {
	code    int
	headers map[string]string // lower-case name → first value
	body    string
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sdpOffer is a PCMU offer with media at addr:port ("IP4" or "IP6").
func sdpOffer(ipVer, addr string, port int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN %[1]s %[2]s\r\ns=-\r\nc=IN %[1]s %[2]s\r\nt=0 0\r\nm=audio %[3]d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", ipVer, addr, port)
}

// rawDialog is what invite sent, for the ACK and BYE.
type rawDialog struct {
	callID, fromTag, toHeader, uri string
}

// invite sends an INVITE for user with the given extra header lines and
// SDP and returns the final response (ACKed), or fails the test after 5 s.
func (u *rawUAC) invite(user, extra, sdp string) (sipResponse, rawDialog) {
	u.t.Helper()
	local := u.conn.LocalAddr().String()
	d := rawDialog{callID: randHex(8), fromTag: randHex(4), uri: fmt.Sprintf("sip:%s@%s", user, u.gw)}
	branch := "z9hG4bK" + randHex(6)
	req := fmt.Sprintf("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nFrom: <sip:+15550001111@%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@%s>\r\nMax-Forwards: 70\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		d.uri, local, branch, local, d.fromTag, d.uri, d.callID, local, extra, len(sdp), sdp)
	u.send(req)
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := u.read(deadline)
		if err != nil {
			u.t.Fatalf("INVITE: no final response: %v", err)
		}
		if res.code < 200 || res.headers["call-id"] != d.callID {
			continue
		}
		d.toHeader = res.headers["to"]
		ackBranch := branch
		if res.code < 300 {
			ackBranch = "z9hG4bK" + randHex(6)
		}
		u.send(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nFrom: <sip:+15550001111@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			d.uri, local, ackBranch, local, d.fromTag, d.toHeader, d.callID))
		return res, d
	}
}

// bye hangs up an answered dialog.
func (u *rawUAC) bye(d rawDialog) {
	local := u.conn.LocalAddr().String()
	u.send(fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nFrom: <sip:+15550001111@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		d.uri, local, randHex(6), local, d.fromTag, d.toHeader, d.callID))
}

func (u *rawUAC) send(msg string) {
	if _, err := u.conn.WriteToUDP([]byte(msg), u.gw); err != nil {
		u.t.Fatal(err)
	}
}

func (u *rawUAC) read(deadline time.Time) (sipResponse, error) {
	buf := make([]byte, 8192)
	for {
		u.conn.SetReadDeadline(deadline)
		n, _, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return sipResponse{}, err
		}
		msg := string(buf[:n])
		head, body, _ := strings.Cut(msg, "\r\n\r\n")
		lines := strings.Split(head, "\r\n")
		var code int
		if _, err := fmt.Sscanf(lines[0], "SIP/2.0 %d", &code); err != nil {
			continue // a request (the gateway's BYE): not what we wait for
		}
		res := sipResponse{code: code, headers: map[string]string{}, body: body}
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, ":")
			k = strings.ToLower(strings.TrimSpace(k))
			if _, seen := res.headers[k]; !seen {
				res.headers[k] = strings.TrimSpace(v)
			}
		}
		return res, nil
	}
}

const pbxTrunk = `trunks:
  - name: pbx
    inbound_username: pbx
    inbound_password: s3cret-pbx
`

// TestDigestReplay: SIPp authenticates once; the Authorization header it
// sent, captured from its trace, is then sent again by an attacker with a
// new Call-ID (from the same and from another address) and for another
// number: none is let in (401 stale=true with a new nonce). (A digest for
// another Request-URI user gets 403: sip TestInboundAuthReplay.)
func TestDigestReplay(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: pbxTrunk + "default_app:\n  voice_url: " + a.url("/voice") + "\n"})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_auth_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "user": "pbx", "pass": "s3cret-pbx"}, 20*time.Second)
	if code != 0 {
		t.Fatalf("the authenticated SIPp call failed: exit %d\n%s", code, out)
	}
	m := regexp.MustCompile(`(?m)^\s*Authorization: (Digest .*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no Authorization header in SIPp's trace\n%s", out)
	}
	captured := "Authorization: " + strings.TrimSpace(m[1]) + "\r\n"
	sdp := sdpOffer("IP4", "127.0.0.1", peer.port())
	for _, c := range []struct {
		name, from, user string
		want             int
	}{
		{"same address, new Call-ID", "127.0.0.1", "+15550001000", 401},
		{"another address", "127.0.0.2", "+15550001000", 401},
		{"another number", "127.0.0.1", "+15550002000", 401},
	} {
		res, d := newRawUAC(t, c.from, g).invite(c.user, captured, sdp)
		if res.code != c.want {
			t.Errorf("%s: replayed credentials answered %d, want %d", c.name, res.code, c.want)
		}
		if res.code == 200 {
			newRawUAC(t, c.from, g).bye(d)
		}
		if c.want == 401 && !strings.Contains(strings.ToLower(res.headers["www-authenticate"]), "stale=true") {
			t.Errorf("%s: 401 without stale=true: %q", c.name, res.headers["www-authenticate"])
		}
	}
	if n := len(a.requests("/voice")); n != 1 {
		t.Errorf("the app was asked %d times, want once (the real call)", n)
	}
}

// TestAllowedIPsAndPassword: a trunk with allowed_ips and a password
// refuses an INVITE from elsewhere with 403 at once, credentials or not.
func TestAllowedIPsAndPassword(t *testing.T) {
	trunk := "trunks:\n  - name: carrier\n    allowed_ips: [127.0.0.2]\n    inbound_username: pbx\n    inbound_password: s3cret-pbx\n"
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused", extraYAML: trunk})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_expect_error.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0", "code": "403"}, 10*time.Second)
	if code != 0 {
		t.Fatalf("INVITE from outside allowed_ips: want 403 (no challenge): sipp exit %d\n%s", code, out)
	}
}

// TestRTPInjectionAtCallStart: a third address spraying RTP at a new
// call's port before the caller's first packet gets none of the call's
// audio; the caller does.
func TestRTPInjectionAtCallStart(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>Hello.</Say><Pause length="5"/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	peer := newRTPPeer(t)
	uac := newRawUAC(t, "127.0.0.1", g)
	res, d := uac.invite("+15550001000", "", sdpOffer("IP4", "127.0.0.1", peer.port()))
	if res.code != 200 {
		t.Fatalf("INVITE answered %d", res.code)
	}
	defer uac.bye(d)
	mm := regexp.MustCompile(`m=audio (\d+) `).FindStringSubmatch(res.body)
	if mm == nil {
		t.Fatalf("no m= line in the answer:\n%s", res.body)
	}
	gwPort, _ := strconv.Atoi(mm[1])
	attacker, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 0
	binary.BigEndian.PutUint32(pkt[8:], 0xbadc0de)
	for seq := range 25 {
		binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq*160))
		if _, err := attacker.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: gwPort}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	attacker.SetReadDeadline(time.Now().Add(time.Second))
	if n, _, err := attacker.ReadFromUDP(make([]byte, 2048)); err == nil {
		t.Fatalf("the gateway sent the call's audio (%d bytes) to the address that injected RTP", n)
	}
	before := len(peer.packets())
	time.Sleep(300 * time.Millisecond)
	if after := len(peer.packets()); after <= before {
		t.Errorf("the caller's SDP address stopped getting audio (%d packets, then %d)", before, after)
	}
}

// TestIPv6OnlyOfferRefused: an offer with only IPv6 media gets 488 (it
// would otherwise be answered and get no audio).
func TestIPv6OnlyOfferRefused(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused"})
	res, _ := newRawUAC(t, "127.0.0.1", g).invite("+15550001000", "", sdpOffer("IP6", "::1", 40000))
	if res.code != 488 {
		t.Errorf("IPv6-only offer answered %d, want 488", res.code)
	}
}

// TestInviteFloodShed: a flood beyond sip.limits.calls_per_second is shed
// with 503 + Retry-After (SIPp checks the header); admitted calls complete;
// /healthz stays quick throughout.
func TestInviteFloodShed(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Pause length="1"/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), env: []string{"VOXGATE_SIP_LIMITS_CALLS_PER_SECOND=5", "VOXGATE_SIP_LIMITS_MAX_CALLS=8"}})
	stop := make(chan struct{})
	var slowest time.Duration
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			resp, err := http.Get(g.httpURL + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			slowest = max(slowest, time.Since(start))
		}
	})
	const calls = 60
	res := g.sippLoad(t, "uac_flood.xml", nil, calls, 60, 0)
	close(stop)
	wg.Wait()
	if res.exit != 0 || res.failed != 0 {
		t.Fatalf("sipp exit %d, %d failed (every call must be answered or shed with Retry-After)\n%s", res.exit, res.failed, res.output)
	}
	var shed, completed float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		m := g.metrics(t) // the last calls' final status may trail SIPp's end a little
		shed = m[`voxgate_sip_refused_total{kind="invite",reason="calls_per_second"}`] + m[`voxgate_sip_refused_total{kind="invite",reason="max_calls"}`]
		completed = m[`voxgate_calls_total{status="completed"}`]
		if shed+completed >= calls {
			break
		}
	}
	if shed < 20 || completed < 5 || shed+completed != calls {
		t.Errorf("%v shed + %v completed, want most of %d shed, at least 5 completed, nothing else", shed, completed, calls)
	}
	if slowest > 2*time.Second {
		t.Errorf("/healthz took %v during the flood", slowest)
	}
}

// TestTCPConnectionFlood: idle TCP connections beyond the per-source cap
// are closed at once, the rest after the idle timeout, and SIP over TCP
// and HTTP keep working.
func TestTCPConnectionFlood(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused",
		env: []string{"VOXGATE_SIP_LIMITS_TCP_SOURCE_MAX_CONNECTIONS=10", "VOXGATE_SIP_LIMITS_TCP_IDLE_TIMEOUT=2s"}})
	const n = 200
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", g.sipPort))
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	closedBy := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	closedAtOnce := 0
	for _, c := range conns {
		if closedBy(c, 20*time.Millisecond) {
			closedAtOnce++
		}
	}
	if closedAtOnce != n-10 {
		t.Errorf("%d of %d connections closed at once, want %d (the per-source cap is 10)", closedAtOnce, n, n-10)
	}
	still := 0
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range conns {
		if !closedBy(c, time.Until(deadline)) {
			still++
		}
	}
	if still != 0 {
		t.Errorf("%d idle connections still open after the idle timeout", still)
	}
	if code, out := g.sipp(t, "tcp", "uac_options.xml", map[string]string{"service": "1000"}, 10*time.Second); code != 0 {
		t.Errorf("SIP over TCP after the flood: sipp exit %d\n%s", code, out)
	}
	g.health(t)
	if v := g.metrics(t)[`voxgate_sip_refused_total{kind="tcp",reason="tcp_source_max_connections"}`]; v != n-10 {
		t.Errorf("metrics count %v refused connections, want %d", v, n-10)
	}
}

// udpDrops reads the kernel's drop count of the UDP socket bound to
// 127.0.0.1:port (/proc/net/udp).
func udpDrops(t *testing.T, port int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 12 && f[1] == local {
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("/proc/net/udp: %q", line)
			}
			return n
		}
	}
	t.Fatalf("no UDP socket on 127.0.0.1:%d in /proc/net/udp", port)
	return 0
}

// TestJunkDatagramsLogging: unparseable datagrams cost a short,
// rate-limited log line, not one line with the payload each; /metrics
// counts them.
func TestJunkDatagramsLogging(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused"})
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", g.sipPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	logBefore := len(g.Logs())
	dropsBefore := udpDrops(t, g.sipPort)
	junk := bytes.Repeat([]byte("JUNK-PAYLOAD "), 60)
	const sent = 400
	for i := range sent {
		if _, err := conn.Write(junk); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			time.Sleep(2 * time.Millisecond) // stay within the socket buffer
		}
	}
	// Every datagram is counted, but for those the kernel dropped because
	// the gateway's socket buffer was full (a loaded machine).
	var counted, dropped float64
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dropped = float64(udpDrops(t, g.sipPort) - dropsBefore)
		if counted = g.metrics(t)[`voxgate_sip_refused_total{kind="message",reason="unparseable"}`]; counted+dropped >= sent {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if counted+dropped != sent || counted == 0 {
		t.Errorf("/metrics counted %v unparseable messages and the kernel dropped %v; sent %d", counted, dropped, sent)
	}
	logs := g.Logs()[logBefore:]
	if n := strings.Count(logs, "JUNK-PAYLOAD"); n > 5 {
		t.Errorf("the payload appears %d times in the log", n)
	}
	if len(logs) > 4096 {
		t.Errorf("%d junk datagrams wrote %d bytes of log:\n%.2000s", sent, len(logs), logs)
	}
}

// privateServer is an HTTP server on 127.0.0.2, an address the e2e
// config's outbound_http policy does not allow; it counts its requests.
func privateServer(t *testing.T) (url string, hits func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = io.WriteString(w, `<Response><Say>secret</Say></Response>`)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// TestWebhookToPrivateAddressRefused: a voice URL on an address the
// outbound_http policy does not allow (127.0.0.2 here; cloud metadata,
// loopback and private networks by default) is never fetched: the caller
// hears the application-error message.
func TestWebhookToPrivateAddressRefused(t *testing.T) {
	private, hits := privateServer(t)
	g := startGateway(t, gatewayOpts{voiceURL: private + "/voice", extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d (want the error message, then BYE)\n%s", code, out)
	}
	if n := hits(); n != 0 {
		t.Errorf("the gateway fetched from a private address %d times", n)
	}
	if !strings.Contains(g.Logs(), "netpolicy") {
		t.Errorf("the log does not say the policy refused the URL")
	}
}

// TestMediaAndCallbacksToPrivateAddressRefused: <Play> media and status
// callbacks on an address the policy does not allow are never fetched,
// while the app on an allowed address runs.
func TestMediaAndCallbacksToPrivateAddressRefused(t *testing.T) {
	private, hits := privateServer(t)
	a := newApp(t)
	a.twiml("/voice", `<Response><Play>`+private+`/media.wav</Play><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), statusCallback: private + "/status", statusEvents: []string{"initiated", "ringing", "answered", "completed"}})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 30*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	if len(a.requests("/voice")) != 1 {
		t.Errorf("the app on an allowed address was asked %d times, want 1", len(a.requests("/voice")))
	}
	// The four callbacks fail (11205, connection failure) without reaching it.
	key := `voxgate_webhook_failures_total{code="11205",kind="callback"}`
	for deadline := time.Now().Add(10 * time.Second); g.metrics(t)[key] < 4 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if v := g.metrics(t)[key]; v < 4 {
		t.Errorf("%s = %v, want the 4 status callbacks refused", key, v)
	}
	if n := hits(); n != 0 {
		t.Errorf("the gateway reached the private address %d times (media or status callbacks)", n)
	}
}
