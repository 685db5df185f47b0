package sip

import (
	"net/netip"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// TestUserSRTPOfferPolicy: dialling a registered user offers SRTP by its
// srtp setting, by default exactly when it registered over TLS; trunks
// and SIP URIs dialled directly keep their own policy; an unregistered
// user is dialled as a plain SIP URI.
func TestUserSRTPOfferPolicy(t *testing.T) {
	users := []User{
		{Username: "tlsphone", Password: "secret-one"},
		{Username: "udpphone", Password: "secret-two"},
		{Username: "plainpref", Password: "secret-3", SRTP: SRTPOff},
		{Username: "forced", Password: "secret-4", SRTP: SRTPRequired},
		{Username: "maybe", Password: "secret-5", SRTP: SRTPOptional},
	}
	s := &Server{cfg: Config{PublicIP: netip.MustParseAddr("127.0.0.1")}, reg: newRegistrar(users)}
	bind := func(user, transport string) {
		s.reg.bound[user] = binding{
			contact:   sipmsg.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: 5090},
			transport: transport,
			expires:   time.Now().Add(time.Hour),
		}
	}
	bind("tlsphone", "TLS")
	bind("udpphone", "UDP")
	bind("plainpref", "TLS")
	bind("forced", "UDP")
	bind("maybe", "TLS")

	cases := []struct {
		to, want string
	}{
		{"sip:tlsphone@127.0.0.1", SRTPRequired},
		{"sip:udpphone@127.0.0.1", SRTPOff},
		{"sip:plainpref@127.0.0.1", SRTPOff},
		{"sip:forced@127.0.0.1", SRTPRequired},
		{"sip:maybe@127.0.0.1", SRTPOptional},
		{"sip:nobody@127.0.0.1", SRTPOptional},        // not registered: a plain SIP URI
		{"sip:tlsphone@192.0.2.9", SRTPOptional},      // someone else's host: not our user
		{"sips:someone@127.0.0.1:5999", SRTPOptional}, // dialled directly
	}
	for _, c := range cases {
		rt, err := s.routeFor(DialRequest{To: c.to})
		if err != nil {
			t.Fatalf("routeFor(%s): %v", c.to, err)
		}
		if got := rt.srtpPolicy(); got != c.want {
			t.Errorf("policy for %s = %q; want %q", c.to, got, c.want)
		}
	}

	// A trunk's route keeps the trunk's policy.
	for _, p := range []string{"", SRTPOff, SRTPOptional, SRTPRequired} {
		want := p
		if p == "" {
			want = SRTPOptional
		}
		rt := route{trunk: &Trunk{Name: "t", SRTP: p}, srtp: SRTPRequired}
		if got := rt.srtpPolicy(); got != want {
			t.Errorf("trunk srtp %q: policy %q; want %q", p, got, want)
		}
	}

	// A user's explicit setting governs its calls in; unset, they stay
	// optional (SRTP when it offers it).
	for name, want := range map[string]string{"user:forced": SRTPRequired, "user:plainpref": SRTPOff, "user:tlsphone": SRTPOptional, "user:nobody": SRTPOptional} {
		if got := s.srtpPolicy(name); got != want {
			t.Errorf("srtpPolicy(%s) = %q; want %q", name, got, want)
		}
	}
}

// TestUserSRTPValidated: NewServer refuses an unknown srtp for a user.
func TestUserSRTPValidated(t *testing.T) {
	_, err := NewServer(Config{Listen: []string{"udp:127.0.0.1:0"}, Users: []User{{Username: "a", Password: "secret-12", SRTP: "maybe"}}})
	if err == nil {
		t.Fatal("NewServer accepted users[].srtp maybe")
	}
}
