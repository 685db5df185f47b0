package sip

import (
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
// the user go (registrar.go), through the binding the phone's
// re-registrations keep open.
func behindNAT(req *sipmsg.Request) bool {
	if !strings.EqualFold(req.Transport(), "UDP") {
		return false
	}
	via := req.Via()
	return via != nil && via.Params != nil && via.Params.Has("rport") && via.Params.Has("received")
}
