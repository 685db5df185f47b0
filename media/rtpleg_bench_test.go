package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkRTPBuildPacket is the core of the send path: encode one PCM
// frame and marshal the RTP packet around it.
func BenchmarkRTPBuildPacket(b *testing.B) {
	pcm := testSignal(FrameSamples)
	var buf [rtpHeaderSize + maxSendPayload]byte
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		payload := PCMU.Encode(buf[rtpHeaderSize:rtpHeaderSize], pcm)
		pkt := buildPacket(buf[:], PCMU.PayloadType, false, seq, uint32(seq)*160, 0x12345678, payload)
		seq++
		if len(pkt) != rtpHeaderSize+FrameSamples {
			b.Fatal("bad packet")
		}
	}
}

// BenchmarkRTPSendTick is one whole send tick of a leg: read a frame from
// the Play source, encode, marshal and write it to a UDP socket.
func BenchmarkRTPSendTick(b *testing.B) {
	peer := listenLoopback(b)
	leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(b), Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger()})
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

// drain reads c until it is closed.
func drain(c *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
	}
}

// discardSink counts frames.
type discardSink struct{ frames int }

func (s *discardSink) WriteFrame(p []int16) error { s.frames++; return nil }

// BenchmarkRTPReceivePacket is the receive path after the socket read:
// parse, latch check, statistics, decode and deliver to a Record sink (and,
// without telephone-event, the in-band detector).
func BenchmarkRTPReceivePacket(b *testing.B) {
	for _, tc := range []struct {
		name    string
		eventPT uint8
		ptime   int // samples per packet
	}{
		{"telephone-event/ptime20", 101, 160},
		{"telephone-event/ptime30", 101, 240},
		{"inband-detector/ptime20", 0, 160},
	} {
		b.Run(tc.name, func(b *testing.B) {
			conn := listenLoopback(b)
			from := netip.MustParseAddrPort("127.0.0.1:40000")
			leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: from, EventPayloadType: tc.eventPT, Logger: testLogger()})
			sink := &discardSink{}
			leg.jobs.sinks = append(leg.jobs.sinks, &recordJob{sink: sink, done: make(chan error, 1)})
			pkt, err := (&rtp.Packet{Header: rtpHeader(0, 0, 0, 99), Payload: PCMU.Encode(nil, testSignal(tc.ptime))}).Marshal()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var seq uint16
			for b.Loop() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*uint32(tc.ptime))
				leg.handlePacket(pkt, from, time.Now())
			}
			if sink.frames == 0 {
				b.Fatal("no frame delivered")
			}
		})
	}
}

// frameSignal tells a benchmark that a frame arrived, without allocating.
type frameSignal chan struct{}

func (s frameSignal) WriteFrame(p []int16) error { s <- struct{}{}; return nil }

// BenchmarkRTPLegReceiveLoop measures the running leg end to end: a peer
// sends a 20 ms packet, the leg reads, decodes and delivers it, with its
// own receive loop or from a Scheduler worker (which, on Linux, reads the
// socket when its epoll set says so). Allocations are counted across all
// goroutines, the send side included.
func BenchmarkRTPLegReceiveLoop(b *testing.B) {
	for _, scheduled := range []bool{false, true} {
		name := "own-loop"
		if scheduled {
			name = "scheduler"
		}
		b.Run(name, func(b *testing.B) {
			var sched *Scheduler
			if scheduled {
				sched = NewScheduler(1)
				defer sched.Close()
			}
			peer := listenLoopback(b)
			conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
			if err != nil {
				b.Fatal(err)
			}
			leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: addrOf(peer), EventPayloadType: 101, Logger: testLogger(), Scheduler: sched})
			defer leg.Close("bench over")
			sig := make(frameSignal, 1)
			leg.jobs.sinks = append(leg.jobs.sinks, &recordJob{sink: sig, done: make(chan error, 1)})
			leg.Start()
			go drain(peer)
			pkt, err := (&rtp.Packet{Header: rtpHeader(0, 0, 0, 99), Payload: PCMU.Encode(nil, testSignal(FrameSamples))}).Marshal()
			if err != nil {
				b.Fatal(err)
			}
			to := leg.LocalAddr()
			send := func(seq uint16) {
				binary.BigEndian.PutUint16(pkt[2:], seq)
				binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
				if _, err := peer.WriteToUDPAddrPort(pkt, to); err != nil {
					b.Fatal(err)
				}
				<-sig
			}
			// Warm up: the worker places the leg and reads its first packets.
			var seq uint16
			for range 10 {
				seq++
				send(seq)
			}
			b.ReportAllocs()
			for b.Loop() {
				seq++
				send(seq)
			}
		})
	}
}

