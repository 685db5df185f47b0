package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/netpolicy"
	"github.com/voxgate/voxgate/sip"
)

// outboundPolicy builds the policy for the gateway's own HTTP requests
// (outbound_http): the built-in deny list plus the configured one, the
// configured allow list, and the gateway's own HTTP server always.
func outboundPolicy(cfg config.Config) (*netpolicy.Policy, error) {
	allow, err := config.ParsePrefixes(cfg.OutboundHTTP.Allow)
	if err != nil {
		return nil, fmt.Errorf("outbound_http.allow: %w", err)
	}
	deny, err := config.ParsePrefixes(cfg.OutboundHTTP.Deny)
	if err != nil {
		return nil, fmt.Errorf("outbound_http.deny: %w", err)
	}
	return netpolicy.New(allow, deny, selfAddrs(cfg)...), nil
}

// selfAddrs are the addresses the gateway's own HTTP server is reached at:
// http.listen and http.public_url (its name resolved now, when it is one).
func selfAddrs(cfg config.Config) []netip.AddrPort {
	u, err := url.Parse(cfg.HTTP.PublicURL)
	if err != nil {
		return netpolicy.SelfAddrs(cfg.HTTP.Listen, "", 0)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		port = p
	}
	self := netpolicy.SelfAddrs(cfg.HTTP.Listen, u.Hostname(), uint16(port))
	if _, err := netip.ParseAddr(u.Hostname()); err != nil && u.Hostname() != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		ips, _ := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
		for _, ip := range ips {
			self = append(self, netip.AddrPortFrom(ip.Unmap(), uint16(port)))
		}
	}
	return self
}

// sipLimits converts sip.limits.
func sipLimits(l config.SIPLimits) sip.Limits {
	return sip.Limits{
		MaxCalls: l.MaxCalls, CallsPerSecond: float64(l.CallsPerSecond),
		SourceMaxCalls: l.SourceMaxCalls, SourceCallsPerSecond: float64(l.SourceCallsPerSecond),
		TCPMaxConnections: l.TCPMaxConnections, TCPSourceMaxConnections: l.TCPSourceMaxConnections,
		TCPIdleTimeout: l.TCPIdleTimeout.D(), FDReserve: l.FDReserve,
	}
}

// protectionMetrics counts what the gateway refused to protect itself:
// voxgate_sip_refused_total{kind,reason} (sip.Config.Refused) and
// voxgate_agent_signin_throttled_total.
type protectionMetrics struct {
	sipRefused *prometheus.CounterVec
	throttled  prometheus.Counter
}

func newProtectionMetrics(reg *prometheus.Registry) *protectionMetrics {
	p := &protectionMetrics{
		sipRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "voxgate", Name: "sip_refused_total",
			Help: "SIP input refused or dropped to protect the gateway: kind invite (503, reason the limit), tcp (connection refused or closed idle), message (unparseable).",
		}, []string{"kind", "reason"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "voxgate", Name: "agent_signin_throttled_total",
			Help: "Agent sign-in attempts refused without checking the secret, because of earlier failures.",
		}),
	}
	reg.MustRegister(p.sipRefused, p.throttled)
	return p
}

// sipRefusedHook is sip.Config.Refused.
func (p *protectionMetrics) sipRefusedHook(kind, reason string) {
	p.sipRefused.WithLabelValues(kind, reason).Inc()
}
