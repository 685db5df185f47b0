package sip

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
)

func TestOfferCodecChoice(t *testing.T) {
	g722, pcmu, pcma := media.G722, media.PCMU, media.PCMA
	cases := []struct {
		name   string
		offer  string
		prefs  []media.Codec
		want   string // chosen codec, "" for ErrNoCommonCodec
		offers string // Codecs in the offerer's order
	}{
		{"G.722 first, no preference: G.711 still", "m=audio 6000 RTP/AVP 9 0 8 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n", nil, "PCMU", "G722 PCMU PCMA"},
		{"PCMA before PCMU, no preference", "m=audio 6000 RTP/AVP 9 8 0\r\n", nil, "PCMA", "G722 PCMA PCMU"},
		{"G.722 only, no preference", "m=audio 6000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n", nil, "G722", "G722"},
		{"G.722 written with 16000", "m=audio 6000 RTP/AVP 9\r\na=rtpmap:9 G722/16000\r\n", nil, "G722", "G722"},
		{"preference G722 first", "m=audio 6000 RTP/AVP 0 8 9\r\n", []media.Codec{g722, pcmu}, "G722", "PCMU PCMA G722"},
		{"preference PCMA, offer PCMU PCMA", "m=audio 6000 RTP/AVP 0 8\r\n", []media.Codec{pcma}, "PCMA", "PCMU PCMA"},
		{"preference excludes everything offered", "m=audio 6000 RTP/AVP 9\r\n", []media.Codec{pcmu, pcma}, "", "G722"},
		{"dynamic type mapped to G722 is not ours", "m=audio 6000 RTP/AVP 96 0\r\na=rtpmap:96 G7221/16000\r\n", []media.Codec{g722}, "", "PCMU"},
		{"G722 on a dynamic type is not taken", "m=audio 6000 RTP/AVP 96 0\r\na=rtpmap:96 G722/8000\r\n", nil, "PCMU", "PCMU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := ParseOffer([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + c.offer))
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			if got := codecNames(o.Codecs); got != strings.ReplaceAll(c.offers, " ", ", ") {
				t.Errorf("offered codecs %s, want %s", got, c.offers)
			}
			err = o.Choose(c.prefs)
			switch {
			case c.want == "" && !errors.Is(err, ErrNoCommonCodec):
				t.Errorf("Choose: %v, want ErrNoCommonCodec", err)
			case c.want != "" && (err != nil || o.Codec.Name != c.want):
				t.Errorf("chose %s (%v), want %s", o.Codec.Name, err, c.want)
			}
		})
	}
}

func TestSDPWithG722(t *testing.T) {
	local := netip.MustParseAddrPort("127.0.0.1:20000")
	offer := string(LocalOffer{SessionID: 1, Version: 1, Local: local, Codecs: []media.Codec{media.G722, media.PCMU}}.Marshal())
	for _, want := range []string{"m=audio 20000 RTP/AVP 9 0 101\r\n", "a=rtpmap:9 G722/8000\r\n", "a=rtpmap:0 PCMU/8000\r\n"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	if strings.Contains(offer, "PCMA") {
		t.Errorf("offer lists PCMA, which the preference leaves out:\n%s", offer)
	}
	if def := string(LocalOffer{SessionID: 1, Version: 1, Local: local}.Marshal()); !strings.Contains(def, "RTP/AVP 0 8 101\r\n") {
		t.Errorf("the default offer is not PCMU, PCMA:\n%s", def)
	}
	answer := string(Answer{SessionID: 1, Version: 2, Local: local, Codec: media.G722, EventPayloadType: 101}.Marshal())
	for _, want := range []string{"m=audio 20000 RTP/AVP 9 101\r\n", "a=rtpmap:9 G722/8000\r\n"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
}

// TestDialG722: a gateway whose trunk prefers G.722 dials a second
// gateway that accepts it (sip.codecs G722, PCMU): both ends use G.722
// and the far end hears the tone sent through it. A far end that allows
// only PCMU refuses the call with 488.
func TestDialG722(t *testing.T) {
	type heard struct {
		codec string
		loud  int
	}
	results := make(chan heard, 1)
	far, _ := startServer(t, Config{Codecs: []media.Codec{media.G722, media.PCMU}}, func(ctx context.Context, c *InboundCall) {
		if err := c.Answer(ctx); err != nil {
			return
		}
		var rec frameCounter
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = c.Leg().Record(rctx, &rec)
		_, loud := rec.counts()
		c.mu.Lock()
		codec := c.remote.Codec.Name
		c.mu.Unlock()
		results <- heard{codec, loud}
	})
	narrow, _ := startServer(t, Config{Codecs: []media.Codec{media.PCMU}}, nil)
	trunks := []Trunk{
		{Name: "wide", Host: udpListener(t, far).String(), Codecs: []media.Codec{media.G722}},
		{Name: "narrow", Host: udpListener(t, narrow).String(), Codecs: []media.Codec{media.G722}},
	}
	near, _ := startServer(t, Config{Trunks: trunks}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := near.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "narrow", Timeout: 5 * time.Second})
	var de *DialError
	if !errors.As(err, &de) || de.Code != 488 {
		t.Errorf("Dial offering only G.722 to a PCMU-only gateway: %v; want 488", err)
	}
	call, err := near.Dial(ctx, DialRequest{To: "+15550001000", Trunk: "wide", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Dial with G.722: %v", err)
	}
	call.mu.Lock()
	codec := call.remote.Codec.Name
	call.mu.Unlock()
	if codec != "G722" {
		t.Errorf("the outbound call's codec is %s, want G722", codec)
	}
	go func() { _ = call.Leg().Play(ctx, audio.NewPCMSource(tone(3), 1)) }()
	select {
	case h := <-results:
		if h.codec != "G722" || h.loud < 50 {
			t.Errorf("far end: codec %s, %d loud frames of the tone; want G722 and most of 100", h.codec, h.loud)
		}
		t.Logf("far end heard %d loud frames over G.722", h.loud)
	case <-time.After(10 * time.Second):
		t.Fatal("far end's handler did not finish")
	}
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		t.Error("the far end's BYE did not arrive")
		_ = call.Hangup(ctx)
	}
}
