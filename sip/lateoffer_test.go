package sip

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestLateOfferInboundSIPp: SIPp calls with an INVITE without SDP; the
// gateway offers in its 200 (PCMU, PCMA, telephone-event), SIPp answers
// PCMA in the ACK and plays speech, which the call hears as PCMA.
func TestLateOfferInboundSIPp(t *testing.T) {
	scenario, err := filepath.Abs("testdata/uac_late_offer.xml")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		codec        string
		frames, loud int
		reason       string
	}
	results := make(chan result, 1)
	srv, _ := startServer(t, Config{}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			t.Errorf("Answer: %v", err)
			return
		}
		var rec frameCounter
		_ = c.Leg().Record(ctx, &rec) // until SIPp's BYE ends the call
		<-c.Done()
		c.mu.Lock()
		codec := c.remote.Codec.Name
		c.mu.Unlock()
		frames, loud := rec.counts()
		results <- result{codec, frames, loud, c.EndReason()}
	})
	sipp := startSIPp(t, freeUDPPort(t), "-sf", scenario, "-s", "1000", udpListener(t, srv).String())
	select {
	case err := <-sipp:
		if err != nil {
			t.Fatalf("sipp failed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sipp did not finish")
	}
	select {
	case r := <-results:
		if r.codec != "PCMA" {
			t.Errorf("call media %q, want PCMA from the answer in the ACK", r.codec)
		}
		if r.reason != "remote-bye" {
			t.Errorf("EndReason %q, want remote-bye", r.reason)
		}
		// g711a.pcap holds about 7.05 s of speech: 352 frames of 20 ms.
		if r.frames < 320 || r.loud < 150 {
			t.Errorf("heard %d frames, %d loud; want about 352 of speech", r.frames, r.loud)
		}
		t.Logf("late offer: %s, %d frames, %d with speech", r.codec, r.frames, r.loud)
	case <-time.After(10 * time.Second):
		t.Fatal("the call's handler did not finish")
	}
}

// TestDialLateOfferSIPp: Dial with LateOffer sends an INVITE without SDP
// to SIPp, which offers PCMA in its 200 and checks that the ACK carries
// our PCMA answer; its speech then reaches the call.
func TestDialLateOfferSIPp(t *testing.T) {
	port := freeUDPPort(t)
	scenario, err := filepath.Abs("testdata/uas_late_offer.xml")
	if err != nil {
		t.Fatal(err)
	}
	sipp := startSIPp(t, port, "-sf", scenario)
	srv, _ := startServer(t, Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := srv.Dial(ctx, DialRequest{To: "sip:1000@127.0.0.1:" + strconv.Itoa(port), Timeout: 5 * time.Second, LateOffer: true})
	if err != nil {
		t.Fatalf("Dial with late offer: %v", err)
	}
	call.mu.Lock()
	codec := call.remote.Codec
	call.mu.Unlock()
	if codec.Name != "PCMA" {
		t.Errorf("media %s, want PCMA from the offer in the 200", codec.Name)
	}
	var rec frameCounter
	_ = call.Leg().Record(ctx, &rec) // until SIPp's BYE
	frames, loud := rec.counts()
	if frames < 320 || loud < 150 {
		t.Errorf("heard %d frames, %d loud; want about 352 of speech", frames, loud)
	}
	select {
	case err := <-sipp:
		if err != nil {
			t.Errorf("sipp failed (INVITE had SDP, or no answer in the ACK?): %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("sipp did not finish")
	}
}
