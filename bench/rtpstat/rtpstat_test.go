package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"
)

// capture builds a classic pcap (Ethernet, microsecond timestamps) of UDP
// datagrams on 127.0.0.1.
type capture struct {
	buf bytes.Buffer
}

func newCapture() *capture {
	c := &capture{}
	var gh [24]byte
	binary.LittleEndian.PutUint32(gh[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(gh[4:], 2)
	binary.LittleEndian.PutUint16(gh[6:], 4)
	binary.LittleEndian.PutUint32(gh[16:], 65535)
	binary.LittleEndian.PutUint32(gh[20:], linkEthernet)
	c.buf.Write(gh[:])
	return c
}

func (c *capture) add(at time.Time, src, dst uint16, payload []byte) {
	frame := make([]byte, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8], ip[9] = 64, 17
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], src)
	binary.BigEndian.PutUint16(udp[2:], dst)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(udp[8:], payload)
	var rh [16]byte
	binary.LittleEndian.PutUint32(rh[0:], uint32(at.Unix()))
	binary.LittleEndian.PutUint32(rh[4:], uint32(at.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(rh[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rh[12:], uint32(len(frame)))
	c.buf.Write(rh[:])
	c.buf.Write(frame)
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, fill byte) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, pt
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := 12; i < len(p); i++ {
		p[i] = fill
	}
	return p
}

func ok200(callID string, port int) []byte {
	return []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070\r\nCall-ID: " + callID +
		"\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 127.0.0.1\r\nm=audio " +
		itoa(port) + " RTP/AVP 0 101\r\n")
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestAnalyze(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	ms := func(f float64) time.Time { return base.Add(time.Duration(f * float64(time.Millisecond))) }
	sipCap, rtpCap := newCapture(), newCapture()

	// Stream A on port 20000: silence from 0 ms, answered at 100 ms,
	// audio from the packet at 140 ms. Send times (ms) and what the
	// analyzer must make of them.
	const ssrcA = 0xA
	times := []float64{0, 20, 40.5, 60, 80, 100.2, 120, 140, 160, 183, 200, 220, 240, 260}
	seq, ts := uint16(65530), uint32(1000) // the sequence number wraps inside the stream
	for i, at := range times {
		fill := byte(0xff) // PCMU silence
		if at >= 140 {
			fill = 0x5a
		}
		switch i {
		case 11: // a lost packet: sequence number 11 never sent
			seq++
			ts += 160
		case 12: // the sender skipped two frames: timestamp jumps by 3 frames
			ts += 2 * 160
		}
		rtpCap.add(ms(at), 20000, 40000, rtpPacket(0, seq, ts, ssrcA, fill))
		if i == 4 { // a duplicate of packet 4
			rtpCap.add(ms(at+0.1), 20000, 40000, rtpPacket(0, seq, ts, ssrcA, fill))
		}
		seq++
		ts += 160
	}
	sipCap.add(ms(100), 5060, 5070, ok200("call-a", 20000))
	sipCap.add(ms(110), 5060, 5070, ok200("call-a", 20000)) // retransmission: ignored
	sipCap.add(ms(105), 5060, 5070, []byte("SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n"))
	// Stream B, port 20002, never answered: counted, no latency.
	for i := range 3 {
		rtpCap.add(ms(float64(300+20*i)), 20002, 40002, rtpPacket(8, uint16(i), uint32(i*160), 0xB, 0xd5))
	}
	// Not the gateway's: another source port.
	rtpCap.add(ms(5), 40000, 20000, rtpPacket(0, 1, 1, 0xC, 0x11))

	a, err := analyze([]io.Reader{bytes.NewReader(sipCap.buf.Bytes()), bytes.NewReader(rtpCap.buf.Bytes())},
		analyzerConfig{sipPort: 5060, rtpLo: 20000, rtpHi: 29999, frame: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Intervals of stream A (consecutive sequence numbers only): 20,
	// 20.5, 19.5, 20, 20.2, 19.8, 20, 20, 23, 17, 20 (after the gap: no
	// interval across it), 20; stream B: 20, 20. Deviations, sorted:
	// 0 x8, 0.2, 0.2, 0.5, 0.5, 3, 3.
	if a.packets != 18 || len(a.streams) != 2 {
		t.Errorf("packets %d streams %d, want 18 and 2", a.packets, len(a.streams))
	}
	if a.seqLost != 1 || a.skipped != 2 || a.reordered != 1 {
		t.Errorf("lost %d skipped %d reordered %d, want 1, 2, 1", a.seqLost, a.skipped, a.reordered)
	}
	if a.jitter.count != 14 {
		t.Errorf("%d intervals, want 14", a.jitter.count)
	}
	if got := a.jitter.quantile(0.5); got > 10*time.Microsecond {
		t.Errorf("jitter p50 %v, want 0", got)
	}
	if got := a.jitter.max; got != 3*time.Millisecond {
		t.Errorf("jitter max %v, want 3ms", got)
	}
	if got := a.jitter.quantile(0.8); got < 490*time.Microsecond || got > 510*time.Microsecond {
		t.Errorf("jitter p80 %v, want 0.5ms", got)
	}
	if a.firstRTP.count != 1 || a.firstRTP.max != 200*time.Microsecond {
		t.Errorf("first RTP: %d samples, max %v, want 1 of 0.2ms", a.firstRTP.count, a.firstRTP.max)
	}
	if a.firstAudio.count != 1 || a.firstAudio.max != 40*time.Millisecond {
		t.Errorf("first audio: %d samples, max %v, want 1 of 40ms", a.firstAudio.count, a.firstAudio.max)
	}

	var out strings.Builder
	a.report(&out)
	for _, want := range []string{"streams 2\n", "seq_lost 1\n", "jitter_max_us 3000\n", "first_audio_p50_ms 40.0\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestJitterFrom(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	c := newCapture()
	for i := range 10 {
		at := base.Add(time.Duration(i) * 20 * time.Millisecond)
		if i < 5 {
			at = at.Add(time.Duration(i%2) * 5 * time.Millisecond) // jittery start
		}
		c.add(at, 20000, 40000, rtpPacket(0, uint16(i), uint32(i*160), 1, 0xff))
	}
	a, err := analyze([]io.Reader{bytes.NewReader(c.buf.Bytes())},
		analyzerConfig{sipPort: 5060, rtpLo: 20000, rtpHi: 20000, frame: 20 * time.Millisecond, jitterFrom: base.Add(110 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if a.jitter.count != 4 || a.jitter.max != 0 {
		t.Errorf("%d intervals after jitterFrom, max %v; want 4 of 0", a.jitter.count, a.jitter.max)
	}
}

func TestRejectsPcapng(t *testing.T) {
	_, err := analyze([]io.Reader{bytes.NewReader([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})}, analyzerConfig{})
	if err == nil || !strings.Contains(err.Error(), "dumpcap -P") {
		t.Errorf("pcapng accepted or unhelpful error: %v", err)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * 100 * time.Microsecond) // 0.1 .. 10 ms
	}
	h.add(5 * time.Second) // beyond the last bucket: still the max
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 5100 * time.Microsecond}, // the 51st of 101 samples
		{0.99, 10 * time.Millisecond},
		{1, 5 * time.Second},
	}
	for _, tc := range tests {
		if got := h.quantile(tc.q); got < tc.want-10*time.Microsecond || got > tc.want+10*time.Microsecond {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram has a quantile")
	}
}

// Streams sent from one port with one SSRC (SIPp's pcap play sends every
// call that way) are told apart by their destination: two steady streams
// interleaved show no jitter and no loss.
func TestStreamsFromOnePort(t *testing.T) {
	base := time.Unix(1_800_000_000, 0)
	c := newCapture()
	for i := range 10 {
		at := base.Add(time.Duration(i) * 20 * time.Millisecond)
		c.add(at, 20000, 40000, rtpPacket(0, uint16(i), uint32(i*160), 7, 0xff))
		c.add(at.Add(7*time.Millisecond), 20000, 40002, rtpPacket(0, uint16(i), uint32(i*160), 7, 0xff))
	}
	a, err := analyze([]io.Reader{bytes.NewReader(c.buf.Bytes())},
		analyzerConfig{sipPort: 5060, rtpLo: 20000, rtpHi: 20000, frame: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.streams) != 2 || a.jitter.count != 18 || a.jitter.max != 0 || a.reordered != 0 {
		t.Errorf("%d streams, %d intervals, max %v, %d reordered; want 2 streams, 18 intervals of 0, none reordered",
			len(a.streams), a.jitter.count, a.jitter.max, a.reordered)
	}
}
