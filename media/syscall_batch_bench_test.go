//go:build linux

package media

import (
	"encoding/binary"
	"net"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The most that batching sends could save: one RTP-sized datagram sent on
// loopback with a sendto per packet, as a scheduler worker sends today
// (each leg has its own socket, whose port the call's SDP names), against
// sendmmsg sending 32 at a time from one socket (a batch across sockets,
// as io_uring could submit, costs at least that). The difference is the
// system call's own cost per packet; the rest is the network stack, which
// no batching removes.
//
//	go test ./media -run '^$' -bench LoopbackSend -benchtime 200000x
func BenchmarkLoopbackSend(b *testing.B) {
	const dests = 64
	var addrs [dests]unix.RawSockaddrInet4
	for i := range addrs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadBuffer(1 << 20)
		go func() { // drain, so the cost measured is delivery, not drops
			buf := make([]byte, 2048)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
		addrs[i].Family = unix.AF_INET
		addrs[i].Addr = [4]byte{127, 0, 0, 1}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&addrs[i].Port))[:], uint16(c.LocalAddr().(*net.UDPAddr).Port))
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	pkt := make([]byte, rtpHeaderSize+FrameSamples)

	b.Run("sendto", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sa := &addrs[i%dests]
			_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)),
				0, uintptr(unsafe.Pointer(sa)), unsafe.Sizeof(*sa))
			if errno != 0 {
				b.Fatal(errno)
			}
			i++
		}
	})
	b.Run("sendmmsg-32", func(b *testing.B) {
		const batch = 32
		var iov [batch]unix.Iovec
		var msgs [batch]unix.Mmsghdr
		for j := range msgs {
			iov[j].Base = &pkt[0]
			iov[j].SetLen(len(pkt))
			msgs[j].Hdr.Iov = &iov[j]
			msgs[j].Hdr.SetIovlen(1)
			msgs[j].Hdr.Namelen = uint32(unsafe.Sizeof(addrs[0]))
		}
		b.ReportAllocs()
		i := 0
		for n := b.N; n > 0; n -= batch {
			k := min(n, batch)
			for j := range k {
				msgs[j].Hdr.Name = (*byte)(unsafe.Pointer(&addrs[(i+j)%dests]))
			}
			sent, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
			if errno != 0 || int(sent) != k {
				b.Fatal(errno, sent)
			}
			i += k
		}
	})
}
