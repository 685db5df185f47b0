package media

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// freeRange finds a run of size consecutive free ports starting at an even
// port, so the pool tests do not collide with other processes.
func freeRange(t *testing.T, size int) int {
	t.Helper()
	for base := 41000; base < 60000; base += 2 * size {
		ok := true
		var held []*net.UDPConn
		for p := base; p < base+size && ok; p++ {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(p))))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func TestNewPortPoolRanges(t *testing.T) {
	tests := []struct {
		name      string
		ip        netip.Addr
		min, max  int
		wantErr   bool
		wantSize  int
		wantFirst int
	}{
		{"typical", loopback, 20000, 30000, false, 5000, 20000},
		{"odd bounds", loopback, 20001, 20006, false, 2, 20002},
		{"one pair", loopback, 20000, 20001, false, 1, 20000},
		{"no odd neighbour", loopback, 20000, 20000, true, 0, 0},
		{"odd single", loopback, 20001, 20002, true, 0, 0},
		{"reversed", loopback, 30000, 20000, true, 0, 0},
		{"zero port", loopback, 0, 100, true, 0, 0},
		{"too high", loopback, 65000, 65536, true, 0, 0},
		{"invalid ip", netip.Addr{}, 20000, 30000, true, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPortPool(tc.ip, tc.min, tc.max)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NewPortPool(%v, %d, %d) = %+v, want error", tc.ip, tc.min, tc.max, p)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPortPool: %v", err)
			}
			if p.Size() != tc.wantSize || p.min != tc.wantFirst {
				t.Errorf("size %d first %d, want %d and %d", p.Size(), p.min, tc.wantSize, tc.wantFirst)
			}
		})
	}
}

func TestPortPoolListen(t *testing.T) {
	base := freeRange(t, 8) // ports base..base+7: RTP ports base, +2, +4, +6
	pool, err := NewPortPool(loopback, base, base+7)
	if err != nil {
		t.Fatal(err)
	}
	// Another process holds base+2.
	other, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(base+2))))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var got []int
	var conns []*net.UDPConn
	for range 3 {
		c, err := pool.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		conns = append(conns, c)
		got = append(got, int(addrOf(c).Port()))
	}
	slices.Sort(got)
	if want := []int{base, base + 4, base + 6}; !slices.Equal(got, want) {
		t.Fatalf("ports %v, want %v (even, skipping the one in use)", got, want)
	}
	if c, err := pool.Listen(); err == nil {
		c.Close()
		t.Fatalf("Listen with every port taken returned %v, want error", addrOf(c))
	}

	// Closing a leg's socket returns its port to the pool.
	freed := int(addrOf(conns[1]).Port())
	conns[1].Close()
	c, err := pool.Listen()
	if err != nil {
		t.Fatalf("Listen after a port was freed: %v", err)
	}
	if p := int(addrOf(c).Port()); p != freed {
		t.Errorf("got port %d, want the freed %d", p, freed)
	}
	c.Close()
	conns[0].Close()
	conns[2].Close()
}

// TestPortPoolRandom: consecutive calls do not get consecutive ports, so
// a call's RTP port cannot be guessed from the last one's.
func TestPortPoolRandom(t *testing.T) {
	base := freeRange(t, 200)
	pool, err := NewPortPool(loopback, base, base+199)
	if err != nil {
		t.Fatal(err)
	}
	prev, sequential := -1, 0
	for range 20 {
		c, err := pool.Listen()
		if err != nil {
			t.Fatal(err)
		}
		p := int(addrOf(c).Port())
		c.Close()
		if p == prev+2 || p == prev {
			sequential++
		}
		prev = p
	}
	// With 100 ports, a random choice follows the previous port about
	// once in 50; handing out in order does it every time.
	if sequential > 5 {
		t.Errorf("%d of 20 ports followed the previous one: ports are handed out in order", sequential)
	}
}

func TestPortPoolReleasedThroughLeg(t *testing.T) {
	base := freeRange(t, 2)
	pool, err := NewPortPool(loopback, base, base+1)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	leg := NewRTPLeg(RTPConfig{Conn: conn, Remote: netip.MustParseAddrPort("127.0.0.1:9"), Logger: testLogger()})
	if got := leg.LocalAddr(); got != netip.AddrPortFrom(loopback, uint16(base)) {
		t.Errorf("LocalAddr = %v, want 127.0.0.1:%d", got, base)
	}
	leg.Start()
	if c, err := pool.Listen(); err == nil {
		c.Close()
		t.Fatal("pool of one handed out its port twice")
	}
	leg.Close("bye")
	c, err := pool.Listen()
	if err != nil {
		t.Fatalf("port not returned after Close: %v", err)
	}
	c.Close()
}

func TestPortPoolBindError(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not an address of this host: binding fails
	// with something other than "in use", which Listen must report at once.
	pool, err := NewPortPool(netip.MustParseAddr("192.0.2.1"), 20000, 20009)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := pool.Listen(); err == nil {
		c.Close()
		t.Fatal("Listen on a foreign address succeeded")
	}
}
