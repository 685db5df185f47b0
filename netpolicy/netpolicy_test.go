package netpolicy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
)

func TestCheck(t *testing.T) {
	self := netip.MustParseAddrPort("127.0.0.1:8080")
	p := New([]netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, self)
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14:443", true},           // the internet
		{"[2606:2800:21f:cb07::1]:443", true}, // the internet, IPv6
		{"169.254.169.254:80", false},         // cloud metadata
		{"[fd00:ec2::254]:80", false},         // AWS metadata over IPv6
		{"127.0.0.1:80", false},               // loopback
		{"[::ffff:127.0.0.1]:80", false},      // loopback, v4-mapped
		{"[::1]:80", false},                   // loopback IPv6
		{"10.0.0.5:80", false},                // private
		{"10.1.2.3:80", true},                 // private, but allowed
		{"192.168.1.1:80", false},             // private
		{"[fe80::1]:80", false},               // link-local
		{"0.0.0.0:80", false},                 // "this host"
		{"203.0.113.9:80", false},             // denied by the operator
		{"127.0.0.1:8080", true},              // the gateway itself
	} {
		err := p.Check(netip.MustParseAddrPort(c.addr))
		var be *BlockedError
		if (err == nil) != c.ok || (err != nil && !errors.As(err, &be)) {
			t.Errorf("Check(%s) = %v, want allowed %v", c.addr, err, c.ok)
		}
	}
	var none *Policy
	if err := none.Check(netip.MustParseAddrPort("127.0.0.1:1")); err != nil {
		t.Errorf("nil policy: %v", err)
	}
}

// TestClientRefusesAtConnectTime: the check runs on the resolved address,
// so a host name that resolves to loopback ("localhost", as a rebinding
// DNS name would) is refused too, and an allowed network works.
func TestClientRefusesAtConnectTime(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	byName := fmt.Sprintf("http://localhost:%s/", u.Port())

	strict := New(nil, nil).Client(0)
	for _, target := range []string{srv.URL, byName} {
		_, err := strict.Get(target)
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Errorf("GET %s: %v, want a *BlockedError", target, err)
		}
	}
	if hits != 0 {
		t.Fatalf("the server was reached %d times", hits)
	}
	open := New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, nil).Client(0)
	resp, err := open.Get(byName)
	if err != nil {
		t.Fatalf("allowed GET: %v", err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Errorf("hits = %d after an allowed GET", hits)
	}
}

func TestSelfAddrs(t *testing.T) {
	got := SelfAddrs("0.0.0.0:8080", "192.0.2.7", 80)
	want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("[::1]:8080"), netip.MustParseAddrPort("192.0.2.7:80")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SelfAddrs = %v, want %v", got, want)
	}
}

// TestTransportReusesConnections: a client of the policy's transport
// making 20 requests at a time to one host, three times over, connects 20
// times, not 20 the first time and 18 each time after (Go's default keeps
// 2 idle connections per host); and it still applies the policy.
func TestTransportReusesConnections(t *testing.T) {
	const n = 20
	var mu sync.Mutex
	conns := 0
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	client := New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil).Client(0)
	defer client.CloseIdleConnections()
	for round := range 3 {
		release = make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		for range n { // all n in flight at once
			<-arrived
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != n {
		t.Errorf("%d connections for 3 rounds of %d concurrent requests, want %d (reused)", conns, n, n)
	}
	if _, err := New(nil, nil).Client(0).Get(srv.URL); err == nil {
		t.Error("a policy refusing loopback reached the server")
	}
}
