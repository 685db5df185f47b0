package sip

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// TestRegistrar: a user registers with digest (401, then 200 with its
// binding); a short interval gets 423; registering another user's
// address gets 403; a wrong password 403; Expires 0 removes the binding;
// dialling sip:USER@<gateway> goes to the registered Contact.
func TestRegistrar(t *testing.T) {
	srv, _ := startServer(t, Config{Users: []User{{Username: "alice", Password: "alice-secret"}, {Username: "bob", Password: "bob-secret1"}}}, nil)
	gw := udpListener(t, srv)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	phone := conn.LocalAddr().(*net.UDPAddr)
	phoneSrv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = phoneSrv.ServeUDP(conn) }() // responses come back here (Via)
	defer conn.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(phone.Port))
	if err != nil {
		t.Fatal(err)
	}
	register := func(user, aor, password string, expires int) *sipmsg.Response {
		t.Helper()
		req := sipmsg.NewRequest(sipmsg.REGISTER, sipmsg.Uri{Scheme: "sip", Host: gw.Addr().String(), Port: int(gw.Port())})
		req.AppendHeader(&sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: aor, Host: gw.Addr().String()}})
		req.AppendHeader(&sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: aor, Host: "127.0.0.1", Port: phone.Port}})
		req.AppendHeader(sipmsg.NewHeader("Expires", fmt.Sprint(expires)))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := client.Do(ctx, req)
		if err != nil {
			t.Fatalf("REGISTER: %v", err)
		}
		if res.StatusCode != 401 {
			return res
		}
		req2 := req.Clone()
		res, err = client.DoDigestAuth(ctx, req2, res, sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			t.Fatalf("REGISTER with credentials: %v", err)
		}
		return res
	}
	if res := register("alice", "alice", "alice-secret", 120); res.StatusCode != 200 || res.Contact() == nil {
		t.Fatalf("REGISTER answered %d (Contact %v), want 200 with the binding", res.StatusCode, res.Contact())
	}
	if !srv.Registered("alice") {
		t.Fatal("alice is not registered after 200")
	}
	rt, err := srv.routeFor(DialRequest{To: "sip:alice@127.0.0.1"})
	if err != nil || rt.uri.Port != phone.Port {
		t.Errorf("sip:alice@gateway routes to %v (%v), want the phone's port %d", rt.uri.String(), err, phone.Port)
	}
	for _, tc := range []struct {
		name, user, aor, password string
		expires, want             int
	}{
		{"too brief", "alice", "alice", "alice-secret", 30, 423},
		{"another user's address", "alice", "bob", "alice-secret", 120, 403},
		{"wrong password", "bob", "bob", "nope-nope", 120, 403},
		{"unknown user", "carol", "carol", "carol-secret", 120, 403},
	} {
		if res := register(tc.user, tc.aor, tc.password, tc.expires); res.StatusCode != tc.want {
			t.Errorf("%s: answered %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	if res := register("alice", "alice", "alice-secret", 0); res.StatusCode != 200 || srv.Registered("alice") {
		t.Errorf("unregister: %d, still registered %v", res.StatusCode, srv.Registered("alice"))
	}
}
