package e2e

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestOptionsAndUnknownMethods: OPTIONS 200, REGISTER 405, unknown 501.
func TestOptionsAndUnknownMethods(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused"})
	code, out := g.sipp(t, "udp", "uac_options.xml", map[string]string{"service": "1000"}, 10*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
}

// TestMalformedSIP: garbage and a request without mandatory headers do not
// take the gateway down; the second gets a 400 where it can be answered.
func TestMalformedSIP(t *testing.T) {
	g := startGateway(t, gatewayOpts{voiceURL: "http://127.0.0.1:1/unused"})
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", g.sipPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, msg := range []string{
		"\x00\x01garbage\r\n\r\n",
		"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\r\n",
		"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nCall-ID: m1\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
	} {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// Still alive and answering.
	code, out := g.sipp(t, "udp", "uac_options.xml", map[string]string{"service": "1000"}, 10*time.Second)
	if code != 0 {
		t.Fatalf("gateway no longer answers OPTIONS after malformed input: sipp exit %d\n%s", code, out)
	}
}

// TestReInviteHold: hold and unhold by re-INVITE are answered on the same
// media, and the call survives them.
func TestReInviteHold(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>Hold on.</Say><Pause length="30"/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_reinvite.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port())}, 20*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	pkts := peer.packets()
	if len(pkts) < 50 {
		t.Fatalf("only %d RTP packets", len(pkts))
	}
	// While on hold (about 1 s) the gateway stops sending: look for the gap.
	var gap time.Duration
	for i := 1; i < len(pkts); i++ {
		gap = max(gap, pkts[i].At.Sub(pkts[i-1].At))
	}
	if gap < 700*time.Millisecond {
		t.Errorf("longest gap between RTP packets %v: the gateway kept sending while on hold (sendonly)", gap)
	}
	checkSSRC(t, pkts)
}

func checkSSRC(t *testing.T, pkts []rtpPacket) {
	t.Helper()
	for _, p := range pkts {
		if p.Header.SSRC != pkts[0].Header.SSRC {
			t.Fatalf("SSRC changed across re-INVITE: same media expected")
		}
	}
}
