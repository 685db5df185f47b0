package config

import (
	"fmt"
	"net/netip"
)

// SIPLimits shed floods (sip.limits). Zero means no limit.
type SIPLimits struct {
	// MaxCalls bounds the inbound calls in progress.
	MaxCalls int `yaml:"max_calls"`
	// CallsPerSecond bounds new inbound INVITEs admitted per second.
	CallsPerSecond int `yaml:"calls_per_second"`
	// SourceMaxCalls and SourceCallsPerSecond are the same per source IP.
	SourceMaxCalls       int `yaml:"source_max_calls"`
	SourceCallsPerSecond int `yaml:"source_calls_per_second"`
	// TCPMaxConnections bounds SIP TCP connections at once (lowered to
	// keep FDReserve descriptors free); TCPSourceMaxConnections per
	// source IP; TCPIdleTimeout closes a connection silent for so long.
	TCPMaxConnections       int      `yaml:"tcp_max_connections"`
	TCPSourceMaxConnections int      `yaml:"tcp_source_max_connections"`
	TCPIdleTimeout          Duration `yaml:"tcp_idle_timeout"`
	// FDReserve is how many file descriptors, beyond one per RTP port,
	// SIP TCP connections leave free.
	FDReserve int `yaml:"fd_reserve"`
}

// OutboundHTTP is the policy for the addresses the gateway's own HTTP
// requests may connect to (webhooks, status callbacks, <Play> media,
// Studio HTTP widgets): see package netpolicy.
type OutboundHTTP struct {
	// Allow lists networks that may be reached even though Deny (or the
	// built-in list) holds them, e.g. 127.0.0.1/32 or 10.0.0.0/8.
	Allow []string `yaml:"allow"`
	// Deny lists networks refused in addition to the built-in ones.
	Deny []string `yaml:"deny"`
}

// defaultSIPLimits are the limits when the file says nothing.
func defaultSIPLimits() SIPLimits {
	return SIPLimits{
		MaxCalls: 2000, CallsPerSecond: 200, SourceMaxCalls: 1000, SourceCallsPerSecond: 100,
		TCPMaxConnections: 4096, TCPSourceMaxConnections: 64, TCPIdleTimeout: Duration(120e9), FDReserve: 1024,
	}
}

// ParsePrefixes reads addresses or CIDR networks (a bare address is a /32
// or /128).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, a := range list {
		if p, err := netip.ParsePrefix(a); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR network", a)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// validateHardening checks sip.limits and outbound_http.
func (c Config) validateHardening(bad func(key, format string, args ...any)) {
	l := c.SIP.Limits
	for key, v := range map[string]int{
		"max_calls": l.MaxCalls, "calls_per_second": l.CallsPerSecond, "source_max_calls": l.SourceMaxCalls,
		"source_calls_per_second": l.SourceCallsPerSecond, "tcp_max_connections": l.TCPMaxConnections,
		"tcp_source_max_connections": l.TCPSourceMaxConnections, "fd_reserve": l.FDReserve,
	} {
		if v < 0 {
			bad("sip.limits."+key, "must not be negative (0 means no limit)")
		}
	}
	if l.TCPIdleTimeout < 0 {
		bad("sip.limits.tcp_idle_timeout", "must not be negative (0 means none)")
	}
	if _, err := ParsePrefixes(c.OutboundHTTP.Allow); err != nil {
		bad("outbound_http.allow", "%v", err)
	}
	if _, err := ParsePrefixes(c.OutboundHTTP.Deny); err != nil {
		bad("outbound_http.deny", "%v", err)
	}
}
