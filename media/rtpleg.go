package media

// RTP leg design
//
// An RTPLeg is the audio endpoint of one SIP call: a UDP socket (from a
// PortPool) carrying G.711 or G.722 RTP (SRTP when keyed) to and from one
// far end. It runs exactly two goroutines, both started by Start and both
// ended by Close:
//
//   - the send loop (rtpleg_send.go) is the leg's clock. A pacer wakes it at
//     absolute deadlines start + n*20 ms, so drift never accumulates, and
//     skips frames instead of bursting when it wakes far too late. Each
//     tick it sends one packet: a telephone-event packet while SendDTMF
//     runs, else the next frame of the Play source, else encoded silence
//     (a leg never goes quiet: NATs and peers expect continuous audio).
//     The RTP timestamp is derived from the frame index, so it stays true
//     across skipped frames and hold. The tick also enforces the
//     inactivity timeout.
//   - the receive loop (rtpleg_recv.go) reads the socket with one reused
//     buffer, latches the send address to the far end's source (symmetric
//     RTP), decodes audio into 20 ms frames for the Record sinks and the
//     in-band DTMF detector, and hands telephone-event packets to the
//     RFC 4733 receiver.
//
// Play, Record and SendDTMF never touch the socket: they hand a job (a
// source, a sink, a DTMF sender) to the loop that owns the work, under a
// small mutex, and wait for it to finish, for their context, or for the
// leg to end. Because a loop uses a job only while holding that mutex, a
// caller that detaches its job knows the loop is done with it. That
// hand-off is LegJobs (legjobs.go), shared with webrtc.Leg.
//
// Per packet, neither loop allocates: each owns one packet buffer and one
// frame buffer.
//
// With RTPConfig.Scheduler set, the leg has no send goroutine: a
// Scheduler worker, shared by many legs, calls the same per-leg tick
// (RTPLeg.sendTick) at the same absolute deadlines (pacer_scheduler.go).
// That saves a goroutine wake-up, a timer and a select per packet, which
// is what one goroutine per leg costs with thousands of calls.

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInactivityTimeout is how long an RTP leg waits for packets from
// the far end before it ends with reason "rtp-timeout".
const DefaultInactivityTimeout = 30 * time.Second

// digitBuffer is the capacity of an RTP leg's DTMF channel.
const digitBuffer = 32

// RTPConfig describes an RTP leg as negotiated in SDP.
type RTPConfig struct {
	// Conn is the leg's socket, normally from PortPool.Listen. The leg
	// owns it and closes it on Close, which returns the port to the pool.
	Conn *net.UDPConn
	// Remote is the far end's address from the SDP c= and m= lines.
	// Symmetric RTP: the leg sends there until it latches on the far
	// end's real source (see RTPLeg), then to that source.
	Remote netip.AddrPort
	// SignalingAddr, when valid, is the address the call's SIP came from:
	// RTP from it (a caller behind NAT whose SDP names a private address)
	// may be latched on, as RTP from Remote's IP may.
	SignalingAddr netip.Addr
	// Codec is PCMU, PCMA or G722; the zero Codec means PCMU.
	Codec Codec
	// EventPayloadType is the negotiated telephone-event payload type.
	// Zero means none: digits are then detected in the received audio
	// and SendDTMF plays tones in-band.
	EventPayloadType uint8
	// InactivityTimeout ends the leg with reason "rtp-timeout" when no
	// RTP arrives for this long (paused while on hold). Zero means
	// DefaultInactivityTimeout; negative disables the timeout.
	InactivityTimeout time.Duration
	// Logger receives the leg's logs; it should carry the call SID.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Scheduler, when set, paces the leg's sending from its shared
	// workers instead of a goroutine of the leg's own. Nil: the leg runs
	// its own send loop.
	Scheduler *Scheduler
	// SRTP, when set, protects the leg's RTP with SRTP: packets are sent
	// encrypted, and received packets that do not authenticate are
	// dropped (before latching). Check it with SRTPKeys.Validate: invalid
	// keys make NewRTPLeg panic.
	SRTP *SRTPKeys
}

