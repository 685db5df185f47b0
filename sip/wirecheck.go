package sip

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// wireCheck applies wire.go's checks to what a transport reads: refused
// requests are answered here and never reach sipgo; the rest reach it in
// canonical form.
type wireCheck struct {
	server  string // Server header of our answers
	log     *slog.Logger
	logLim  *logLimiter
	refused func(reason string)
	parser  *sipmsg.Parser
}

// wireVerdict is what to do with one message read.
type wireVerdict struct {
	pass  []byte // hand to sipgo (nil: nothing)
	reply []byte // send back to the peer (nil: nothing)
}

func (w *wireCheck) refuse(m *rawMessage, rej *rejection, size int, transport string) wireVerdict {
	reply := m.answer(rej, w.server)
	if reply == nil {
		w.refused("unparseable")
		w.logLim.log(w.log, slog.LevelWarn, "sip: unparseable message dropped", "transport", transport, "size", size)
		return wireVerdict{}
	}
	w.refused("malformed")
	w.logLim.log(w.log, slog.LevelWarn, "sip: malformed request refused", "transport", transport, "size", size, "code", rej.code, "reason", rej.reason)
	return wireVerdict{reply: reply}
}

// datagram checks one UDP datagram (RFC 3261 §18.3: the datagram is the
// message; bytes after Content-Length are discarded; a body shorter than
// it is an error).
func (w *wireCheck) datagram(data []byte, from net.Addr) wireVerdict {
	if len(bytes.Trim(data, "\r\n\x00")) == 0 {
		return wireVerdict{pass: data} // keep-alive
	}
	head, bodyStart, ok := splitMessage(data)
	if !ok {
		head, bodyStart = data, len(data)
	}
	m, rej := parseHead(head)
	if rej == nil {
		rej = checkRequest(m)
	}
	if rej == nil && !ok {
		rej = badRequest("header section not terminated")
	}
	if rej == nil {
		m.body = data[bodyStart:]
		if cl := m.contentLength(); cl >= 0 {
			if len(m.body) < cl {
				rej = badRequest("body shorter than Content-Length")
			} else {
				m.body = m.body[:cl]
			}
		}
	}
	if rej == nil && len(data) > maxMessageSize {
		rej = &rejection{code: 513, reason: "Message Too Large"}
	}
	if rej != nil {
		if m != nil && m.method == "" && !bytes.HasPrefix(data, []byte("SIP/")) {
			m.method = firstWord(m.startLine)
		}
		return w.refuse(m, rej, len(data), "udp")
	}
	addReceived(m, from)
	return w.parsable(m, len(data), "udp")
}

// addReceived marks the top Via of a request that came from another
// address than its sent-by host with received=<source> (RFC 3261
// §18.2.1), so that responses go back where it came from (behind NAT;
// with rport, RFC 3581, sipgo also fixes the port).
func addReceived(m *rawMessage, from net.Addr) {
	ua, ok := from.(*net.UDPAddr)
	if !ok || m.method == "" {
		return
	}
	src := ua.AddrPort().Addr().Unmap()
	for i := range m.headers {
		h := &m.headers[i]
		if h.name != "via" {
			continue
		}
		top, _, _ := strings.Cut(h.value, ",")
		_, rest, ok := strings.Cut(top, " ")
		if !ok || strings.Contains(strings.ToLower(top), ";received=") {
			return
		}
		sentBy, _, _ := strings.Cut(rest, ";")
		host := sentBy
		if hp, err := netip.ParseAddrPort(sentBy); err == nil {
			host = hp.Addr().String()
		} else if h, _, err := net.SplitHostPort(sentBy); err == nil {
			host = h
		}
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && a.Unmap() == src {
			return
		}
		h.value = top + ";received=" + src.String() + h.value[len(top):]
		return
	}
}

// parsable encodes m and checks that sipgo's parser reads it, so that a
// request the checks above let through but sipgo would drop is answered
// 400 rather than left unanswered.
func (w *wireCheck) parsable(m *rawMessage, size int, transport string) wireVerdict {
	out := m.encode()
	if m.method == "" {
		return wireVerdict{pass: out}
	}
	if _, err := w.parser.ParseSIP(out); err != nil {
		return w.refuse(m, badRequest("unparseable"), size, transport)
	}
	return wireVerdict{pass: out}
}

func firstWord(s string) string {
	w, _, _ := bytes.Cut([]byte(s), []byte(" "))
	return string(w)
}

// errNeedMore says a stream holds no complete message yet.
var errNeedMore = errors.New("sip: incomplete message")

