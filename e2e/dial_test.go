package e2e

import (
	"context"
	"fmt"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// calledParty runs a SIPp UAS scenario on a free port until the test ends.
func calledParty(t *testing.T, scenario string, extra ...string) int {
	t.Helper()
	port := freePort(t)
	path, _ := filepath.Abs(filepath.Join("testdata", scenario))
	args := append([]string{"-sf", path, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(port), "-m", "1",
		"-nostdin", "-cp", fmt.Sprint(freePort(t)), "-timeout", "60s"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(300 * time.Millisecond) // let it bind
	return port
}

// talk sends a 1 kHz tone back to wherever the gateway's RTP comes from,
// once it comes, for d.
func (p *rtpPeer) talk(t *testing.T, d time.Duration) {
	t.Helper()
	go func() {
		var dst *net.UDPAddr
		for range 500 {
			if dst = p.source(); dst != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if dst == nil {
			return
		}
		seq, ts := uint16(1), uint32(0)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		n := int(d / (20 * time.Millisecond))
		for i := 0; i < n; i++ {
			payload := make([]byte, 160)
			for j := range payload {
				s := int16(10000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000))
				payload[j] = g711.EncodeUlawFrame(s)
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234}, Payload: payload}
			raw, _ := pkt.Marshal()
			if _, err := p.conn.WriteToUDP(raw, dst); err != nil {
				return
			}
			seq++
			ts += 160
			<-tick.C
		}
	}()
}

// TestDialBridgesToSIPp: the caller's webhook dials a SIPp UAS that echoes
// RTP; a tone the caller sends comes back through both legs of the bridge,
// timeLimit ends the bridge and the action gets the Dial's outcome.
func TestDialBridgesToSIPp(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial action="/after" timeLimit="4" callerId="+15550002222"><Sip>sip:bob@127.0.0.1:%d</Sip></Dial></Response>`, uas))
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	peer := newRTPPeer(t)
	peer.talk(t, 12*time.Second)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0 101"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("DialCallStatus") != "completed" || f.Get("DialBridged") != "true" {
		t.Errorf("action: DialCallStatus=%q DialBridged=%q", f.Get("DialCallStatus"), f.Get("DialBridged"))
	}
	if d, _ := strconv.Atoi(f.Get("DialCallDuration")); d < 3 || d > 5 {
		t.Errorf("DialCallDuration %q, want about 4 (timeLimit)", f.Get("DialCallDuration"))
	}
	// The tone went caller -> gateway -> SIPp (echo) -> gateway -> caller.
	rx := decode(peer.packets(), 0)
	best := 0.0
	for i := 0; i+4000 <= len(rx); i += 2000 {
		best = math.Max(best, goertzelFraction(rx[i:i+4000], 1000))
	}
	if best < 0.8 {
		t.Errorf("the caller's tone did not come back through the bridge (best 1 kHz fraction %.2f)", best)
	}
}

// TestDialNotAnswered: busy and no-answer reach the action, and the
// called party's CANCEL handshake is right (SIPp checks it).
func TestDialNotAnswered(t *testing.T) {
	for _, tc := range []struct{ scenario, attrs, want string }{
		{"uas_busy.xml", ``, "busy"},
		{"uas_noanswer.xml", ` timeout="5"`, "no-answer"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			uas := calledParty(t, tc.scenario)
			a := newApp(t)
			a.twiml("/voice", fmt.Sprintf(`<Response><Dial action="/after"%s>sip:bob@127.0.0.1:%d</Dial></Response>`, tc.attrs, uas))
			a.twiml("/after", `<Response><Say>Nobody is there.</Say><Hangup/></Response>`)
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
			peer := newRTPPeer(t)
			code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 30*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d\n%s", code, out)
			}
			f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
			if f.Get("DialCallStatus") != tc.want || f.Get("DialBridged") != "false" {
				t.Errorf("DialCallStatus=%q DialBridged=%q, want %q false", f.Get("DialCallStatus"), f.Get("DialBridged"), tc.want)
			}
		})
	}
}
