package sip

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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
