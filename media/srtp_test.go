package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func srtpKey(t testing.TB) []byte {
	k := make([]byte, SRTPKeyLen)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSRTPProtectUnprotect(t *testing.T) {
	key := srtpKey(t)
	for _, suite := range []SRTPSuite{AESCM128HMACSHA1_80, AESCM128HMACSHA1_32} {
		tx, err := newSRTPState(suite, key)
		if err != nil {
			t.Fatal(err)
		}
		rx, _ := newSRTPState(suite, key)
		plain, _ := (&rtp.Packet{Header: rtpHeader(0, 7, 160, 42), Payload: PCMU.Encode(nil, testSignal(160))}).Marshal()
		sec, err := tx.protect(plain)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(plain) + map[SRTPSuite]int{AESCM128HMACSHA1_80: 10, AESCM128HMACSHA1_32: 4}[suite]; len(sec) != want {
			t.Errorf("%s: SRTP packet %d bytes, want %d", suite, len(sec), want)
		}
		if bytes.Equal(sec[12:len(plain)], plain[12:]) {
			t.Errorf("%s: payload sent in clear", suite)
		}
		tampered := bytes.Clone(sec)
		tampered[20] ^= 1
		if _, err := rx.unprotect(tampered); err == nil {
			t.Errorf("%s: a tampered packet authenticated", suite)
		}
		got, err := rx.unprotect(sec)
		if err != nil {
			t.Fatalf("%s: unprotect: %v", suite, err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("%s: round trip changed the packet", suite)
		}
		if _, err := rx.unprotect(sec); err == nil {
			t.Errorf("%s: a replayed packet was accepted", suite)
		}
	}
}

// Two legs with crossed SDES keys hear each other; plain RTP sprayed at
// one of them from the far end's own address is never played.
func TestSRTPLegsTalk(t *testing.T) {
	k1, k2 := srtpKey(t), srtpKey(t)
	connA, connB := listenLoopback(t), listenLoopback(t)
	a := NewRTPLeg(RTPConfig{Conn: connA, Remote: addrOf(connB), Logger: testLogger(), SRTP: &SRTPKeys{Suite: AESCM128HMACSHA1_80, Local: k1, Remote: k2}})
	b := NewRTPLeg(RTPConfig{Conn: connB, Remote: addrOf(connA), Logger: testLogger(), SRTP: &SRTPKeys{Suite: AESCM128HMACSHA1_80, Local: k2, Remote: k1}})
	defer a.Close("test over")
	defer b.Close("test over")
	a.Start()
	b.Start()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &frameSink{}
	go func() { _ = b.Record(ctx, sink) }()
	go func() { _ = a.Play(ctx, &sliceSource{samples: testSignal(SampleRate), loop: true}) }()
	waitFor(t, 5*time.Second, "audio through SRTP", func() bool {
		samples, _, _ := sink.Snapshot()
		loud := 0
		for _, s := range samples {
			if s > 2000 || s < -2000 {
				loud++
			}
		}
		return loud > 800
	})
	if st := b.Stats(); st.PacketsReceived == 0 {
		t.Fatalf("leg B counted no packets: %+v", st)
	}
	before := b.Stats().PacketsReceived
	// Plain RTP from a third socket: never counted.
	spray, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spray.Close()
	for i := range 20 {
		sendRTP(t, spray, addrOf(connB), rtpHeader(0, uint16(i), uint32(i)*160, 7), PCMU.Encode(nil, testSignal(160)))
	}
	time.Sleep(100 * time.Millisecond)
	if got := b.Stats().PacketsReceived - before; got > 6 { // a's own 20 ms packets only
		t.Errorf("%d packets counted in 100 ms while plain RTP was sprayed", got)
	}
}

// BenchmarkSRTPCost: what SRTP adds to each packet sent and received
// (172-byte PCMU packets, AES_CM_128_HMAC_SHA1_80).
func BenchmarkSRTPCost(b *testing.B) {
	key := srtpKey(b)
	plain, _ := (&rtp.Packet{Header: rtpHeader(0, 0, 0, 42), Payload: PCMU.Encode(nil, testSignal(160))}).Marshal()
	b.Run("protect", func(b *testing.B) {
		tx, _ := newSRTPState(AESCM128HMACSHA1_80, key)
		b.ReportAllocs()
		var seq uint16
		for b.Loop() {
			seq++
			plain[2], plain[3] = byte(seq>>8), byte(seq)
			if _, err := tx.protect(plain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unprotect", func(b *testing.B) {
		tx, _ := newSRTPState(AESCM128HMACSHA1_80, key)
		rx, _ := newSRTPState(AESCM128HMACSHA1_80, key)
		const n = 1 << 16 // distinct packets: run at most this many iterations (replays fail)
		pkts := make([][]byte, n)
		for i := range pkts {
			plain[2], plain[3] = byte(i>>8), byte(i)
			p, _ := tx.protect(plain)
			pkts[i] = bytes.Clone(p)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := rx.unprotect(pkts[i%n]); err != nil && i < n {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkRTPSendTickSRTP is BenchmarkRTPSendTick with SRTP.
func BenchmarkRTPSendTickSRTP(b *testing.B) {
	peer := listenLoopback(b)
	leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(b), Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger(),
		SRTP: &SRTPKeys{Suite: AESCM128HMACSHA1_80, Local: srtpKey(b), Remote: srtpKey(b)}})
	leg.jobs.play = &playJob{src: &sliceSource{samples: testSignal(SampleRate), loop: true}, done: make(chan error, 1)}
	go drain(peer)
	b.ReportAllocs()
	now := time.Now()
	var frame int64
	for b.Loop() {
		leg.sendTick(now, frame, false)
		frame++
	}
	if leg.Stats().PacketsSent == 0 {
		b.Fatal("nothing sent")
	}
}
