package sip

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// testLogger logs to the test output when -v is given, else nowhere.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// portPools hands each test server its own RTP range, so parallel or
// leftover sockets never collide.
var portPools = struct {
	sync.Mutex
	next int
}{next: 41000}

func testPorts(t testing.TB) *media.PortPool {
	portPools.Lock()
	lo := portPools.next
	portPools.next += 40
	portPools.Unlock()
	p, err := media.NewPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+39)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startServer runs a Server on udp (and tcp) 127.0.0.1 ephemeral ports
// until the test ends. The returned stop shuts it down and waits for
// Serve; it is also registered with t.Cleanup.
func startServer(t testing.TB, cfg Config, h Handler) (*Server, func()) {
	t.Helper()
	if cfg.Listen == nil {
		cfg.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	}
	if cfg.Ports == nil {
		cfg.Ports = testPorts(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if h == nil {
		h = func(ctx context.Context, c *InboundCall) {
			if err := c.Answer(ctx); err != nil {
				return
			}
			<-ctx.Done()
		}
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Serve did not return within 20 s of shutdown")
			}
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

func udpListener(t *testing.T, s *Server) netip.AddrPort {
	t.Helper()
	for _, l := range s.Listeners() {
		if l.Transport == "udp" {
			return l.Addr
		}
	}
	t.Fatal("no UDP listener")
	return netip.AddrPort{}
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// frameCounter is a media.Sink that counts frames and those with sound.
type frameCounter struct {
	mu     sync.Mutex
	frames int
	loud   int // frames whose peak exceeds 1000
}

func (f *frameCounter) WriteFrame(p []int16) error {
	peak := 0
	for _, s := range p {
		v := int(s)
		if v < 0 {
			v = -v
		}
		peak = max(peak, v)
	}
	f.mu.Lock()
	f.frames++
	if peak > 1000 {
		f.loud++
	}
	f.mu.Unlock()
	return nil
}

func (f *frameCounter) counts() (frames, loud int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames, f.loud
}