// RTPLeg is a Leg over RTP/UDP with G.711 or G.722 audio and RFC 4733
// (or in-band) DTMF. See the design notes at the top of rtpleg.go. Create
// it with NewRTPLeg, then call Start.
//
// It sends the negotiated codec and accepts PCMU, PCMA and G.722 with any
// ptime (10-60 ms in practice), cut into 20 ms frames. It sends to the SDP
// address until it latches on the far end's source, and then ignores
// every other source until Update gives a new address. Against RTP
// hijacking ("RTP Bleed"), it latches only on the SDP address itself (at
// its first audio or telephone-event packet), or on another port of the
// SDP's IP or of RTPConfig.SignalingAddr once latchPackets packets of one
// stream arrive from it in sequence; until then their packets are
// dropped. Packets from any other address are never heard nor answered. Received packets are decoded in arrival
// order; duplicates and late packets are dropped, lost ones leave a gap
// (there is no jitter buffer).
type RTPLeg struct {
	conn       *net.UDPConn
	local      netip.AddrPort
	log        *slog.Logger
	inactivity time.Duration
	epoch      time.Time  // reference for lastRecv and arrival times (monotonic)
	sched      *Scheduler // sends for the leg; nil: the leg's own send loop
	ssrc       uint32
	tsBase     uint32 // RTP timestamp of frame 0

	startOnce sync.Once
	ending    LegEnd
	digits    DigitQueue

	// lastRecv is when the far end last sent valid RTP, as nanoseconds
	// since epoch; the send loop checks it for the inactivity timeout.
	lastRecv atomic.Int64

	mu        sync.Mutex     // guards the session fields below
	sdpRemote netip.AddrPort // Remote as negotiated in SDP
	remote    netip.AddrPort // where packets go: sdpRemote, or the latched source
	latched   bool
	sigAddr   netip.Addr     // RTPConfig.SignalingAddr, unmapped
	candidate latchCandidate // a NAT source on its way to being latched
	codec     Codec
	eventPT   uint8
	hold      bool

	jobs LegJobs // Play, SendDTMF and Record, handed to the loops

	statsMu sync.Mutex // guards the counters below
	txStats txCounters
	rxStats rxCounters

	started atomic.Bool // Start was called

	// rekeyTx and rekeyRx are new SRTP contexts waiting for the send and
	// receive loops to adopt them (RekeySRTP, srtp_rekey.go).
	rekeyTx, rekeyRx atomic.Pointer[srtpState]

	tx rtpSendState // owned by the send loop
	rx rtpRecvState // owned by the receive loop
}

