// Package netpolicy decides which addresses the gateway's own outgoing
// connections may reach: webhooks, status callbacks, <Play> media and
// Studio HTTP widgets fetch URLs that API users choose, and without a
// policy such a URL could make the gateway fetch from cloud metadata
// (169.254.169.254), its loopback or the operator's private network.
//
// The check runs when a connection is made, on the address actually
// dialled (net.Dialer.Control), after DNS resolution and for every
// redirect hop: a name that resolves to a denied address (DNS rebinding
// included) is refused just the same.
package netpolicy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"syscall"
	"time"
)

// DefaultDeny are the networks refused unless the operator allows them:
// loopback, private (RFC 1918, unique local), link-local (cloud metadata
// services live there: 169.254.169.254, fd00:ec2::254 is in fc00::/7),
// carrier-grade NAT, "this network", multicast and other special ranges.
var DefaultDeny = mustPrefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
)

// Policy says which addresses may be connected to. The zero value allows
// everything; New builds one. It is immutable and safe for concurrent use.
type Policy struct {
	allow []netip.Prefix
	deny  []netip.Prefix
	self  []netip.AddrPort
}

// New returns a policy refusing DefaultDeny and deny, except for the
// networks in allow and the exact addresses in self (the gateway's own
// HTTP server, which serves the demo app and Studio flows).
func New(allow, deny []netip.Prefix, self ...netip.AddrPort) *Policy {
	return &Policy{
		allow: slices.Clone(allow),
		deny:  append(slices.Clone(DefaultDeny), deny...),
		self:  slices.Clone(self),
	}
}

// BlockedError is a connection the policy refused.
type BlockedError struct {
	Addr netip.AddrPort
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("netpolicy: connecting to %s is not allowed (a private, loopback or link-local address; list it in outbound_http.allow to permit it)", e.Addr)
}

// Check returns a *BlockedError when ap may not be connected to.
func (p *Policy) Check(ap netip.AddrPort) error {
	if p == nil {
		return nil
	}
	ip := ap.Addr().Unmap()
	ap = netip.AddrPortFrom(ip, ap.Port())
	if slices.Contains(p.self, ap) || containsAddr(p.allow, ip) || !containsAddr(p.deny, ip) {
		return nil
	}
	return &BlockedError{Addr: ap}
}

func containsAddr(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// control is a net.Dialer Control function applying the policy to the
// address about to be connected to.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netpolicy: unexpected dial address %q: %w", address, err)
	}
	return p.Check(ap)
}

// Dialer returns a dialer that refuses what the policy refuses.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
}

// Idle connections a Transport keeps: http.DefaultTransport keeps 2 per
// host, so when more than 2 calls fetch TwiML from one application at a
// time (any busy gateway: an app usually is one host) all but 2
// connections were closed after each request and the next calls dialled
// new ones (a TCP handshake, and TLS, per webhook).
const (
	maxIdleConnsPerHost = 128
	maxIdleConns        = 512
)

// Transport returns an HTTP transport like http.DefaultTransport whose
// connections obey the policy, keeping up to maxIdleConnsPerHost idle
// connections per host for reuse. Behind an HTTP proxy (HTTP_PROXY,
// HTTPS_PROXY, honoured as by http.DefaultTransport) the policy can only
// check the proxy's address: the proxy must then apply its own rules.
func (p *Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = maxIdleConns, maxIdleConnsPerHost
	d := p.Dialer()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// Client returns an HTTP client using Transport, with the given timeout
// (0: none).
func (p *Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: timeout}
}

// SelfAddrs returns the exact addresses the gateway's own HTTP server is
// reached at, for New's self: the listen address (an unspecified IP stands
// for the loopback addresses) and the host and port of publicURL when it
// is an IP address.
func SelfAddrs(listen string, publicHost string, publicPort uint16) []netip.AddrPort {
	var out []netip.AddrPort
	if ap, err := netip.ParseAddrPort(listen); err == nil {
		if ap.Addr().IsUnspecified() {
			out = append(out, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ap.Port()), netip.AddrPortFrom(netip.IPv6Loopback(), ap.Port()))
		} else {
			out = append(out, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}
	if ip, err := netip.ParseAddr(publicHost); err == nil {
		out = append(out, netip.AddrPortFrom(ip.Unmap(), publicPort))
	}
	return out
}

func mustPrefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}