// stream cuts the first message off a TCP stream's buffered bytes. It
// returns how many bytes it consumed and what to do, errNeedMore when the
// message is incomplete, or fatal true when the stream cannot be framed
// any further (no Content-Length, too large): the connection must stop
// being read after the wireVerdict is carried out.
func (w *wireCheck) stream(data []byte) (n int, v wireVerdict, fatal bool, err error) {
	if i := leadingCRLF(data); i > 0 {
		return i, wireVerdict{pass: data[:i]}, false, nil // keep-alives (RFC 5626 §3.5.1)
	}
	head, bodyStart, ok := splitMessage(data)
	if !ok {
		if len(data) > maxMessageSize {
			return len(data), wireVerdict{}, true, nil
		}
		return 0, wireVerdict{}, false, errNeedMore
	}
	m, rej := parseHead(head)
	cl := -1
	if m != nil {
		cl = m.contentLength()
	}
	if m != nil && m.method == "" && !bytes.HasPrefix(head, []byte("SIP/")) {
		m.method = firstWord(m.startLine)
	}
	switch {
	case cl < 0:
		if rej == nil {
			rej = badRequest("Content-Length is required over TCP")
		}
		return len(data), w.refuse(m, rej, len(data), "tcp"), true, nil
	case bodyStart+cl > maxMessageSize:
		return len(data), w.refuse(m, &rejection{code: 513, reason: "Message Too Large"}, bodyStart+cl, "tcp"), true, nil
	case len(data) < bodyStart+cl:
		return 0, wireVerdict{}, false, errNeedMore
	}
	n = bodyStart + cl
	if rej == nil {
		rej = checkRequest(m)
	}
	if rej != nil {
		return n, w.refuse(m, rej, n, "tcp"), false, nil
	}
	m.body = data[bodyStart:n]
	return n, w.parsable(m, n, "tcp"), false, nil
}

func leadingCRLF(data []byte) int {
	i := 0
	for i+1 < len(data) && data[i] == '\r' && data[i+1] == '\n' {
		i += 2
	}
	return i
}

// checkedPacketConn is a SIP UDP socket whose datagrams pass wireCheck
// before sipgo reads them.
type checkedPacketConn struct {
	net.PacketConn
	check *wireCheck
	buf   []byte
}

func newCheckedPacketConn(c net.PacketConn, w *wireCheck) *checkedPacketConn {
	return &checkedPacketConn{PacketConn: c, check: w, buf: make([]byte, 1<<16)}
}

// ReadFrom returns the next datagram that passes the checks; refused
// requests are answered to their source. sipgo reads from one goroutine.
func (c *checkedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(c.buf)
		if err != nil {
			return 0, addr, err
		}
		v := c.check.datagram(c.buf[:n], addr)
		if v.reply != nil {
			_, _ = c.PacketConn.WriteTo(v.reply, addr)
		}
		if v.pass == nil {
			continue
		}
		if len(v.pass) > len(b) {
			continue // cannot happen: maxMessageSize is sipgo's buffer
		}
		return copy(b, v.pass), addr, nil
	}
}

// tcpDrain is how long a connection whose stream cannot be framed any
// more stays open (unread) so that answers to the requests before the
// bad one still go out.
const tcpDrain = 32 * time.Second

// checkedRead implements limitedConn.Read with wireCheck: it reads whole
// messages, answers refused ones and returns the others.
func (c *limitedConn) checkedRead(b []byte) (int, error) {
	for len(c.out) == 0 {
		if c.draining {
			if _, err := c.rawRead(c.scratch()); err != nil {
				return 0, err
			}
			continue
		}
		n, v, fatal, err := c.l.check.stream(c.in)
		if errors.Is(err, errNeedMore) {
			if err := c.fill(); err != nil {
				return 0, err
			}
			continue
		}
		c.in = append(c.in[:0], c.in[n:]...)
		if v.reply != nil {
			if _, err := c.Write(v.reply); err != nil {
				return 0, err
			}
		}
		c.out = v.pass
		if fatal {
			c.draining, c.in = true, nil
			_ = c.Conn.SetReadDeadline(time.Now().Add(tcpDrain))
		}
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *limitedConn) scratch() []byte {
	if c.chunk == nil {
		c.chunk = make([]byte, 4096)
	}
	return c.chunk
}

// fill appends what the connection has to c.in.
func (c *limitedConn) fill() error {
	n, err := c.rawRead(c.scratch())
	c.in = append(c.in, c.chunk[:n]...)
	if n > 0 {
		return nil
	}
	return err
}

func (c *limitedConn) rawRead(b []byte) (int, error) {
	if c.l.idle > 0 && !c.draining {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.l.idle)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(b)
}

// wireCheck returns the checks for one listener.
func (s *Server) wireCheck() *wireCheck {
	return &wireCheck{
		server:  s.cfg.UserAgent,
		log:     s.log,
		logLim:  &logLimiter{interval: 10 * time.Second},
		refused: func(reason string) { s.refused("message", reason) },
		parser:  sipmsg.NewParser(),
	}
}
