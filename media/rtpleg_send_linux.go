//go:build linux

package media

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// errNotSendable is returned for an IPv6 destination on an IPv4 socket.
var errNotSendable = errors.New("media: destination address family does not match the socket")

// sockSend sends a leg's packets with a raw sendto on its socket. A
// datagram send on loopback or a LAN never blocks for long, so it need not
// go through the runtime's syscall bookkeeping as (*net.UDPConn).Write
// does: when a send takes a few tens of microseconds (the kernel delivers
// loopback packets in the sender's context), the runtime hands the
// goroutine's P to another thread, and the sender, a scheduler worker
// with a slot of legs still to serve, then waits to get one back; with
// thousands of calls that showed as milliseconds of send jitter. Only the
// goroutine that sends for the leg touches it.
type sockSend struct {
	raw    syscall.RawConn
	fn     func(fd uintptr) bool
	family uint16 // the socket's: AF_INET or AF_INET6; 0 before the first send
	pkt    []byte
	sa4    unix.RawSockaddrInet4
	sa6    unix.RawSockaddrInet6
	salen  uintptr
	sa     unsafe.Pointer
	err    error
}

// sendTo sends pkt to remote on the leg's socket.
func (l *RTPLeg) sendTo(pkt []byte, remote netip.AddrPort) error {
	s := &l.tx.sock
	if s.raw == nil {
		if err := s.init(l); err != nil {
			_, werr := l.conn.WriteToUDPAddrPort(pkt, remote)
			return werr
		}
	}
	if err := s.address(remote); err != nil {
		return err
	}
	s.pkt = pkt
	if err := s.raw.Write(s.fn); err != nil {
		return err // the socket is closed (net.ErrClosed)
	}
	return s.err
}

func (s *sockSend) init(l *RTPLeg) error {
	raw, err := l.conn.SyscallConn()
	if err != nil {
		return err
	}
	var family uint16
	var serr error
	if err := raw.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		switch {
		case err != nil:
			serr = err
		case isInet6(sa):
			family = unix.AF_INET6
		default:
			family = unix.AF_INET
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	s.raw, s.family = raw, family
	s.fn = func(fd uintptr) bool {
		_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.pkt[0])), uintptr(len(s.pkt)),
			0, uintptr(s.sa), s.salen)
		s.err = nil
		if errno != 0 {
			s.err = errno
		}
		return true // never wait for the socket to drain: a late packet is no use
	}
	return nil
}

func isInet6(sa unix.Sockaddr) bool {
	_, ok := sa.(*unix.SockaddrInet6)
	return ok
}

// address sets the destination for the next send, converting an IPv4
// remote to v4-mapped form on an IPv6 socket.
func (s *sockSend) address(remote netip.AddrPort) error {
	addr := remote.Addr()
	if s.family == unix.AF_INET {
		if !addr.Is4() && !addr.Is4In6() {
			return errNotSendable
		}
		s.sa4.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.sa4.Port))[:], remote.Port())
		s.sa4.Addr = addr.Unmap().As4()
		s.sa, s.salen = unsafe.Pointer(&s.sa4), unsafe.Sizeof(s.sa4)
		return nil
	}
	s.sa6.Family = unix.AF_INET6
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.sa6.Port))[:], remote.Port())
	s.sa6.Addr = addr.As16() // an IPv4 address comes out v4-mapped
	s.sa6.Scope_id = 0
	s.sa, s.salen = unsafe.Pointer(&s.sa6), unsafe.Sizeof(s.sa6)
	return nil
}
