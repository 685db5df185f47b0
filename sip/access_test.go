package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// credentialsFor answers a's challenge for user/password the way a UAC
// would (qop=auth, MD5).
func credentialsFor(t *testing.T, a *inboundAuth, now time.Time, user, password string) string {
	t.Helper()
	return credentialsAt(t, a, lo1, now, user, password, testURI, 1)
}

var (
	lo1, lo2 = netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	testURI  = sipmsg.Uri{Scheme: "sip", User: "1000", Host: "127.0.0.1"}
)

// credentialsAt answers a challenge a sent to src, for uri, with nonce
// count nc.
func credentialsAt(t *testing.T, a *inboundAuth, src netip.Addr, now time.Time, user, password string, uri sipmsg.Uri, nc int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(a.challengeHeader(src, now, false).Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri.String(), Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestInboundAuthCheck(t *testing.T) {
	now := time.Now()
	ipTrunk := Trunk{Name: "carrier", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}
	pbx := Trunk{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}
	ipAndCreds := Trunk{Name: "both", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}, InboundUsername: "both", InboundPassword: "pw2"}

	cases := []struct {
		name      string
		trunks    []Trunk
		src       netip.Addr
		authz     func(a *inboundAuth) string
		want      verdict
		wantTrunk string
	}{
		{"no trunks: open", nil, lo1, nil, admitted, ""},
		{"trunks without restrictions: open", []Trunk{{Name: "out", Host: "x"}}, lo1, nil, admitted, ""},
		{"allowed IP", []Trunk{ipTrunk}, lo2, nil, admitted, "carrier"},
		{"IPv4-mapped source is unmapped", []Trunk{ipTrunk}, netip.MustParseAddr("::ffff:127.0.0.2"), nil, admitted, "carrier"},
		{"other IP", []Trunk{ipTrunk}, lo1, nil, forbidden, ""},
		{"other IP, credential trunk: challenged", []Trunk{ipTrunk, pbx}, lo1, nil, challenge, ""},
		{"other IP, good credentials", []Trunk{ipTrunk, pbx}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "pbx", "pw") }, admitted, "pbx"},
		{"wrong password", []Trunk{ipTrunk, pbx}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "pbx", "nope") }, forbidden, "pbx"},
		{"unknown user", []Trunk{ipTrunk, pbx}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "mallory", "pw") }, forbidden, ""},
		{"IP matches trunk with credentials: challenged", []Trunk{ipAndCreds}, lo1, nil, challenge, "both"},
		{"IP and credentials", []Trunk{ipAndCreds}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "both", "pw2") }, admitted, "both"},
		{"IP trunk, another trunk's credentials", []Trunk{ipAndCreds, pbx}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "pbx", "pw") }, forbidden, "both"},
		{"outside allowed_ips, no credentials: forbidden, not challenged", []Trunk{ipAndCreds}, netip.MustParseAddr("10.0.0.1"), nil, forbidden, ""},
		{"outside allowed_ips, good credentials: forbidden", []Trunk{ipAndCreds}, netip.MustParseAddr("10.0.0.1"),
			func(a *inboundAuth) string { return credentialsFor(t, a, now, "both", "pw2") }, forbidden, "both"},
		{"expired nonce is stale", []Trunk{pbx}, lo1,
			func(a *inboundAuth) string { return credentialsFor(t, a, now.Add(-6*time.Minute), "pbx", "pw") }, stale, "pbx"},
		{"nonce from another server is stale", []Trunk{pbx}, lo1,
			func(*inboundAuth) string {
				o := newInboundAuth([]Trunk{pbx}, nil)
				return credentialsFor(t, &o, now, "pbx", "pw")
			}, stale, "pbx"},
		{"garbage Authorization", []Trunk{pbx}, lo1, func(*inboundAuth) string { return "Basic Zm9v" }, forbidden, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newInboundAuth(c.trunks, nil)
			authz := ""
			if c.authz != nil {
				authz = c.authz(&a)
			}
			v, trunk, why := a.check(authRequest{src: c.src, authorization: authz, uri: testURI}, now)
			if v != c.want || trunk != c.wantTrunk {
				t.Errorf("check = %v %q (%s); want %v %q", v, trunk, why, c.want, c.wantTrunk)
			}
		})
	}
}

