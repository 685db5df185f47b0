package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
)

// PortPool hands out RTP ports on one IP address from a fixed range.
//
// Only even ports are handed out, and only those whose odd neighbour (the
// RTCP port, port+1) is still inside the range, so the pool never gives a
// leg a port that another leg's peer may use for RTCP.
//
// The pool keeps no list of ports in use: the operating system already
// knows. Listen starts at a random even port of the range and walks on
// from there, binding the first even port it can; a port held by another
// leg or by another process fails to bind and is skipped. Closing the
// returned connection (RTPLeg.Close does) returns the port to the pool.
// A random start keeps a call's port from being guessed from the previous
// call's (against "RTP Bleed" style injection) and, in a range much larger
// than the calls up, keeps a just-freed port out of use for a while, so
// late packets of an ended call rarely reach a new one.
type PortPool struct {
	ip       netip.Addr
	min, max int // first and last even port handed out
}

// NewPortPool returns a pool of the even ports in [min, max] on ip, each
// with its port+1 also in the range (for 20000-30000: 20000, 20002, ...,
// 29998).
func NewPortPool(ip netip.Addr, min, max int) (*PortPool, error) {
	if !ip.IsValid() {
		return nil, errors.New("media: port pool: invalid IP address")
	}
	if min < 1 || max > 65535 || min > max {
		return nil, fmt.Errorf("media: port pool: bad port range %d-%d", min, max)
	}
	first := min + min%2
	last := max - 1
	last -= last % 2
	if first > last {
		return nil, fmt.Errorf("media: port pool: range %d-%d holds no even port with its odd neighbour", min, max)
	}
	return &PortPool{ip: ip.Unmap(), min: first, max: last}, nil
}

// Size is the number of RTP ports the pool can hand out.
func (p *PortPool) Size() int { return (p.max-p.min)/2 + 1 }

// Listen binds a free even port of the range, chosen at random, and
// returns the connection. It is safe for concurrent use. It fails when every port of the range is in use, or when
// binding fails for a reason other than the port being taken (for example
// an IP address the host does not have).
func (p *PortPool) Listen() (*net.UDPConn, error) {
	size := p.Size()
	start := rand.IntN(size)
	for i := range size {
		port := p.min + 2*((start+i)%size)
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("media: port pool: bind %s: %w", netip.AddrPortFrom(p.ip, uint16(port)), err)
		}
	}
	return nil, fmt.Errorf("media: port pool: all %d ports of %s %d-%d are in use", p.Size(), p.ip, p.min, p.max+1)
}
