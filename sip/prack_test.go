package sip

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

// TestDialPRACKSIPp: a far end that sends a reliable 183 (Require:
// 100rel) gets our PRACK with the right RAck before it answers; the call
// is answered and hung up.
func TestDialPRACKSIPp(t *testing.T) {
	port := freeUDPPort(t)
	scenario, err := filepath.Abs("testdata/uas_100rel.xml")
	if err != nil {
		t.Fatal(err)
	}
	sipp := startSIPp(t, port, "-sf", scenario)
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	early := false
	call, err := srv.Dial(ctx, DialRequest{To: "sip:1000@127.0.0.1:" + strconv.Itoa(port), Timeout: 5 * time.Second,
		OnRinging: func(e bool) { early = early || e }})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if !early {
		t.Error("the reliable 183's SDP did not start early media")
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	select {
	case err := <-sipp:
		if err != nil {
			t.Errorf("sipp failed (no PRACK, or a wrong RAck?): %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("sipp did not finish")
	}
}

// TestRequire100relSIPp: a caller that requires 100rel (RFC 3262) gets
// the 180 reliably (RSeq 1); a PRACK with an unknown RAck gets 481, the
// right one 200; EarlyMedia's 183 with SDP follows only then (RSeq 2),
// and Answer's 200 only after its PRACK (SIPp checks the order).
func TestRequire100relSIPp(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uac_100rel_require.xml")
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan string, 1)
	srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		defer func() { ended <- c.EndReason() }()
		if err := c.Ringing(); err != nil {
			t.Errorf("Ringing: %v", err)
			return
		}
		if err := c.EarlyMedia(ctx); err != nil {
			t.Errorf("EarlyMedia: %v", err)
			return
		}
		if err := c.Answer(ctx); err != nil {
			t.Errorf("Answer: %v", err)
			return
		}
		<-c.Done()
	})
	sipp := startSIPp(t, freeUDPPort(t), "-sf", scenario, "-s", "1000", udpListener(t, srv).String())
	select {
	case err := <-sipp:
		if err != nil {
			t.Fatalf("sipp failed: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("sipp did not finish")
	}
	select {
	case r := <-ended:
		if r != "remote-bye" {
			t.Errorf("call ended with %q, want remote-bye", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
}

// TestReliable183GivenUpWithoutPRACK: a caller that supports 100rel but
// never PRACKs gets the 183 with SDP again and again (same RSeq), and
// after 64·T1 (32 s) the INVITE is refused 504; Answer, waiting for the
// PRACK, fails and the call ends with reason no-prack. About 33 s.
func TestReliable183GivenUpWithoutPRACK(t *testing.T) {
	answerErr := make(chan error, 1)
	ended := make(chan string, 1)
	srv, _ := startServer(t, Config{RTPTimeout: 2 * time.Minute}, func(ctx context.Context, c *InboundCall) {
		defer func() { ended <- c.EndReason() }()
		if err := c.EarlyMedia(ctx); err != nil {
			t.Errorf("EarlyMedia: %v", err)
			return
		}
		answerErr <- c.Answer(ctx)
	})
	addr := udpListener(t, srv).String()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	head := strings.ReplaceAll(wireOptions, "OPTIONS", "INVITE") + "Contact: <sip:wire@127.0.0.1:5099>\nContent-Type: application/sdp\nSupported: 100rel\n"
	if _, err := io.WriteString(conn, fillWire(head, wireSDP, "UDP", "noprack", addr)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n183, rseqs := 0, map[string]bool{}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d 183s: %v", n183, err)
		}
		msg := string(buf[:n])
		if strings.HasPrefix(msg, "SIP/2.0 183") {
			n183++
			for _, line := range strings.Split(msg, "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "RSeq") {
					rseqs[strings.TrimSpace(v)] = true
				}
			}
			continue
		}
		if strings.HasPrefix(msg, "SIP/2.0 504") {
			break
		}
	}
	if n183 < 5 || len(rseqs) != 1 {
		t.Errorf("got the 183 %d times with RSeq values %v; want it retransmitted (at least 5 times in 32 s) with one RSeq", n183, rseqs)
	}
	if err := <-answerErr; err == nil {
		t.Error("Answer succeeded without the 183's PRACK")
	}
	if r := <-ended; r != "no-prack" {
		t.Errorf("call ended with %q, want no-prack", r)
	}
}

// TestPRACKOfferSIPp: a late-offer caller (INVITE without SDP) requiring
// 100rel makes its offer in the PRACK of the gateway's reliable 180
// (RFC 3262 §5). SIPp (testdata/uac_prack_offer.xml) checks that the 180
// carries no SDP, that the PRACK's 200 answers PCMA and that the INVITE's
// 200 repeats that answer (same o= line); its ACK carries no SDP and the
// call does not end for want of one; the speech it then plays is heard
// by the call as PCMA. With a G.729-only offer
// (testdata/uac_prack_offer_refused.xml) the PRACK and the INVITE get 488
// and the call ends with reason prack-offer-refused.
func TestPRACKOfferSIPp(t *testing.T) {
	type result struct {
		codec        string
		frames, loud int
		reason       string
		answerErr    error
	}
	for _, tc := range []struct {
		name, scenario, codec, codecName, reason string
	}{
		{"answered", "testdata/uac_prack_offer.xml", "8", "PCMA", "remote-bye"},
		{"refused", "testdata/uac_prack_offer_refused.xml", "18", "G729", "prack-offer-refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario, err := filepath.Abs(tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			results := make(chan result, 1)
			srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
				var r result
				defer func() { results <- r }()
				if err := c.Ringing(); err != nil {
					t.Errorf("Ringing: %v", err)
					return
				}
				if r.answerErr = c.Answer(ctx); r.answerErr == nil {
					var rec frameCounter
					_ = c.Leg().Record(ctx, &rec) // until SIPp's BYE ends the call
					r.frames, r.loud = rec.counts()
				}
				<-c.Done()
				c.mu.Lock()
				r.codec = c.remote.Codec.Name
				c.mu.Unlock()
				r.reason = c.EndReason()
			})
			sipp := startSIPp(t, freeUDPPort(t), "-sf", scenario, "-s", "1000",
				"-key", "codec", tc.codec, "-key", "codec_name", tc.codecName, udpListener(t, srv).String())
			select {
			case err := <-sipp:
				if err != nil {
					t.Fatalf("sipp failed: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("sipp did not finish")
			}
			var r result
			select {
			case r = <-results:
			case <-time.After(10 * time.Second):
				t.Fatal("the call's handler did not finish")
			}
			if r.reason != tc.reason {
				t.Errorf("EndReason %q, want %q", r.reason, tc.reason)
			}
			if tc.name == "refused" {
				if r.answerErr == nil {
					t.Error("Answer succeeded after the PRACK's offer was refused")
				}
				return
			}
			if r.answerErr != nil {
				t.Fatalf("Answer: %v", r.answerErr)
			}
			if r.codec != "PCMA" {
				t.Errorf("call media %q, want PCMA from the PRACK's offer", r.codec)
			}
			// g711a.pcap holds about 7.05 s of speech: 352 frames of 20 ms.
			if r.frames < 320 || r.loud < 150 {
				t.Errorf("heard %d frames, %d loud; want about 352 of speech", r.frames, r.loud)
			}
			t.Logf("offer in PRACK: %s, %d frames, %d with speech", r.codec, r.frames, r.loud)
		})
	}
}

// TestPRACKOfferSRTP: a late-offer phone requiring 100rel offers RTP/SAVP
// with its SDES key in the PRACK of the reliable 180; the PRACK's 200
// answers RTP/SAVP with the gateway's key, the INVITE's 200 repeats it,
// and the gateway accepts every SRTP packet the phone then sends (the leg,
// created plain for a call without an offer, takes both keys).
func TestPRACKOfferSRTP(t *testing.T) {
	stats := make(chan media.RTPStats, 1)
	srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if err := c.Ringing(); err != nil {
			t.Errorf("Ringing: %v", err)
			return
		}
		if err := c.Answer(ctx); err != nil {
			t.Errorf("Answer: %v", err)
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
	key := randomKey()

	u.extra = "Require: 100rel\r\n"
	u.send("INVITE", 1, "")
	r180 := u.read(10*time.Second, func(m sipmsg.Message) bool {
		r, ok := m.(*sipmsg.Response)
		return ok && r.StatusCode == 180
	}).(*sipmsg.Response)
	rseq := r180.GetHeader("RSeq")
	if rseq == nil || len(r180.Body()) != 0 {
		t.Fatalf("the 180 is not reliable without SDP:\n%s", r180.String())
	}
	u.toTag, _ = r180.To().Params.Get("tag")
	u.extra = "RAck: " + strings.TrimSpace(rseq.Value()) + " 1 INVITE\r\n"
	u.send("PRACK", 2, sdpOffer(phonePort, key))
	res := u.final(2)
	if res.StatusCode != 200 {
		t.Fatalf("PRACK with an RTP/SAVP offer: %d", res.StatusCode)
	}
	ans, err := ParseOffer(res.Body())
	if err != nil || ans.Crypto == nil {
		t.Fatalf("the PRACK's 200 is not RTP/SAVP with a key: %v\n%s", err, res.Body())
	}
	u.extra = ""
	inv := u.final(1)
	if inv.StatusCode != 200 || string(inv.Body()) != string(res.Body()) {
		t.Fatalf("INVITE: %d, SDP\n%s\nwant the PRACK's answer again", inv.StatusCode, inv.Body())
	}
	u.send("ACK", 1, "")

	phone := media.NewRTPLeg(media.RTPConfig{Conn: phoneConn, Remote: ans.Remote, Codec: media.PCMU, Logger: testLogger(t),
		SRTP: &media.SRTPKeys{Suite: ans.Crypto.Suite, Local: key, Remote: ans.Crypto.Key}})
	phone.Start()
	defer phone.Close("test over")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = phone.Play(ctx, audio.NewPCMSource(tone(30), 1)) }()
	time.Sleep(600 * time.Millisecond)
	phone.Close("test over")
	time.Sleep(500 * time.Millisecond) // the gateway reads what is on its way before the BYE closes its leg
	sent := phone.Stats().PacketsSent
	u.send("BYE", 3, "")
	if res := u.final(3); res.StatusCode != 200 {
		t.Errorf("BYE: %d", res.StatusCode)
	}
	select {
	case st := <-stats:
		t.Logf("phone sent %d SRTP packets; the gateway accepted %d", sent, st.PacketsReceived)
		if sent == 0 || st.PacketsReceived != sent {
			t.Errorf("the phone sent %d SRTP packets; the gateway accepted %d", sent, st.PacketsReceived)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
}
