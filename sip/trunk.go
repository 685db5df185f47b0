package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
)

// Trunk is a SIP trunk: where calls to numbers go, and who may call in.
//
// Outbound, Dial sends calls to numbers to Host (an outbound proxy or a
// registrar-less peer; Voxgate does not REGISTER), answering its digest
// challenges with Username and Password.
//
// Inbound, an INVITE belongs to the first trunk whose AllowedIPs hold its
// source address; failing that, to the trunk whose InboundUsername its
// digest credentials name. When a trunk has InboundUsername, INVITEs that
// belong to it must pass digest authentication (401 challenge); a trunk
// with both admits only INVITEs from its addresses that also pass it, and
// credentials are good for one request (see inboundAuth.check). When any
// trunk restricts inbound calls (AllowedIPs or InboundUsername), INVITEs
// that belong to no trunk get 403 Forbidden; when none does, every INVITE
// is accepted (the local demo).
type Trunk struct {
	Name      string
	Host      string // outbound proxy or peer, "host:port" (port default 5060)
	Transport string // "udp" (default) or "tcp"
	// Username and Password are the digest credentials for calls we send.
	Username, Password string
	CallerID           string // From user when the call gives none; "" = "voxgate"
	NumberPrefix       string // prepended to dialled numbers (e.g. "9"); optional
	// AllowedIPs are the source networks whose INVITEs belong to this trunk.
	AllowedIPs []netip.Prefix
	// InboundUsername and InboundPassword, when set, are the credentials
	// INVITEs from this trunk must present (digest, 401 challenge).
	InboundUsername, InboundPassword string
	// SRTP is the trunk's media encryption policy: SRTPOff, SRTPOptional
	// ("" means optional: SRTP when offered) or SRTPRequired.
	SRTP string
	// TLSCAFile, for Transport "tls", names PEM CA certificates the
	// trunk's certificate may chain to, besides the system's roots.
	TLSCAFile string
	// Register makes the gateway register with the trunk (REGISTER to
	// Host with Username and Password; see Server.Registrations).
	Register bool
	// LateOffer sends calls through the trunk without SDP in the INVITE
	// (see DialRequest.LateOffer).
	LateOffer bool
	// Codecs, when set, is the trunk's codec preference instead of
	// Config.Codecs.
	Codecs []media.Codec
}

// validateTrunks checks the trunk list of a Config.
func validateTrunks(trunks []Trunk) error {
	seen := map[string]bool{}
	for i, t := range trunks {
		if t.Name == "" {
			return fmt.Errorf("sip: trunk %d has no name", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("sip: trunk %q is configured twice", t.Name)
		}
		seen[t.Name] = true
		if t.Host != "" {
			if _, _, err := splitHostPort(t.Host); err != nil {
				return fmt.Errorf("sip: trunk %q: host: %w", t.Name, err)
			}
		}
		if _, err := transportOf(t.Transport); err != nil {
			return fmt.Errorf("sip: trunk %q: %w", t.Name, err)
		}
		switch t.SRTP {
		case "", SRTPOff, SRTPOptional, SRTPRequired:
		default:
			return fmt.Errorf("sip: trunk %q: srtp %q: want required, optional or off", t.Name, t.SRTP)
		}
		if t.Register && (t.Host == "" || t.Username == "") {
			return fmt.Errorf("sip: trunk %q: register needs host and username", t.Name)
		}
		if (t.InboundUsername == "") != (t.InboundPassword == "") {
			return fmt.Errorf("sip: trunk %q: inbound username and password go together", t.Name)
		}
	}
	return nil
}

// transportOf normalizes a transport name to sipgo's spelling ("UDP",
// "TCP"); "" means UDP.
func transportOf(name string) (string, error) {
	switch strings.ToLower(name) {
	case "", "udp":
		return "UDP", nil
	case "tcp":
		return "TCP", nil
	case "tls":
		return "TLS", nil
	}
	return "", fmt.Errorf("unsupported transport %q (use udp, tcp or tls)", name)
}

// splitHostPort splits "host[:port]" (IPv6 in brackets), defaulting the
// port to 5060.
func splitHostPort(hostport string) (string, int, error) {
	if hostport == "" {
		return "", 0, errors.New("empty address")
	}
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: a bare host or a bracketed/bare IPv6 address.
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
		if strings.ContainsAny(host, "[]") || host == "" {
			return "", 0, fmt.Errorf("bad address %q", hostport)
		}
		return host, 5060, nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("bad address %q", hostport)
	}
	return host, port, nil
}

// route is where and how one outbound call is sent.
type route struct {
	uri       sipmsg.Uri        // Request-URI (and To), without URI headers
	transport string            // "UDP" or "TCP"
	trunk     *Trunk            // nil for a SIP URI dialled directly
	headers   map[string]string // headers given in the URI (?X-H=v)
	// dest, when set, is where the INVITE goes instead of the
	// Request-URI's host (a registered phone behind NAT).
	dest string
	// srtp is the SRTP policy of a registered user's route (see
	// User.SRTP); a trunk's route uses the trunk's.
	srtp string
}

// srtpPolicy is the SRTP policy of calls on the route: the trunk's, the
// registered user's, or optional (SRTP when the far end offers it; we
// offer plain RTP) for a SIP URI dialled directly.
func (rt route) srtpPolicy() string {
	switch {
	case rt.trunk != nil && rt.trunk.SRTP != "":
		return rt.trunk.SRTP
	case rt.trunk == nil && rt.srtp != "":
		return rt.srtp
	}
	return SRTPOptional
}