// BenchmarkRTPSendInterval runs legs for 5 s and reports the interval
// between packets as the peers see them: p50, p99 and max, and how far
// each interval strays from 20 ms. It measures; it asserts nothing. Run:
//
//	go test -run '^$' -bench RTPSendInterval ./media/
//
// Each size runs with legs that have their own send loop and with a shared
// Scheduler. The peers read in the same process, so under load their own
// scheduling shows in the figures too; bench/run.sh measures the gateway
// from a packet capture instead.
func BenchmarkRTPSendInterval(b *testing.B) {
	for _, legs := range []int{1, 100, 1000} {
		for _, scheduled := range []bool{false, true} {
			mode := "own-loop"
			if scheduled {
				mode = "scheduler"
			}
			b.Run(fmt.Sprintf("legs=%d/%s", legs, mode), func(b *testing.B) {
				for range b.N {
					var sched *Scheduler
					if scheduled {
						sched = NewScheduler(0)
					}
					measureSendInterval(b, legs, 5*time.Second, sched)
					if sched != nil {
						sched.Close()
					}
				}
			})
		}
	}
}

// BenchmarkSchedulerTick is a scheduler worker's whole job for one slot of
// 100 legs: each leg's send tick (read the Play source, encode, marshal,
// write to its socket), plus the worker's bookkeeping.
func BenchmarkSchedulerTick(b *testing.B) {
	w := &schedWorker{epoch: time.Now(), wake: make(chan struct{}, 1), io: &pretendIO{}}
	const legs = 100
	for range legs {
		peer := listenLoopback(b)
		leg := NewRTPLeg(RTPConfig{Conn: listenLoopback(b), Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger()})
		leg.jobs.play = &playJob{src: &sliceSource{samples: testSignal(SampleRate), loop: true}, done: make(chan error, 1)}
		leg.tx.clock = newPacer(w.epoch, FrameDuration)
		w.slots[0] = append(w.slots[0], leg)
		go drain(peer)
	}
	time.Sleep(20 * time.Millisecond) // let the drains start (they allocate their buffers)
	b.ReportAllocs()
	var k int64
	for b.Loop() {
		// Pretend a frame period has passed: every leg is due once.
		for _, l := range w.slots[0] {
			l.tx.clock.start = l.tx.clock.start.Add(-FrameDuration)
		}
		w.serve(k)
		k += int64(schedSlots)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/legs, "ns/packet")
}

func measureSendInterval(b *testing.B, legs int, d time.Duration, sched *Scheduler) {
	var (
		mu        sync.Mutex
		intervals []time.Duration
		wg        sync.WaitGroup
	)
	stop := make(chan struct{})
	var all []*RTPLeg
	for range legs {
		peer := listenLoopback(b)
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Fatal(err)
		}
		leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: addrOf(peer), InactivityTimeout: -1, Logger: testLogger(), Scheduler: sched})
		all = append(all, leg)
		wg.Go(func() {
			var local []time.Duration
			buf := make([]byte, 2048)
			var last time.Time
			for {
				select {
				case <-stop:
					mu.Lock()
					intervals = append(intervals, local...)
					mu.Unlock()
					return
				default:
				}
				peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
					continue
				}
				now := time.Now()
				if !last.IsZero() {
					local = append(local, now.Sub(last))
				}
				last = now
			}
		})
	}
	for _, leg := range all {
		leg.Start()
	}
	time.Sleep(d)
	close(stop)
	for _, leg := range all {
		leg.Close("measured")
	}
	wg.Wait()
	if len(intervals) == 0 {
		b.Fatal("no packets")
	}
	slices.Sort(intervals)
	pct := func(p float64) time.Duration { return intervals[int(p*float64(len(intervals)-1))] }
	var worstDev time.Duration
	for _, iv := range intervals {
		worstDev = max(worstDev, (iv - FrameDuration).Abs())
	}
	b.ReportMetric(float64(pct(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(intervals[len(intervals)-1].Microseconds()), "max-µs")
	b.ReportMetric(float64(len(intervals)+legs)/d.Seconds()/float64(legs), "pkts/s/leg")
	b.Logf("%d legs, %d intervals: min %v p50 %v p99 %v max %v (worst deviation from 20ms %v)",
		legs, len(intervals), intervals[0], pct(0.50), pct(0.99), intervals[len(intervals)-1], worstDev)
}
