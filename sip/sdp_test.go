package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/media"
)

func sdpOf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var header = []string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"}

func offer(media ...string) []byte { return sdpOf(append(append([]string{}, header...), media...)...) }

func TestParseOfferNegotiation(t *testing.T) {
	cases := []struct {
		name      string
		body      []byte
		codec     media.Codec
		eventPT   uint8
		remote    string
		ptime     int
		direction Direction
		hold      bool
	}{
		{"SIPp PCMA first", offer("m=audio 6000 RTP/AVP 8 0 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv"),
			media.PCMA, 101, "127.0.0.1:6000", 0, SendRecv, false},
		{"PCMU first, static without rtpmap", offer("m=audio 7078 RTP/AVP 0 8", "a=ptime:30"),
			media.PCMU, 0, "127.0.0.1:7078", 30, SendRecv, false},
		{"skips unsupported codecs in order", offer("m=audio 4000 RTP/AVP 18 9 96 8 97", "a=rtpmap:18 G729/8000", "a=rtpmap:9 G722/8000", "a=rtpmap:96 opus/48000/2", "a=rtpmap:97 telephone-event/8000"),
			media.PCMA, 97, "127.0.0.1:4000", 0, SendRecv, false},
		{"telephone-event rtpmap without the format on m= is not offered", offer("m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000"),
			media.PCMU, 0, "127.0.0.1:4000", 0, SendRecv, false},
		{"dynamic PT mapped to PCMU", offer("m=audio 4000 RTP/AVP 112", "a=rtpmap:112 PCMU/8000"),
			media.PCMU, 0, "127.0.0.1:4000", 0, SendRecv, false},
		{"media-level c= wins", offer("m=audio 5004 RTP/AVP 0", "c=IN IP4 127.0.0.2"),
			media.PCMU, 0, "127.0.0.2:5004", 0, SendRecv, false},
		{"sendonly is hold", offer("m=audio 5004 RTP/AVP 0", "a=sendonly"),
			media.PCMU, 0, "127.0.0.1:5004", 0, SendOnly, true},
		{"inactive is hold", offer("m=audio 5004 RTP/AVP 0", "a=inactive"),
			media.PCMU, 0, "127.0.0.1:5004", 0, Inactive, true},
		{"c=0.0.0.0 is hold", sdpOf("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			media.PCMU, 0, "0.0.0.0:5004", 0, SendRecv, true},
		{"video first, audio second", offer("m=video 5006 RTP/AVP 96", "a=rtpmap:96 VP8/90000", "m=audio 5004 RTP/AVP 0"),
			media.PCMU, 0, "127.0.0.1:5004", 0, SendRecv, false},
		{"IPv6", sdpOf("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0", "m=audio 5004 RTP/AVP 8"),
			media.PCMA, 0, "[::1]:5004", 0, SendRecv, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := ParseOffer(c.body)
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			if o.Codec.Name != c.codec.Name || o.EventPayloadType != c.eventPT || o.Remote != netip.MustParseAddrPort(c.remote) ||
				o.PTime != c.ptime || o.Direction != c.direction || o.OnHold() != c.hold {
				t.Errorf("got codec %s event %d remote %s ptime %d dir %s hold %v; want %s %d %s %d %s %v",
					o.Codec.Name, o.EventPayloadType, o.Remote, o.PTime, o.Direction, o.OnHold(),
					c.codec.Name, c.eventPT, c.remote, c.ptime, c.direction, c.hold)
			}
		})
	}
}

func TestParseOfferRejects(t *testing.T) {
	cases := []struct {
		name     string
		body     []byte
		noCodec  bool
		contains string
	}{
		{"G729 only", offer("m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"), true, "no common codec"},
		{"SRTP only", offer("m=audio 4000 RTP/SAVP 0"), true, "no common codec"},
		{"port zero", offer("m=audio 0 RTP/AVP 0"), true, "no common codec"},
		{"no audio", offer("m=video 4000 RTP/AVP 96"), true, "no audio stream"},
		{"PCMU at 16 kHz is not G.711", offer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"), true, "no common codec"},
		{"no connection address", sdpOf("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0"), false, "connection address"},
		{"garbage", []byte("hello"), false, "parse offer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseOffer(c.body)
			if err == nil {
				t.Fatal("ParseOffer succeeded")
			}
			if errors.Is(err, ErrNoCommonCodec) != c.noCodec {
				t.Errorf("errors.Is(err, ErrNoCommonCodec) = %v, want %v (err %v)", !c.noCodec, c.noCodec, err)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Errorf("error %q does not mention %q", err, c.contains)
			}
		})
	}
}

func TestAnswerMarshalRoundTrip(t *testing.T) {
	for _, c := range []struct {
		offered Direction
		want    Direction
	}{{SendRecv, SendRecv}, {SendOnly, RecvOnly}, {RecvOnly, SendOnly}, {Inactive, Inactive}} {
		a := Answer{SessionID: 42, Version: 3, Local: netip.MustParseAddrPort("127.0.0.1:20002"), Codec: media.PCMA, EventPayloadType: 101, Direction: c.offered.answer()}
		body := a.Marshal()
		o, err := ParseOffer(body)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, body)
		}
		if o.Codec.Name != "PCMA" || o.EventPayloadType != 101 || o.Remote.String() != "127.0.0.1:20002" || o.Direction != c.want {
			t.Errorf("answer to %s parsed back as %+v", c.offered, o)
		}
		for _, line := range []string{"o=voxgate 42 3 IN IP4 127.0.0.1", "m=audio 20002 RTP/AVP 8 101", "a=ptime:20", "a=fmtp:101 0-16"} {
			if !strings.Contains(string(body), line+"\r\n") {
				t.Errorf("answer lacks %q:\n%s", line, body)
			}
		}
	}
	noEvents := Answer{Local: netip.MustParseAddrPort("127.0.0.1:20002"), Codec: media.PCMU}
	if strings.Contains(string(noEvents.Marshal()), "telephone-event") {
		t.Errorf("answer offers telephone-event the peer did not offer")
	}
}

