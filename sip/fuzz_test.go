package sip

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// seedInvite is a well-formed INVITE with the headers our code reads.
const seedInvite = "INVITE sip:+15550001000@127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds\r\n" +
	"From: \"Alice\" <sip:+15550001111@127.0.0.1>;tag=1928301774\r\n" +
	"To: <sip:+15550001000@127.0.0.1>\r\n" +
	"Call-ID: a84b4c76e66710@pc33\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:alice@127.0.0.1:5070>\r\n" +
	"X-Customer: 42\r\n" +
	"Authorization: Digest username=\"pbx\",realm=\"voxgate\",nonce=\"abc\",uri=\"sip:127.0.0.1\",response=\"00\",qop=auth,nc=00000001,cnonce=\"x\"\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 61\r\n\r\n" +
	"v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n"

// FuzzRequestHeaders feeds what sipgo parses off the wire to every piece
// of our own code that reads a request's headers and body: the trunk
// admission check (Authorization, Request-URI, source), the caller and
// dialled number, X- headers, the SDP offer and its family check, INFO
// DTMF bodies, and the number/URI normalizers used on them. None may
// panic; credentials are never admitted twice.
func FuzzRequestHeaders(f *testing.F) {
	f.Add([]byte(seedInvite))
	f.Add([]byte(strings.Replace(seedInvite, "INVITE sip:", "INFO sip:", 1)))
	f.Add([]byte("INFO sip:1@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n"))
	f.Add([]byte("INVITE sip:h SIP/2.0\r\nFrom: x\r\nTo: y\r\nX-: \r\nAuthorization: Digest\r\nContent-Length: 0\r\n\r\n"))
	parser := sipmsg.NewParser()
	pbx := Trunk{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw", AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok {
			return
		}
		req.SetSource("127.0.0.1:5070")
		_ = callID(req)
		_ = uriUser(req.From())
		_ = uriUser(req.To())
		for k := range xHeaders(req) {
			if !strings.HasPrefix(k, "x-") || strings.ToLower(k) != k {
				t.Fatalf("xHeaders key %q", k)
			}
		}
		for _, h := range req.Headers() {
			_ = extraHeaderAllowed(h.Name(), h.Value())
		}
		_, _ = normalizeNumber(req.Recipient.User)
		_, _ = parseSIPTarget(req.Recipient.String())
		if offer, err := ParseOffer(req.Body()); err == nil {
			_ = checkOfferFamily(offer, netip.MustParseAddr("127.0.0.1"))
		}
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if key, ok, err := ParseInfoDTMF(ct, req.Body()); ok && err == nil && !strings.ContainsRune("0123456789*#ABCD", rune(key)) {
			t.Fatalf("INFO DTMF key %q", key)
		}
		authz := ""
		if h := req.GetHeader("Authorization"); h != nil {
			authz = h.Value()
		}
		a := newInboundAuth([]Trunk{pbx}, nil)
		r := authRequest{src: sourceAddr(req), authorization: authz, uri: req.Recipient}
		v1, _, _ := a.check(r, now)
		v2, _, _ := a.check(r, now)
		if v1 == admitted && v2 == admitted {
			t.Fatal("the same credentials were admitted twice")
		}
	})
}

// FuzzDigestCredentials mutates a correct Authorization header: whatever
// comes out may be admitted at most once, and only with an untouched
// response for the Request-URI it names.
func FuzzDigestCredentials(f *testing.F) {
	pbx := Trunk{Name: "pbx", InboundUsername: "pbx", InboundPassword: "pw"}
	a := newInboundAuth([]Trunk{pbx}, nil)
	now := time.Unix(1_800_000_000, 0)
	src := netip.MustParseAddr("127.0.0.1")
	chal, err := digest.ParseChallenge(a.challengeHeader(src, now, false).Value())
	if err != nil {
		f.Fatal(err)
	}
	for _, nc := range []int{1, 2, 77} {
		c, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: testURI.String(), Username: "pbx", Password: "pw", Count: nc})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.String(), "1000", "127.0.0.1")
	}
	f.Add(`Digest username="pbx", realm="voxgate", nonce="", uri="sip:", response=""`, "", "::1")
	f.Fuzz(func(t *testing.T, authz, user, ip string) {
		from, err := netip.ParseAddr(ip)
		if err != nil {
			return
		}
		g := newInboundAuth([]Trunk{pbx}, nil)
		g.nonceKey = a.nonceKey // the nonces of the seeds stay good
		r := authRequest{src: from, authorization: authz, uri: sipmsg.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}}
		v1, _, _ := g.check(r, now)
		v2, _, _ := g.check(r, now)
		if v2 == admitted {
			t.Fatalf("admitted twice (first %v)", v1)
		}
		if v1 == admitted {
			creds, err := digest.ParseCredentials(authz)
			if err != nil || verifyDigest(creds, "INVITE", "pbx", "pw") != nil || !sameURI(creds.URI, r.uri) {
				t.Fatalf("admitted credentials that do not verify: %q", authz)
			}
		}
	})
}
