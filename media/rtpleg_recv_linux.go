//go:build linux

package media

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sockRecv is the state of receiving for a leg from its scheduler worker
// (epollIO): the worker reads the socket when the epoll set says it is
// readable, instead of the leg's receive loop. Only the worker touches it.
type sockRecv struct {
	index  int32           // the leg's index in the worker's epollIO (valid once watched)
	raw    syscall.RawConn // the leg's socket
	readFn func(fd uintptr) bool
	buf    []byte // the leg's receive buffer

	// The last read's results (readFn cannot return them).
	n    int
	from netip.AddrPort
	err  error
	sa   unix.RawSockaddrAny
}

// start prepares reading raw, the socket the worker watches at index.
// The read function is made once here: made per packet it would be
// allocated per packet.
func (s *sockRecv) start(raw syscall.RawConn, index int32, buf []byte) {
	s.raw, s.index, s.buf = raw, index, buf
	s.readFn = func(fd uintptr) bool { return s.recv(int(fd), s.buf) }
}

// recv reads one datagram, without waiting and without allocating (the
// syscall package's Recvfrom allocates the source address).
func (s *sockRecv) recv(fd int, buf []byte) bool {
	salen := uint32(unsafe.Sizeof(s.sa))
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&s.sa)), uintptr(unsafe.Pointer(&salen)))
	if errno != 0 {
		s.n, s.err = 0, errno
		return true
	}
	s.n, s.err = int(n), nil
	s.from = sockaddrAddrPort(&s.sa)
	return true // never wait: the worker reads only what epoll says is there
}

// sockaddrAddrPort converts an IPv4 or IPv6 socket address.
func sockaddrAddrPort(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&in.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), port)
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&in.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(in.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}

// receiveReady reads and handles one datagram, for the scheduler worker
// that found the leg's socket readable: what the receive loop does per
// packet. A socket error other than the leg's own close ends the leg.
func (l *RTPLeg) receiveReady() {
	s := &l.rx.sock
	if err := s.raw.Read(s.readFn); err != nil {
		return // the socket is closed: the leg has ended
	}
	switch {
	case s.err == nil:
		l.handlePacket(l.rx.buf[:s.n], s.from, time.Now())
	case errors.Is(s.err, unix.EAGAIN), errors.Is(s.err, unix.EINTR):
	case !l.closed():
		l.log.Error("rtp receive failed, ending leg", "err", s.err)
		l.end("socket-error: " + s.err.Error())
	}
}
