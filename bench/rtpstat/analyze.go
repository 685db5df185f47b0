package main

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
)

// analyzerConfig says which packets are the gateway's.
type analyzerConfig struct {
	sipPort      uint16        // the gateway's SIP port: its 200 OKs come from there
	rtpLo, rtpHi uint16        // the gateway's RTP port range: its RTP comes from there
	frame        time.Duration // the packet interval the gateway paces to (20 ms)
	jitterFrom   time.Time     // intervals before this are not counted as jitter (zero: all)
	timeline     bool          // keep jitter per 100 ms window too
}

// streamKey names one RTP stream the gateway sent: its source port and
// SSRC (a port is reused by later calls, with a new SSRC), and the
// destination port (a sender that streams every call from one port with
// one SSRC, as SIPp's pcap play does, is told apart by where it sends).
type streamKey struct {
	port, dst uint16
	ssrc      uint32
}

type streamState struct {
	lastAt  time.Time
	lastSeq uint16
	lastTS  uint32
}

// pendingAnswer is a 200 OK whose first RTP and first audio after it are
// still awaited.
type pendingAnswer struct {
	at     time.Time
	gotRTP bool
}

// analyzer accumulates what the capture says about the gateway's RTP.
type analyzer struct {
	cfg     analyzerConfig
	streams map[streamKey]*streamState
	answers map[uint16]*pendingAnswer // by the gateway's RTP port in the 200's SDP
	okSeen  map[string]bool           // Call-IDs whose 200 OK (INVITE) was seen

	packets   uint64 // RTP packets from the gateway
	seqLost   uint64 // packets missing from the sequence numbers (never sent, or lost before the tap)
	skipped   uint64 // 20 ms frames the sender skipped (timestamp jumped further than the sequence number)
	reordered uint64 // packets older than the newest of their stream (duplicates, reordering)

	jitter     histogram         // |interval - frame| between consecutive packets of a stream
	timeline   map[int64]*window // jitter by 100 ms window of capture time, when asked for
	firstRTP   histogram         // 200 OK -> next RTP packet from the answered port
	firstAudio histogram         // 200 OK -> first non-silent RTP payload from the answered port
}

func newAnalyzer(cfg analyzerConfig) *analyzer {
	a := &analyzer{cfg: cfg, streams: map[streamKey]*streamState{}, answers: map[uint16]*pendingAnswer{}, okSeen: map[string]bool{}}
	if cfg.timeline {
		a.timeline = map[int64]*window{}
	}
	return a
}

// packet takes one UDP datagram captured at at.
func (a *analyzer) packet(at time.Time, u udpPacket) {
	switch {
	case u.srcPort == a.cfg.sipPort:
		a.sip(at, u.payload)
	case u.srcPort >= a.cfg.rtpLo && u.srcPort <= a.cfg.rtpHi:
		a.rtp(at, u.srcPort, u.dstPort, u.payload)
	}
}

// sip notes a 200 OK to an INVITE and the RTP port its SDP announces.
func (a *analyzer) sip(at time.Time, msg []byte) {
	if !bytes.HasPrefix(msg, []byte("SIP/2.0 200")) {
		return
	}
	cseq := headerValue(msg, "CSeq")
	if !bytes.HasSuffix(bytes.TrimSpace(cseq), []byte("INVITE")) {
		return
	}
	callID := string(headerValue(msg, "Call-ID"))
	if callID == "" || a.okSeen[callID] {
		return // a retransmitted 200 OK
	}
	port, ok := sdpAudioPort(msg)
	if !ok {
		return
	}
	a.okSeen[callID] = true
	a.answers[port] = &pendingAnswer{at: at}
}

// rtp accounts one RTP packet the gateway sent from port.
func (a *analyzer) rtp(at time.Time, port, dst uint16, b []byte) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return
	}
	a.packets++
	pt := b[1] & 0x7f
	seq := binary.BigEndian.Uint16(b[2:4])
	ts := binary.BigEndian.Uint32(b[4:8])
	key := streamKey{port: port, dst: dst, ssrc: binary.BigEndian.Uint32(b[8:12])}

	if p := a.answers[port]; p != nil && !at.Before(p.at) {
		if !p.gotRTP {
			p.gotRTP = true
			a.firstRTP.add(at.Sub(p.at))
		}
		if hdr := 12 + 4*int(b[0]&0x0f); hdr <= len(b) && hasAudio(pt, b[hdr:]) {
			a.firstAudio.add(at.Sub(p.at))
			delete(a.answers, port)
		}
	}

	st := a.streams[key]
	if st == nil {
		a.streams[key] = &streamState{lastAt: at, lastSeq: seq, lastTS: ts}
		return
	}
	delta := seq - st.lastSeq
	switch {
	case delta == 0 || delta > 0x8000:
		a.reordered++
		return
	case delta == 1:
		if !at.Before(a.cfg.jitterFrom) {
			dev := (at.Sub(st.lastAt) - a.cfg.frame).Abs()
			a.jitter.add(dev)
			if a.timeline != nil {
				a.note(at, dev)
			}
		}
		samples := uint32(a.cfg.frame / (time.Second / 8000))
		if jump := ts - st.lastTS; jump > samples && jump < 0x80000000 && pt < 72 && isAudioPT(pt) {
			a.skipped += uint64(jump/samples) - 1
		}
	default:
		a.seqLost += uint64(delta) - 1
	}
	st.lastAt, st.lastSeq, st.lastTS = at, seq, ts
}

// isAudioPT reports whether pt is G.711 (telephone-event timestamps stay
// on the event's start, so they say nothing about skipped frames).
func isAudioPT(pt uint8) bool { return pt == 0 || pt == 8 }

// hasAudio reports whether a G.711 payload (possibly cut by the snap
// length) holds anything but encoded silence.
func hasAudio(pt uint8, payload []byte) bool {
	var zero, negZero byte
	switch pt {
	case 0:
		zero, negZero = 0xff, 0x7f
	case 8:
		zero, negZero = 0xd5, 0x55
	default:
		return false
	}
	for _, c := range payload {
		if c != zero && c != negZero {
			return true
		}
	}
	return false
}

// headerValue returns the value of the first header called name in a SIP
// message, or nil.
func headerValue(msg []byte, name string) []byte {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// sdpAudioPort finds the port of the m=audio line in a message's SDP body.
func sdpAudioPort(msg []byte) (uint16, bool) {
	i := bytes.Index(msg, []byte("m=audio "))
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len("m=audio "):]
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		return 0, false
	}
	port, err := strconv.ParseUint(string(rest[:end]), 10, 16)
	return uint16(port), err == nil && port > 0
}

// window is the jitter of the intervals ending in one 100 ms stretch of
// the capture.
type window struct {
	intervals, over2ms uint64
	max                time.Duration
}

// timelineWindow is the width of a timeline window.
const timelineWindow = 100 * time.Millisecond

func (a *analyzer) note(at time.Time, dev time.Duration) {
	k := at.UnixNano() / int64(timelineWindow)
	w := a.timeline[k]
	if w == nil {
		w = &window{}
		a.timeline[k] = w
	}
	w.intervals++
	if dev > 2*time.Millisecond {
		w.over2ms++
	}
	w.max = max(w.max, dev)
}