// NewRTPLeg returns a leg for cfg. It sends nothing until Start. It panics
// if cfg.Conn is nil.
func NewRTPLeg(cfg RTPConfig) *RTPLeg {
	if cfg.Conn == nil {
		panic("media: NewRTPLeg: nil Conn")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Codec.IsZero() {
		cfg.Codec = PCMU
	}
	inactivity := cfg.InactivityTimeout
	if inactivity == 0 {
		inactivity = DefaultInactivityTimeout
	}
	var local netip.AddrPort
	if a, ok := cfg.Conn.LocalAddr().(*net.UDPAddr); ok {
		local = a.AddrPort()
		local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	}
	remote := unmapAddrPort(cfg.Remote)
	l := &RTPLeg{
		conn:       cfg.Conn,
		local:      local,
		log:        log,
		inactivity: inactivity,
		epoch:      time.Now(),
		ssrc:       rand.Uint32(),
		tsBase:     rand.Uint32(),
		sdpRemote:  remote,
		remote:     remote,
		sigAddr:    cfg.SignalingAddr.Unmap(),
		codec:      cfg.Codec,
		eventPT:    cfg.EventPayloadType,
		sched:      cfg.Scheduler,
	}
	l.ending.Init()
	l.digits.Init(digitBuffer, log)
	l.jobs.Init(l.ending.Done(), "media")
	l.tx.seq = uint16(rand.Uint32())
	l.tx.marker = true
	l.txStats.ssrc = l.ssrc
	if k := cfg.SRTP; k != nil {
		var err error
		if l.tx.srtp, err = newSRTPState(k.Suite, k.Local); err == nil {
			l.rx.srtp, err = newSRTPState(k.Suite, k.Remote)
		}
		if err != nil {
			panic("media: NewRTPLeg: " + err.Error())
		}
	}
	return l
}

// Start starts the send and receive loops (or hands the leg to its
// Scheduler). Sending begins at once with silence (with a Scheduler,
// within one frame period, when the slot it is given comes). Calling Start
// again, or after Close, does nothing.
func (l *RTPLeg) Start() {
	l.startOnce.Do(func() {
		l.started.Store(true)
		if l.closed() {
			return
		}
		l.lastRecv.Store(int64(time.Since(l.epoch)))
		if l.sched != nil {
			l.sched.add(l) // its worker sends, and receives or starts recvLoop
			return
		}
		go l.sendLoop()
		go l.recvLoop()
	})
}

// LocalAddr is the address the leg receives on, for the SDP answer.
func (l *RTPLeg) LocalAddr() netip.AddrPort { return l.local }

// Update applies a re-INVITE's SDP: a new far-end address, codec or
// telephone-event payload type. The socket, SSRC, sequence numbers and
// timestamps continue. A changed address drops the latched source until
// packets arrive again.
func (l *RTPLeg) Update(remote netip.AddrPort, codec Codec, eventPT uint8) {
	if codec.IsZero() {
		codec = PCMU
	}
	remote = unmapAddrPort(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	if remote != l.sdpRemote {
		l.sdpRemote = remote
		l.remote = remote
		l.latched = false
		l.candidate = latchCandidate{}
	}
	l.codec = codec
	l.eventPT = eventPT
}

// SetHold stops (true) or resumes (false) sending, for when the far end
// puts the call on hold (sendonly or inactive). Play sources and DTMF keep
// running in real time while nothing is sent. The inactivity timeout is
// paused while on hold and restarts when hold ends.
func (l *RTPLeg) SetHold(hold bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hold && !hold {
		l.lastRecv.Store(int64(time.Since(l.epoch)))
	}
	l.hold = hold
}

// Done is closed when the leg ends: Close, the inactivity timeout, or a
// socket error. Reason then says which.
func (l *RTPLeg) Done() <-chan struct{} { return l.ending.Done() }

// Reason says why the leg ended: "closed: <reason given to Close>",
// "rtp-timeout" or "socket-error: <error>". It is empty while the leg runs.
func (l *RTPLeg) Reason() string { return l.ending.Reason() }

// Close ends the leg: both loops stop, running Play, Record and SendDTMF
// calls return ErrLegClosed, and the socket is closed, which returns its
// port to the pool. Only the first call has an effect; it returns the
// error from closing the socket, if any.
func (l *RTPLeg) Close(reason string) error {
	return l.end("closed: " + reason)
}

// end ends the leg once, for any reason. It does not wait for the loops,
// so the loops themselves may call it.
func (l *RTPLeg) end(reason string) error {
	var err error
	l.ending.End(reason, func() {
		if cerr := l.conn.Close(); cerr != nil {
			err = fmt.Errorf("media: close rtp socket %s: %w", l.local, cerr)
		}
		st := l.Stats()
		l.log.Info("rtp leg ended", "reason", reason, "local", l.local, "remote", st.Remote,
			"sent", st.PacketsSent, "received", st.PacketsReceived, "lost", st.PacketsLost, "jitter", st.Jitter)
	})
	return err
}

// closed reports whether the leg has ended.
func (l *RTPLeg) closed() bool { return l.ending.Ended() }

// Stats returns a snapshot of the leg's counters.
func (l *RTPLeg) Stats() RTPStats {
	l.mu.Lock()
	remote, latched := l.remote, l.latched
	l.mu.Unlock()
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	return RTPStats{
		LocalSSRC:       l.txStats.ssrc,
		RemoteSSRC:      l.rxStats.ssrc,
		PacketsSent:     l.txStats.packets,
		BytesSent:       l.txStats.bytes,
		PacketsReceived: l.rxStats.packets,
		BytesReceived:   l.rxStats.bytes,
		PacketsLost:     l.rxStats.lostBefore + l.rxStats.seq.Lost(),
		Jitter:          l.rxStats.jitter.Duration(),
		FirstSent:       l.txStats.first,
		FirstReceived:   l.rxStats.first,
		Remote:          remote,
		Latched:         latched,
	}
}

// txCounters are the send side's statistics.
type txCounters struct {
	ssrc    uint32
	packets uint64
	bytes   uint64
	first   time.Time
}

// rxCounters are the receive side's statistics.
type rxCounters struct {
	ssrc       uint32 // audio SSRC the trackers follow
	haveSSRC   bool
	packets    uint64
	bytes      uint64
	first      time.Time
	seq        seqTracker
	lostBefore uint64 // packets lost on SSRCs the far end used earlier
	jitter     jitterEstimator
}

func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Interface check.
var _ Leg = (*RTPLeg)(nil)
