package main

import (
	"net/netip"
	"testing"
)

func TestBencode(t *testing.T) {
	got := string(bencode(map[string]any{"command": "offer", "call-id": "c1", "replace": []string{"origin"}}))
	want := "d7:call-id2:c17:command5:offer7:replacel6:originee"
	if got != want {
		t.Errorf("bencode = %q, want %q", got, want)
	}
}

func TestBdecodeDict(t *testing.T) {
	out, err := bdecodeDict([]byte("d6:result2:ok3:sdp5:v=0\r\n8:warningsl1:ae6:countsi12ee"))
	if err != nil {
		t.Fatal(err)
	}
	if out["result"] != "ok" || out["sdp"] != "v=0\r\n" || len(out) != 2 {
		t.Errorf("decoded %q", out)
	}
	for _, bad := range []string{"", "l1:ae", "d6:result", "d3:sdp99:xe"} {
		if _, err := bdecodeDict([]byte(bad)); err == nil {
			t.Errorf("bdecodeDict(%q) accepted", bad)
		}
	}
}

func TestSDPTarget(t *testing.T) {
	ap, err := sdpTarget("v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30012 RTP/AVP 0\r\n")
	if err != nil || ap != netip.MustParseAddrPort("127.0.0.1:30012") {
		t.Errorf("sdpTarget = %v, %v", ap, err)
	}
	if _, err := sdpTarget("v=0\r\n"); err == nil {
		t.Error("an SDP without audio was accepted")
	}
}
