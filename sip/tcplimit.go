package sip

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// tcpWriteTimeout bounds each write to a SIP TCP connection, so a peer
// that stops reading cannot hold a goroutine and a descriptor forever.
const tcpWriteTimeout = 10 * time.Second

// tcpLimiter is a net.Listener for SIP over TCP that keeps connections
// within bounds: at most max at once and perSource per source address
// (others are accepted and closed at once, so they do not sit in the
// kernel's backlog), each closed after idle without data. Accept errors
// that come from running out of descriptors are waited out instead of
// ending the listener.
type tcpLimiter struct {
	net.Listener
	max, perSource int
	idle           time.Duration
	log            *slog.Logger
	refused        func(reason string)
	refusedLog     logLimiter
	check          *wireCheck // nil: bytes pass unchecked

	mu    sync.Mutex
	open  int
	bySrc map[netip.Addr]int
}

// maxTCPConnections is how many SIP TCP connections a process may hold:
// want, lowered so that one descriptor per RTP port and reserve more stay
// free under the descriptor limit (RLIMIT_NOFILE).
func maxTCPConnections(want, rtpPorts, reserve int, log *slog.Logger) int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return want
	}
	room := int(rl.Cur) - rtpPorts - reserve
	if room < 16 {
		room = 16
	}
	if want <= 0 || want > room {
		log.Warn("sip: TCP connections limited by the file descriptor limit (raise LimitNOFILE / ulimit -n)",
			"max_connections", room, "nofile", rl.Cur, "rtp_ports", rtpPorts, "fd_reserve", reserve)
		return room
	}
	return want
}

func newTCPLimiter(l net.Listener, lim Limits, max int, log *slog.Logger, refused func(string)) *tcpLimiter {
	return &tcpLimiter{
		Listener: l, max: max, perSource: lim.TCPSourceMaxConnections, idle: lim.TCPIdleTimeout,
		log: log, refused: refused, refusedLog: logLimiter{interval: 10 * time.Second},
		bySrc: map[netip.Addr]int{},
	}
}

// Accept returns the next connection within the limits.
func (l *tcpLimiter) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) && !errors.Is(err, syscall.ENOBUFS) {
				return nil, err
			}
			l.refusedLog.log(l.log, slog.LevelWarn, "sip: TCP accept failed: out of file descriptors", "error", err)
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit wraps c, or closes it when it is over a limit.
func (l *tcpLimiter) admit(c net.Conn) net.Conn {
	var src netip.Addr
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		src = a.AddrPort().Addr().Unmap()
	}
	reason := ""
	l.mu.Lock()
	switch {
	case l.max > 0 && l.open >= l.max:
		reason = "tcp_max_connections"
	case l.perSource > 0 && l.bySrc[src] >= l.perSource:
		reason = "tcp_source_max_connections"
	default:
		l.open++
		l.bySrc[src]++
	}
	l.mu.Unlock()
	if reason != "" {
		_ = c.Close()
		l.refused(reason)
		l.refusedLog.log(l.log, slog.LevelWarn, "sip: TCP connection refused (limit)", "reason", reason, "source", src.String())
		return nil
	}
	return &limitedConn{Conn: c, l: l, src: src}
}

func (l *tcpLimiter) release(src netip.Addr) {
	l.mu.Lock()
	l.open--
	if l.bySrc[src]--; l.bySrc[src] <= 0 {
		delete(l.bySrc, src)
	}
	l.mu.Unlock()
}

// limitedConn is an accepted connection: idle for too long, a read
// fails with a timeout (sipgo then closes the connection); closing it
// gives its place back.
type limitedConn struct {
	net.Conn
	l    *tcpLimiter
	src  netip.Addr
	once sync.Once

	// Read's state when l.check is set (see checkedRead); sipgo reads a
	// connection from one goroutine.
	in, out, chunk []byte
	draining       bool
}

func (c *limitedConn) Read(b []byte) (int, error) {
	if c.l.check != nil {
		return c.checkedRead(b)
	}
	if c.l.idle > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.l.idle)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(b)
}

func (c *limitedConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.src) })
	return err
}

// limitTCP wraps a SIP TCP listener in the Limits.
func (s *Server) limitTCP(l net.Listener) net.Listener {
	lim := s.cfg.Limits
	max := maxTCPConnections(lim.TCPMaxConnections, s.cfg.Ports.Size(), lim.FDReserve, s.log)
	tl := newTCPLimiter(l, lim, max, s.log, func(reason string) { s.refused("tcp", reason) })
	tl.check = s.wireCheck()
	return tl
}
