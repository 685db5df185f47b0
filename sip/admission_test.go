package sip

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func shedReason(err error) string {
	var e *errShed
	if errors.As(err, &e) {
		return e.reason
	}
	return ""
}

func TestAdmissionLimits(t *testing.T) {
	now := time.Now()
	a := newAdmission(Limits{MaxCalls: 3, CallsPerSecond: 10, SourceMaxCalls: 2, SourceCallsPerSecond: 5})
	one, two := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	var releases []func()
	admit := func(src netip.Addr) string {
		release, err := a.admit(src, now)
		if err != nil {
			return shedReason(err)
		}
		releases = append(releases, release)
		return ""
	}
	for i, step := range []struct {
		src  netip.Addr
		want string
	}{{one, ""}, {one, ""}, {one, "source_max_calls"}, {two, ""}, {two, "max_calls"}} {
		if got := admit(step.src); got != step.want {
			t.Fatalf("step %d: shed %q, want %q", i, got, step.want)
		}
	}
	releases[0]()
	releases[0]() // twice is once
	if got := admit(one); got != "" {
		t.Fatalf("after a call ended: shed %q", got)
	}
	for _, r := range releases {
		r()
	}
	// Rate: source one has used 3 of its 5 tokens this second.
	var got []string
	for range 3 {
		got = append(got, admit(one))
		releases[len(releases)-1]()
	}
	if got[0] != "" || got[1] != "" || got[2] != "source_calls_per_second" {
		t.Errorf("per-source rate: %q", got)
	}
}

func TestAdmissionGlobalRate(t *testing.T) {
	now := time.Now()
	a := newAdmission(Limits{CallsPerSecond: 2})
	for i := range 3 {
		_, err := a.admit(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), now)
		if want := i == 2; (err != nil) != want {
			t.Errorf("INVITE %d: %v", i, err)
		}
	}
	if _, err := a.admit(netip.MustParseAddr("192.0.2.9"), now.Add(600*time.Millisecond)); err != nil {
		t.Errorf("a token is back after 0.5 s: %v", err)
	}
}

func TestCheckOfferFamily(t *testing.T) {
	v4, v6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	for _, c := range []struct {
		remote, local netip.Addr
		ok            bool
	}{{v4, v4, true}, {netip.MustParseAddr("2001:db8::1"), v4, false}, {v4, v6, false}, {v6, v6, true}, {netip.MustParseAddr("::ffff:127.0.0.1"), v4, true}} {
		err := checkOfferFamily(Offer{Remote: netip.AddrPortFrom(c.remote, 4000)}, c.local)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrMediaFamily)) {
			t.Errorf("remote %v local %v: %v", c.remote, c.local, err)
		}
	}
}

func TestTCPLimiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var refused []string
	l := newTCPLimiter(ln, Limits{TCPSourceMaxConnections: 2, TCPIdleTimeout: 200 * time.Millisecond}, 3, slog.New(slog.DiscardHandler), func(r string) {
		mu.Lock()
		refused = append(refused, r)
		mu.Unlock()
	})
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func(local string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err != nil && errTimeout(err) == nil // EOF or reset, not our deadline
	}
	a1, a2 := dial("127.0.0.1"), dial("127.0.0.1")
	s1, s2 := <-accepted, <-accepted
	if a3 := dial("127.0.0.1"); !closedByServer(a3) {
		t.Error("a third connection from one source was not closed")
	}
	_ = dial("127.0.0.2")
	s3 := <-accepted
	if a4 := dial("127.0.0.3"); !closedByServer(a4) {
		t.Error("a connection over the total limit was not closed")
	}
	mu.Lock()
	if strings.Join(refused, ",") != "tcp_source_max_connections,tcp_max_connections" {
		t.Errorf("refused %v", refused)
	}
	mu.Unlock()
	// Idle: a read on an accepted connection times out.
	start := time.Now()
	if _, err := s1.Read(make([]byte, 1)); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("idle read: %v after %v", err, time.Since(start))
	}
	s1.Close()
	s1.Close()
	s2.Close()
	s3.Close()
	_, _ = a1, a2
	dial("127.0.0.1")
	if _, ok := <-accepted; !ok {
		t.Error("no connection accepted after others closed")
	}
}

func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return nil
}

func TestSipgoLogHandler(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	counts := map[string]int{}
	l := newSipgoLog(slog.NewTextHandler(&buf, nil), time.Hour, func(kind, reason string) {
		mu.Lock()
		counts[kind+"/"+reason]++
		mu.Unlock()
	}).With("caller", "Transport<UDP>")
	junk := strings.Repeat("\x01junk", 10_000)
	for range 1000 {
		l.Error("failed to parse", "data", junk, "error", errors.New("bad start line: "+junk))
	}
	l.Error("Read error", "error", &net.OpError{Op: "read", Err: timeoutErr{}})
	if counts["message/unparseable"] != 1000 || counts["tcp/idle_timeout"] != 1 {
		t.Errorf("counts %v", counts)
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 1 || len(out) > 600 {
		t.Errorf("1000 junk datagrams logged %d lines, %d bytes:\n%.600s", n, len(out), out)
	}
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "bytes=50000") {
		t.Errorf("log line: %s", out)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestMaxTCPConnectionsKeepsReserve(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if got := maxTCPConnections(100, 10, 10, log); rl.Cur > 200 && got != 100 {
		t.Errorf("a small limit well inside the descriptor limit was changed to %d", got)
	}
	if rl.Cur > 1<<30 {
		return // effectively unlimited: nothing to keep free
	}
	ports, reserve := int(rl.Cur)/2, int(rl.Cur)/4
	if got := maxTCPConnections(int(rl.Cur), ports, reserve, log); got > max(int(rl.Cur)-ports-reserve, 16) {
		t.Errorf("limit %d leaves fewer than %d descriptors of %d free", got, ports+reserve, rl.Cur)
	}
}
