//go:build !linux

package media

import "net/netip"

// sockSend is empty outside Linux: packets go through the net package.
type sockSend struct{}

// sendTo sends pkt to remote on the leg's socket.
func (l *RTPLeg) sendTo(pkt []byte, remote netip.AddrPort) error {
	_, err := l.conn.WriteToUDPAddrPort(pkt, remote)
	return err
}