func FuzzParseOffer(f *testing.F) {
	f.Add(offer("m=audio 6000 RTP/AVP 8 0 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=sendrecv"))
	f.Add(offer("m=audio 0 RTP/AVP 0"))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 0\r\n"))
	f.Add(offer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96", "a=rtpmap: x", "a=ptime:abc"))
	f.Add(offer("m=audio 4000 RTP/AVP 9 97", "a=rtpmap:9 G722/8000", "a=rtpmap:97 G722/16000"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := ParseOffer(body)
		if err != nil {
			return
		}
		if o.Codec.Name != "PCMU" && o.Codec.Name != "PCMA" && o.Codec.Name != "G722" {
			t.Fatalf("accepted codec %q", o.Codec.Name)
		}
		if len(o.Codecs) == 0 || !slices.ContainsFunc(o.Codecs, func(c media.Codec) bool { return c.Name == o.Codec.Name }) {
			t.Fatalf("chose %s, which is not among the offered %v", o.Codec.Name, o.Codecs)
		}
		if !o.Remote.Addr().IsValid() || o.Remote.Port() == 0 {
			t.Fatalf("accepted offer without a usable address: %v", o.Remote)
		}
	})
}

func TestLocalOfferRoundTrip(t *testing.T) {
	for _, local := range []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41000"), netip.MustParseAddrPort("[::1]:41002")} {
		body := string(LocalOffer{SessionID: 7, Version: 1, Local: local}.Marshal())
		o, err := ParseOffer([]byte(body))
		if err != nil {
			t.Fatalf("ParseOffer(LocalOffer): %v\n%s", err, body)
		}
		if o.Remote != local || o.Codec.Name != "PCMU" || o.EventPayloadType != OfferedEventPayloadType || o.Direction != SendRecv {
			t.Errorf("parsed %+v from\n%s", o, body)
		}
		for _, want := range []string{fmt.Sprintf("m=audio %d RTP/AVP 0 8 101\r\n", local.Port()), "a=rtpmap:8 PCMA/8000", "a=fmtp:101 0-16", "o=voxgate 7 1 ", "a=ptime:20"} {
			if !strings.Contains(body, want) {
				t.Errorf("offer lacks %q:\n%s", want, body)
			}
		}
	}
}
