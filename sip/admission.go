package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"golang.org/x/time/rate"
)

// Limits protect the server from floods. A zero field means no limit.
type Limits struct {
	// MaxCalls bounds the inbound calls in progress (ringing or up).
	MaxCalls int
	// CallsPerSecond bounds how many new INVITEs are admitted per second
	// (a token bucket holding one second's worth).
	CallsPerSecond float64
	// SourceMaxCalls and SourceCallsPerSecond are the same bounds per
	// source IP address.
	SourceMaxCalls       int
	SourceCallsPerSecond float64

	// TCPMaxConnections bounds the SIP-over-TCP connections accepted at
	// once; it is lowered at start so that FDReserve file descriptors stay
	// free (see tcpLimiter).
	TCPMaxConnections int
	// TCPSourceMaxConnections bounds them per source IP address.
	TCPSourceMaxConnections int
	// TCPIdleTimeout closes an accepted connection that sends nothing for
	// this long.
	TCPIdleTimeout time.Duration
	// FDReserve is how many file descriptors, beyond one per RTP port,
	// are kept free of SIP TCP connections for HTTP, RTP and the database.
	FDReserve int
}

// Retry-After values of a 503 from the admission control, in seconds.
const (
	retryAfterRate  = 1 // a token comes back within a second
	retryAfterCalls = 5 // calls take a while to end
)

// maxTrackedSources bounds the per-source state; beyond it (a flood from
// many addresses), INVITEs from new sources are shed.
const maxTrackedSources = 100_000

// admission sheds INVITEs beyond the Limits before any work is done on
// them: they get 503 Service Unavailable with Retry-After.
type admission struct {
	lim    Limits
	global *rate.Limiter // nil: no rate limit

	mu      sync.Mutex
	calls   int
	sources map[netip.Addr]*sourceLoad
	swept   time.Time
}

// sourceLoad is one source address's share of the load.
type sourceLoad struct {
	calls int
	rate  *rate.Limiter // nil: no per-source rate limit
	last  time.Time
}

func newAdmission(lim Limits) *admission {
	a := &admission{lim: lim, sources: map[netip.Addr]*sourceLoad{}}
	if lim.CallsPerSecond > 0 {
		a.global = rate.NewLimiter(rate.Limit(lim.CallsPerSecond), burst(lim.CallsPerSecond))
	}
	return a
}

func burst(perSecond float64) int { return max(1, int(perSecond)) }

// errShed is why admit refused a call: a short reason for the log and the
// metrics, and the Retry-After to send.
type errShed struct {
	reason     string
	retryAfter int
}

func (e *errShed) Error() string { return "overload: " + e.reason }

// admit counts a new call from src, or refuses it with an *errShed. The
// caller calls release when the call is over.
func (a *admission) admit(src netip.Addr, now time.Time) (release func(), err error) {
	src = src.Unmap()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lim.MaxCalls > 0 && a.calls >= a.lim.MaxCalls {
		return nil, &errShed{"max_calls", retryAfterCalls}
	}
	s := a.source(src, now)
	if s == nil {
		return nil, &errShed{"too_many_sources", retryAfterCalls}
	}
	s.last = now
	if a.lim.SourceMaxCalls > 0 && s.calls >= a.lim.SourceMaxCalls {
		return nil, &errShed{"source_max_calls", retryAfterCalls}
	}
	if s.rate != nil && !s.rate.AllowN(now, 1) {
		return nil, &errShed{"source_calls_per_second", retryAfterRate}
	}
	if a.global != nil && !a.global.AllowN(now, 1) {
		return nil, &errShed{"calls_per_second", retryAfterRate}
	}
	a.calls++
	s.calls++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			a.calls--
			s.calls--
			a.mu.Unlock()
		})
	}, nil
}

// source returns src's state, creating it; nil when too many sources are
// tracked. a.mu is held.
func (a *admission) source(src netip.Addr, now time.Time) *sourceLoad {
	if s := a.sources[src]; s != nil {
		return s
	}
	if now.Sub(a.swept) >= time.Minute || len(a.sources) >= maxTrackedSources {
		a.sweep(now)
	}
	if len(a.sources) >= maxTrackedSources {
		return nil
	}
	s := &sourceLoad{}
	if a.lim.SourceCallsPerSecond > 0 {
		s.rate = rate.NewLimiter(rate.Limit(a.lim.SourceCallsPerSecond), burst(a.lim.SourceCallsPerSecond))
	}
	a.sources[src] = s
	return s
}

// sweep forgets sources with no call that have been quiet long enough
// for their rate bucket to be full again.
func (a *admission) sweep(now time.Time) {
	a.swept = now
	for ip, s := range a.sources {
		if s.calls == 0 && now.Sub(s.last) >= 10*time.Second {
			delete(a.sources, ip)
		}
	}
}

// admitLoad applies the Limits to a new INVITE: it answers 503 with
// Retry-After itself and reports ok false, or returns the release to call
// when the call is over.
func (s *Server) admitLoad(req *sipmsg.Request, tx sipmsg.ServerTransaction) (release func(), ok bool) {
	release, err := s.load.admit(sourceAddr(req), time.Now())
	if err == nil {
		return release, true
	}
	var shed *errShed
	errors.As(err, &shed)
	s.refused("invite", shed.reason)
	s.shedLog.log(s.log, slog.LevelWarn, "sip: INVITE shed (overload)", "code", 503, "reason", shed.reason, "source", req.Source())
	s.respond(req, tx, 503, "Service Unavailable", sipmsg.NewHeader("Retry-After", strconv.Itoa(shed.retryAfter)))
	return nil, false
}

// refused counts something the server refused (Config.Refused).
func (s *Server) refused(kind, reason string) {
	if s.cfg.Refused != nil {
		s.cfg.Refused(kind, reason)
	}
}

// sourceAddr is the IP address a request came from (invalid when
// unknown).
func sourceAddr(req *sipmsg.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// literalAddr is host as an IP address, or the invalid address when host
// is a name (or empty).
func literalAddr(host string) netip.Addr {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ErrMediaFamily means the offer's media address is of another IP family
// than the gateway's media address: IPv6 media is not supported while the
// gateway's RTP is on IPv4 (and the other way round). The INVITE gets 488
// Not Acceptable Here.
var ErrMediaFamily = errors.New("sdp: media address family not supported")

// checkOfferFamily reports ErrMediaFamily when the offer's media address
// is of another family than local.
func checkOfferFamily(o Offer, local netip.Addr) error {
	remote := o.Remote.Addr().Unmap()
	if !remote.IsValid() || remote.Is4() == local.Unmap().Is4() {
		return nil
	}
	want := "IPv4"
	if !local.Unmap().Is4() {
		want = "IPv6"
	}
	return fmt.Errorf("%w: the offer's media address is %s; this gateway's media is %s only", ErrMediaFamily, remote, want)
}

// logLimiter lets through one log line per interval and counts the ones
// it holds back, reported with the next line that passes.
type logLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
	held     int
}

// allow reports whether a line may go out at now, and how many were held
// back since the last one that did.
func (l *logLimiter) allow(now time.Time) (held int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.held++
		return 0, false
	}
	held, l.held = l.held, 0
	l.next = now.Add(l.interval)
	return held, true
}

// log writes the line at level unless one was written less than interval
// ago.
func (l *logLimiter) log(log *slog.Logger, level slog.Level, msg string, args ...any) {
	held, ok := l.allow(time.Now())
	if !ok {
		return
	}
	if held > 0 {
		args = append(args, "similar_lines_suppressed", held)
	}
	log.Log(context.Background(), level, msg, args...)
}
