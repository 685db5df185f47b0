package main

import (
	"context"
	"encoding/binary"
	"log"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/mediastream"
)

// rtpCalls are the legs of -rtp mode and the peer that talks to them.
type rtpCalls struct {
	peer    *net.UDPConn
	legs    []*media.RTPLeg
	addrs   []netip.AddrPort
	sched   *media.Scheduler
	heard   atomic.Int64 // packets from the legs carrying server audio
	packets atomic.Int64 // packets from the legs
}

// newRTPCalls opens n legs on loopback, each sending to the peer.
func newRTPCalls(n int) *rtpCalls {
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	peer.SetReadBuffer(8 << 20)
	peer.SetWriteBuffer(8 << 20)
	c := &rtpCalls{peer: peer, sched: media.NewScheduler(0)}
	remote := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	for range n {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			log.Fatalf("leg socket: %v (raise ulimit -n?)", err)
		}
		leg := media.NewRTPLeg(media.RTPConfig{Conn: conn, Remote: remote, Codec: media.PCMU, Scheduler: c.sched, InactivityTimeout: -1})
		leg.Start()
		c.legs = append(c.legs, leg)
		c.addrs = append(c.addrs, conn.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	go c.listen()
	return c
}

// listen counts what the legs send: silence, or the server's audio (a
// ramp, so not all one value).
func (c *rtpCalls) listen() {
	buf := make([]byte, 1500)
	for {
		n, err := c.peer.Read(buf)
		if err != nil {
			return
		}
		c.packets.Add(1)
		if n > 14 && buf[12] != buf[13] {
			c.heard.Add(1)
		}
	}
}

// connect runs a <Connect><Stream> on every leg.
func (c *rtpCalls) connect(ctx context.Context, cfgs []mediastream.Config) (*sync.WaitGroup, []chan *mediastream.Stream) {
	var wg sync.WaitGroup
	started := make([]chan *mediastream.Stream, len(c.legs))
	for i, leg := range c.legs {
		wg.Add(1)
		started[i] = make(chan *mediastream.Stream, 1)
		go func() {
			defer wg.Done()
			s, err := mediastream.Connect(ctx, leg, cfgs[i])
			if err != nil {
				log.Fatalf("stream %d: %v", i, err)
			}
			started[i] <- s
		}()
	}
	return &wg, started
}

// drive sends every leg one PCMU packet per 20 ms for d, recording when
// each was sent.
func (c *rtpCalls) drive(b *bench, d time.Duration) int {
	pkt := make([]byte, 12+media.FrameSamples)
	pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
	for i := 12; i < len(pkt); i++ {
		pkt[i] = byte(0x20 + i%64)
	}
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	end := time.After(d)
	seq := 0
	for {
		select {
		case <-end:
			return seq
		case <-tick.C:
		}
		seq++
		binary.BigEndian.PutUint16(pkt[2:], uint16(seq))
		binary.BigEndian.PutUint32(pkt[4:], uint32(seq*media.FrameSamples))
		for i, addr := range c.addrs {
			binary.BigEndian.PutUint32(pkt[8:], uint32(i+1)) // SSRC
			b.sentAt[i][seq%ring].Store(time.Now().UnixNano())
			if _, err := c.peer.WriteToUDPAddrPort(pkt, addr); err != nil {
				log.Fatalf("send: %v", err)
			}
		}
	}
}

func (c *rtpCalls) close() {
	for _, leg := range c.legs {
		leg.Close("bench over")
	}
	c.sched.Close()
	c.peer.Close()
}
