package sip

import (
	"net/netip"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// behindNAT reports whether req came through a NAT that its sender knows
// of: over UDP, with a top Via that asks for rport (RFC 3581) and names
// another address than the one the request came from (wirecheck.go added
// received= on arrival). Such a phone's Contact is its private address,
// which we cannot reach. Responses go to the source (received, rport);
// requests in a dialog too (sipgo's RewriteContact, set in NewServer);
// and a REGISTER from behind NAT records its source, where INVITEs for
// the user go (registrationDest), through the binding the phone's
// re-registrations keep open.
func behindNAT(req *sipmsg.Request) bool {
	if !strings.EqualFold(req.Transport(), "UDP") {
		return false
	}
	via := req.Via()
	return via != nil && via.Params != nil && via.Params.Has("rport") && via.Params.Has("received")
}

// registrationDest is where INVITEs for a phone that sent REGISTER req
// go, when not to its Contact: over UDP from behind NAT (behindNAT), the
// address the REGISTER came from; over TLS, always the connection it came
// on (a phone has no TLS listener of its own as a rule, and behind NAT
// could not be reached by a new connection anyway; as RFC 5626's
// outbound does, without its flow tokens); over TCP from behind NAT
// (tcpBehindNAT), the connection it came on too: sipgo keeps accepted
// connections by their remote address, so an INVITE sent there reuses
// it while the phone keeps it open. "" means the Contact.
func registrationDest(req *sipmsg.Request) string {
	switch {
	case strings.EqualFold(req.Transport(), "TLS"), behindNAT(req), tcpBehindNAT(req):
		return req.Source()
	}
	return ""
}

// tcpBehindNAT reports whether req came over TCP from another host than
// the one its top Via names: the phone's sent-by is a private address
// that a new connection could not reach. (Over TCP the source port is
// the connection's, never the sent-by's listening port, so only hosts
// are compared.)
func tcpBehindNAT(req *sipmsg.Request) bool {
	if !strings.EqualFold(req.Transport(), "TCP") {
		return false
	}
	via := req.Via()
	src, err := netip.ParseAddrPort(req.Source())
	if via == nil || err != nil {
		return false
	}
	host, err := netip.ParseAddr(strings.Trim(via.Host, "[]"))
	return err != nil || host.Unmap() != src.Addr().Unmap()
}