// TestInboundAuthReplay: captured credentials are good for one request,
// to the Request-URI they were made for, from the address the nonce was
// issued to.
func TestInboundAuthReplay(t *testing.T) {
	now := time.Now()
	pbx := Trunk{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}
	a := newInboundAuth([]Trunk{pbx}, nil)
	check := func(src netip.Addr, authz string, uri sipmsg.Uri) verdict {
		v, _, _ := a.check(authRequest{src: src, authorization: authz, uri: uri}, now)
		return v
	}
	first := credentialsAt(t, &a, lo1, now, "pbx", "pw", testURI, 1)
	if v := check(lo1, first, testURI); v != admitted {
		t.Fatalf("first use = %v, want admitted", v)
	}
	if v := check(lo1, first, testURI); v != stale {
		t.Errorf("the same Authorization again = %v, want stale (a fresh challenge)", v)
	}
	// The same nonce with the next count is a new request: good once.
	chal, _ := digest.ParseChallenge(a.challengeHeader(lo1, now.Add(time.Millisecond), false).Value()) // another nonce
	next := func(nc int) string {
		c, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: testURI.String(), Username: "pbx", Password: "pw", Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return c.String()
	}
	for _, step := range []struct {
		nc   int
		want verdict
	}{{1, admitted}, {3, admitted}, {2, admitted}, {3, stale}, {2, stale}, {1, stale}} {
		if v := check(lo1, next(step.nc), testURI); v != step.want {
			t.Errorf("nc=%d: %v, want %v", step.nc, v, step.want)
		}
	}
	if !sameURI("sip:127.0.0.1", testURI) || sameURI("sip:127.0.0.2", testURI) || sameURI("sip:1000@127.0.0.1:5070", testURI) {
		t.Error("sameURI: a digest uri without user names the host and port")
	}
	other := sipmsg.Uri{Scheme: "sip", User: "+15550009999", Host: "127.0.0.1"}
	if v := check(lo1, credentialsAt(t, &a, lo1, now, "pbx", "pw", testURI, 1), other); v != forbidden {
		t.Errorf("credentials for another Request-URI = %v, want forbidden", v)
	}
	if v := check(lo2, credentialsAt(t, &a, lo1, now, "pbx", "pw", testURI, 1), testURI); v != stale {
		t.Errorf("credentials replayed from another address = %v, want stale (a fresh challenge)", v)
	}
}

func TestNonceCountsBounded(t *testing.T) {
	c := newNonceCounts()
	now := time.Now()
	if !c.use("n", 1, now.Add(time.Minute), now) || c.use("n", 1, now.Add(time.Minute), now) {
		t.Fatal("first use refused or second accepted")
	}
	if !c.use("n", 200, now.Add(time.Minute), now) || c.use("n", 100, now.Add(time.Minute), now) {
		t.Error("a count far below the highest must be refused")
	}
	later := now.Add(2 * time.Minute)
	c.use("m", 1, later.Add(time.Minute), later)
	if _, ok := c.nonces["n"]; ok {
		t.Error("expired nonce not swept")
	}
}

// inviteResult is what a plain sipgo UAC got for an INVITE.
type inviteResult struct {
	code        int
	wwwAuth     bool
	invitesSent int
}

// sipgoInvite calls target from a sipgo UAC (its own user agent, so its
// source is 127.0.0.1 like everything here), answering a digest challenge
// when password is set, and hangs up when answered.
func sipgoInvite(t *testing.T, target netip.AddrPort, username, password string) inviteResult {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-uac"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	dua := &sipgo.DialogUA{Client: client, ContactHDR: sipmsg.ContactHeader{Address: sipmsg.Uri{User: "uac", Host: "127.0.0.1"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sdp := strings.Join([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", "m=audio 4000 RTP/AVP 0", ""}, "\r\n")
	uri := sipmsg.Uri{Scheme: "sip", User: "1000", Host: target.Addr().String(), Port: int(target.Port())}
	dlg, err := dua.Invite(ctx, uri, []byte(sdp), sipmsg.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	var res inviteResult
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: username, Password: password, OnResponse: func(r *sipmsg.Response) error {
		if r.StatusCode == 401 {
			res.invitesSent++
			res.wwwAuth = r.GetHeader("WWW-Authenticate") != nil
		}
		return nil
	}})
	res.invitesSent++
	var dr *sipgo.ErrDialogResponse
	switch {
	case err == nil:
		res.code = 200
		if err := dlg.Ack(ctx); err != nil {
			t.Errorf("ACK: %v", err)
		}
		if err := dlg.Bye(ctx); err != nil {
			t.Errorf("BYE: %v", err)
		}
	case errors.As(err, &dr):
		res.code = dr.Res.StatusCode
	default:
		t.Fatalf("WaitAnswer: %v", err)
	}
	return res
}

