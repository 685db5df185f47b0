package sip

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rawPeer is a SIP caller written by hand over UDP, so that the test
// decides when (and whether) the ACK goes out.
type rawPeer struct {
	t    *testing.T
	conn net.PacketConn
	dst  net.Addr
}

func newRawPeer(t *testing.T, srv *Server) *rawPeer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	dst := net.UDPAddrFromAddrPort(udpListener(t, srv))
	return &rawPeer{t: t, conn: conn, dst: dst}
}

func (p *rawPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *rawPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.conn.WriteTo([]byte(strings.ReplaceAll(msg, "\n", "\r\n")), p.dst); err != nil {
		p.t.Fatal(err)
	}
}

// next returns the next message's text, or "" when none comes within d.
func (p *rawPeer) next(d time.Duration) string {
	buf := make([]byte, 65536)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFrom(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func sipHeader(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The callee's BYE waits for the ACK of its 200 (RFC 3261 §15): the app
// hangs up at once after answering, Hangup returns without waiting, the
// 200 is retransmitted meanwhile, and the BYE follows the ACK.
func TestByeWaitsForAck(t *testing.T) {
	t.Parallel()
	hungUp := make(chan error, 1)
	srv, _ := startServer(t, Config{}, func(ctx context.Context, call *InboundCall) {
		if err := call.Answer(ctx); err != nil {
			hungUp <- err
			return
		}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := call.Hangup(hctx)
		if err == nil && hctx.Err() != nil {
			err = fmt.Errorf("Hangup waited for its context (%v) instead of deferring the BYE", time.Since(start))
		}
		hungUp <- err
	})
	p := newRawPeer(t, srv)
	sdp := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n"
	common := fmt.Sprintf("From: <sip:alice@127.0.0.1:%[1]d>;tag=a1\nCall-ID: ackwait-%[1]d\nMax-Forwards: 70\n", p.port())
	p.send(fmt.Sprintf("INVITE sip:1000@%[1]s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%[2]d;branch=z9hG4bK-inv1\n%[3]sTo: <sip:1000@%[1]s>\nCSeq: 1 INVITE\nContact: <sip:alice@127.0.0.1:%[2]d>\nContent-Type: application/sdp\nContent-Length: %[4]d\n\n%[5]s",
		p.dst, p.port(), common, len(strings.ReplaceAll(sdp, "\n", "\r\n")), sdp))

	// Collect 200s until the app has hung up and one more 200 came (a
	// retransmission while the BYE waits); no BYE may come before the ACK.
	var ok200 string
	okCount := 0
	deadline := time.Now().Add(10 * time.Second)
	appDone := false
	for !(appDone && okCount >= 2) {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d 200s (app done %v) in 10 s, want a retransmission after the hang-up", okCount, appDone)
		}
		select {
		case err := <-hungUp:
			if err != nil {
				t.Fatalf("app: %v", err)
			}
			appDone = true
		default:
		}
		msg := p.next(200 * time.Millisecond)
		switch {
		case strings.HasPrefix(msg, "BYE "):
			t.Fatal("BYE sent before the ACK of the 200")
		case strings.HasPrefix(msg, "SIP/2.0 200"):
			ok200 = msg
			okCount++
		}
	}
	to := sipHeader(ok200, "To")
	p.send(fmt.Sprintf("ACK sip:1000@%[1]s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%[2]d;branch=z9hG4bK-ack1\n%[3]sTo: %[4]s\nCSeq: 1 ACK\nContent-Length: 0\n\n",
		p.dst, p.port(), common, to))
	for {
		msg := p.next(5 * time.Second)
		if msg == "" {
			t.Fatal("no BYE within 5 s of the ACK")
		}
		if !strings.HasPrefix(msg, "BYE ") {
			continue // a 200 retransmission still in flight
		}
		if got := sipHeader(msg, "From"); !strings.Contains(got, "tag=") || got != to {
			t.Errorf("BYE From %q, want our To of the 200 %q", got, to)
		}
		p.send(fmt.Sprintf("SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\nContent-Length: 0\n\n",
			sipHeader(msg, "Via"), sipHeader(msg, "From"), sipHeader(msg, "To"), sipHeader(msg, "Call-ID"), sipHeader(msg, "CSeq")))
		break
	}
	waitFor(t, 5*time.Second, "the call to end", func() bool { return srv.ActiveCalls() == 0 })
}