// findTrunk returns the named trunk, or the first one when name is "".
func (s *Server) findTrunk(name string) (*Trunk, error) {
	if len(s.cfg.Trunks) == 0 {
		return nil, errors.New("no SIP trunk is configured to reach numbers")
	}
	if name == "" {
		return &s.cfg.Trunks[0], nil
	}
	for i := range s.cfg.Trunks {
		if s.cfg.Trunks[i].Name == name {
			return &s.cfg.Trunks[i], nil
		}
	}
	return nil, fmt.Errorf("no SIP trunk named %q", name)
}

// routeFor decides where a DialRequest goes: a SIP URI as given, or a
// number through a trunk.
func (s *Server) routeFor(req DialRequest) (route, error) {
	to := strings.TrimSpace(req.To)
	lower := strings.ToLower(to)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		rt, err := parseSIPTarget(to)
		if err == nil {
			rt = s.registered(rt)
		}
		return rt, err
	}
	number, err := normalizeNumber(to)
	if err != nil {
		return route{}, err
	}
	trunk, err := s.findTrunk(req.Trunk)
	if err != nil {
		return route{}, err
	}
	if trunk.Host == "" {
		return route{}, fmt.Errorf("trunk %q has no host to send calls to", trunk.Name)
	}
	host, port, err := splitHostPort(trunk.Host)
	if err != nil {
		return route{}, fmt.Errorf("trunk %q: %w", trunk.Name, err)
	}
	transport, err := transportOf(trunk.Transport)
	if err != nil {
		return route{}, fmt.Errorf("trunk %q: %w", trunk.Name, err)
	}
	uri := sipmsg.Uri{Scheme: "sip", User: trunk.NumberPrefix + number, Host: host, Port: port}
	if transport != "UDP" {
		uri.UriParams = sipmsg.NewParams()
		uri.UriParams.Add("transport", strings.ToLower(transport))
	}
	return route{uri: uri, transport: transport, trunk: trunk}, nil
}

// parseSIPTarget reads "sip:user@host[:port][;transport=tcp][?X-H=v&…]".
func parseSIPTarget(to string) (route, error) {
	var uri sipmsg.Uri
	if err := sipmsg.ParseUri(to, &uri); err != nil {
		return route{}, fmt.Errorf("bad SIP URI %q: %w", to, err)
	}
	if uri.Host == "" {
		return route{}, fmt.Errorf("SIP URI %q has no host", to)
	}
	transport := "UDP"
	if uri.IsEncrypted() { // sips: (RFC 3261 §19.1): TLS, port 5061 by default
		transport = "TLS"
		if uri.Port == 0 {
			uri.Port = 5061
		}
	}
	if uri.Port == 0 {
		uri.Port = 5060
	}
	if uri.UriParams != nil {
		if tp, ok := uri.UriParams.Get("transport"); ok {
			var err error
			if transport, err = transportOf(tp); err != nil {
				return route{}, fmt.Errorf("SIP URI %q: %w", to, err)
			}
			if uri.IsEncrypted() && transport != "TLS" {
				return route{}, fmt.Errorf("SIP URI %q: a sips: URI goes over TLS only", to)
			}
		}
	}
	r := route{transport: transport, headers: map[string]string{}}
	for _, kv := range uri.Headers {
		v, err := url.PathUnescape(kv.V)
		if err != nil {
			return route{}, fmt.Errorf("SIP URI %q: header %s: %w", to, kv.K, err)
		}
		r.headers[kv.K] = v
	}
	uri.Headers = nil
	r.uri = uri
	return r, nil
}

// normalizeNumber strips the formatting people put in phone numbers
// ("+1 (415) 123-4567") and checks what is left is dialable: an optional
// leading +, then digits, * and #.
func normalizeNumber(s string) (string, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", fmt.Errorf("%q is neither a SIP URI nor a phone number", s)
		}
	}
	n := b.String()
	if strings.TrimPrefix(n, "+") == "" {
		return "", fmt.Errorf("%q is neither a SIP URI nor a phone number", s)
	}
	return n, nil
}

// extraHeaderAllowed reports whether a header given with a dialled call
// (<Sip> URI headers, DialRequest.Headers) may be put in the INVITE: X-
// headers and the few identity headers Twilio passes on. Anything else
// could break the dialog (Via, Call-ID, ...), so it is dropped.
func extraHeaderAllowed(name, value string) bool {
	if len(value) >= 1024 || strings.ContainsAny(value, "\r\n") || name == "" || strings.ContainsAny(name, ": \t\r\n") {
		return false
	}
	if len(name) > 2 && strings.EqualFold(name[:2], "x-") {
		return true
	}
	switch strings.ToLower(name) {
	case "user-to-user", "remote-party-id", "p-preferred-identity", "p-called-party-id", "p-asserted-identity":
		return true
	}
	return false
}

// srtpPolicy is the SRTP policy of the named trunk, or of the phone
// whose calls count as pseudo-trunk "user:NAME" when its srtp is set
// (SRTPOptional for calls from no trunk).
func (s *Server) srtpPolicy(trunk string) string {
	if name, ok := strings.CutPrefix(trunk, userTrunkPrefix); ok && s.reg != nil {
		if u := s.reg.users[name]; u.SRTP != "" {
			return u.SRTP
		}
	}
	for _, t := range s.cfg.Trunks {
		if t.Name == trunk && t.SRTP != "" {
			return t.SRTP
		}
	}
	return SRTPOptional
}