func TestInboundTrunkAccess(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name               string
		trunks             []Trunk
		username, password string
		code               int
		trunk              string // Trunk() of the admitted call
	}{
		{"no restrictions", nil, "", "", 200, ""},
		{"source not allowed", []Trunk{{Name: "carrier", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}}, "", "", 403, ""},
		{"source allowed", []Trunk{{Name: "carrier", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}, "", "", 200, "carrier"},
		{"digest: no credentials", []Trunk{{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}}, "", "", 401, ""},
		{"digest: good credentials", []Trunk{{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}}, "pbx", "pw", 200, "pbx"},
		{"digest: wrong password", []Trunk{{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}}, "pbx", "bad", 403, ""},
		{"IP refused, credentials accepted", []Trunk{
			{Name: "carrier", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
			{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"},
		}, "pbx", "pw", 200, "pbx"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			admitted := make(chan string, 1)
			srv, _ := startServer(t, Config{Trunks: c.trunks}, func(ctx context.Context, call *InboundCall) {
				admitted <- call.Trunk()
				if err := call.Answer(ctx); err != nil {
					return
				}
				<-ctx.Done()
			})
			res := sipgoInvite(t, udpListener(t, srv), c.username, c.password)
			if res.code != c.code {
				t.Fatalf("INVITE answered %d, want %d", res.code, c.code)
			}
			if c.code == 401 && !res.wwwAuth {
				t.Error("401 without WWW-Authenticate")
			}
			if c.password != "" && res.invitesSent != 2 {
				t.Errorf("UAC sent %d INVITEs, want 2 (challenge, then credentials)", res.invitesSent)
			}
			if c.code == 200 {
				if got := <-admitted; got != c.trunk {
					t.Errorf("call.Trunk() = %q, want %q", got, c.trunk)
				}
			} else {
				select {
				case got := <-admitted:
					t.Errorf("refused INVITE reached the handler (trunk %q)", got)
				default:
				}
			}
		})
	}
}

func TestValidateTrunks(t *testing.T) {
	cases := []struct {
		trunks []Trunk
		want   string
	}{
		{[]Trunk{{Name: "a", Host: "127.0.0.1:5070"}, {Name: "b", Host: "[::1]", Transport: "TCP"}}, ""},
		{[]Trunk{{Host: "x"}}, "no name"},
		{[]Trunk{{Name: "a"}, {Name: "a"}}, "twice"},
		{[]Trunk{{Name: "a", Host: "h:99999"}}, "bad address"},
		{[]Trunk{{Name: "a", Transport: "sctp"}}, "unsupported transport"},
		{[]Trunk{{Name: "a", Transport: "tls", SRTP: "maybe"}}, "srtp"},
		{[]Trunk{{Name: "a", InboundUsername: "u"}}, "go together"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			err := validateTrunks(c.trunks)
			if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Errorf("validateTrunks = %v, want %q", err, c.want)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	s := &Server{cfg: Config{Trunks: []Trunk{
		{Name: "first", Host: "10.0.0.1", NumberPrefix: "9"},
		{Name: "tcp", Host: "sbc.example:5080", Transport: "tcp"},
	}}}
	cases := []struct {
		to, trunk string
		uri       string
		transport string
		headers   map[string]string
	}{
		{"+15551234567", "", "sip:9+15551234567@10.0.0.1:5060", "UDP", nil},
		{"1000", "tcp", "sip:1000@sbc.example:5080;transport=tcp", "TCP", nil},
		{"(415) 123-4567", "", "sip:94151234567@10.0.0.1:5060", "UDP", nil},
		{"sip:alice@127.0.0.1", "", "sip:alice@127.0.0.1:5060", "UDP", map[string]string{}},
		{"sip:alice@127.0.0.1:5070;transport=tcp?X-A=1&X-B=two%20words", "", "sip:alice@127.0.0.1:5070;transport=tcp", "TCP", map[string]string{"X-A": "1", "X-B": "two words"}},
	}
	for _, c := range cases {
		t.Run(c.to, func(t *testing.T) {
			rt, err := s.routeFor(DialRequest{To: c.to, Trunk: c.trunk})
			if err != nil {
				t.Fatal(err)
			}
			if rt.uri.String() != c.uri || rt.transport != c.transport || fmt.Sprint(rt.headers) != fmt.Sprint(c.headers) {
				t.Errorf("route = %s %s %v; want %s %s %v", rt.uri.String(), rt.transport, rt.headers, c.uri, c.transport, c.headers)
			}
		})
	}
}
