package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// digestRealm is the realm of Voxgate's 401 challenges.
const digestRealm = "voxgate"

// nonceLifetime is how long a nonce we issued stays good. An older one
// gets a new challenge with stale=true.
const nonceLifetime = 5 * time.Minute

// inboundAuth decides which INVITEs may come in (see Trunk). Its trunk
// list is immutable after newInboundAuth; the record of used nonce counts
// has a lock of its own, so it is safe for concurrent use.
type inboundAuth struct {
	trunks     []Trunk
	restricted bool   // some trunk has AllowedIPs or InboundUsername
	nonceKey   []byte // signs our nonces: checking one needs no state
	used       *nonceCounts
}

func newInboundAuth(trunks []Trunk, users []User) inboundAuth {
	a := inboundAuth{trunks: trunks, nonceKey: make([]byte, 32), used: newNonceCounts()}
	_, _ = rand.Read(a.nonceKey) // crypto/rand.Read never fails
	for _, t := range trunks {
		if len(t.AllowedIPs) > 0 || t.InboundUsername != "" {
			a.restricted = true
		}
	}
	// A registered phone calls in with its credentials, like a trunk with
	// an inbound password and no address list (pseudo-trunk "user:NAME").
	// Users alone do not restrict an otherwise open gateway.
	a.trunks = slices.Clone(trunks)
	for _, u := range users {
		a.trunks = append(a.trunks, Trunk{Name: userTrunkPrefix + u.Username, InboundUsername: u.Username, InboundPassword: u.Password})
	}
	return a
}

// verdict is what to do with an INVITE.
type verdict int

const (
	admitted  verdict = iota
	forbidden         // 403
	challenge         // 401 with a fresh nonce
	stale             // 401 with a fresh nonce and stale=true
)

// authRequest is what inboundAuth.check looks at in an INVITE.
type authRequest struct {
	src           netip.Addr // where it came from
	authorization string     // the Authorization header, "" when none
	uri           sipmsg.Uri // its Request-URI
}

// check decides on an INVITE. trunk is the trunk it belongs to, when
// known; why explains a refusal, for the log.
//
// A trunk with AllowedIPs admits only INVITEs from those addresses, and,
// when it also has InboundUsername, only those that pass digest
// authentication too: the address and the password must both hold.
// Digest credentials are tied to the request: the nonce to the source
// address it was issued to (and to nonceLifetime), the response to the
// method and Request-URI, and each nonce count is accepted once.
func (a *inboundAuth) check(req authRequest, now time.Time) (v verdict, trunk, why string) {
	if !a.restricted {
		return admitted, "", ""
	}
	t := a.trunkForAddr(req.src)
	if t != nil && t.InboundUsername == "" {
		return admitted, t.Name, ""
	}
	if req.authorization == "" {
		if t == nil && !a.anyOpenCredentials() {
			return forbidden, "", "source address is not allowed by any trunk"
		}
		return challenge, trunkName(t), "no credentials"
	}
	creds, err := digest.ParseCredentials(req.authorization)
	if err != nil {
		return forbidden, trunkName(t), "unreadable Authorization header"
	}
	if t == nil {
		t = a.trunkForUser(creds.Username)
		if t == nil {
			return forbidden, "", "source address is not allowed and username " + creds.Username + " belongs to no trunk"
		}
		if len(t.AllowedIPs) > 0 {
			return forbidden, t.Name, "source address is not in the trunk's allowed_ips"
		}
	}
	if !sameURI(creds.URI, req.uri) {
		return forbidden, t.Name, "digest uri does not match the Request-URI"
	}
	if err := verifyDigest(creds, "INVITE", t.InboundUsername, t.InboundPassword); err != nil {
		return forbidden, t.Name, err.Error()
	}
	issued, ok := a.nonceIssued(creds.Nonce, req.src)
	switch {
	case !ok:
		return stale, t.Name, "nonce not issued to this address"
	case now.Sub(issued) >= nonceLifetime || now.Sub(issued) < -time.Minute:
		return stale, t.Name, "expired nonce"
	}
	nc, err := nonceCount(creds)
	if err != nil {
		return forbidden, t.Name, err.Error()
	}
	if !a.used.use(creds.Nonce, nc, issued.Add(nonceLifetime), now) {
		return stale, t.Name, "nonce count already used (replayed credentials)"
	}
	return admitted, t.Name, ""
}

// trunkForAddr returns the first trunk whose AllowedIPs hold src.
func (a *inboundAuth) trunkForAddr(src netip.Addr) *Trunk {
	for i := range a.trunks {
		if containsAddr(a.trunks[i].AllowedIPs, src) {
			return &a.trunks[i]
		}
	}
	return nil
}

// trunkForUser returns the trunk whose InboundUsername is user.
func (a *inboundAuth) trunkForUser(user string) *Trunk {
	for i := range a.trunks {
		if a.trunks[i].InboundUsername != "" && a.trunks[i].InboundUsername == user {
			return &a.trunks[i]
		}
	}
	return nil
}

// anyOpenCredentials reports whether some trunk admits callers from any
// address that know its credentials.
func (a *inboundAuth) anyOpenCredentials() bool {
	for _, t := range a.trunks {
		if t.InboundUsername != "" && len(t.AllowedIPs) == 0 {
			return true
		}
	}
	return false
}

func trunkName(t *Trunk) string {
	if t == nil {
		return ""
	}
	return t.Name
}

func containsAddr(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// sameURI reports whether the digest's uri names the Request-URI: the
// same host and port (a missing port is 5060) and, when the digest's uri
// has a user part (SIPp's has none), the same user.
func sameURI(digestURI string, reqURI sipmsg.Uri) bool {
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(strings.TrimSpace(digestURI), &u); err != nil {
		return false
	}
	port := func(p int) int {
		if p == 0 {
			return 5060
		}
		return p
	}
	return (u.User == "" || u.User == reqURI.User) && strings.EqualFold(u.Host, reqURI.Host) && port(u.Port) == port(reqURI.Port)
}

// nonceCount returns the credentials' nonce count: nc with qop=auth, 1
// without qop (the nonce is then good for one request).
func nonceCount(creds *digest.Credentials) (uint64, error) {
	if creds.QOP == "" {
		return 1, nil
	}
	if creds.Nc <= 0 {
		return 0, errors.New("qop=auth without a nonce count")
	}
	return uint64(creds.Nc), nil
}

// verifyDigest checks digest credentials (RFC 2617/7616, qop absent or
// "auth") against the expected user and password.
func verifyDigest(creds *digest.Credentials, method, username, password string) error {
	if creds.Username != username || creds.Userhash {
		return errors.New("wrong username")
	}
	if creds.Realm != digestRealm {
		return errors.New("wrong realm")
	}
	chal := &digest.Challenge{Realm: creds.Realm, Nonce: creds.Nonce, Algorithm: creds.Algorithm, Opaque: creds.Opaque}
	switch creds.QOP {
	case "":
	case "auth":
		chal.QOP = []string{"auth"}
	default:
		return errors.New("unsupported qop " + creds.QOP)
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: method, URI: creds.URI, Username: username, Password: password,
		Cnonce: creds.Cnonce, Count: creds.Nc,
	})
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(want.Response)), []byte(strings.ToLower(creds.Response))) != 1 {
		return errors.New("wrong password (digest response mismatch)")
	}
	return nil
}

// newNonce returns a nonce for a challenge sent to src: its issue time,
// signed with the server's key together with src, so that it is good
// only for requests from that address.
func (a *inboundAuth) newNonce(src netip.Addr, now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	copy(b[8:], a.nonceMAC(b[:8], src))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *inboundAuth) nonceMAC(stamp []byte, src netip.Addr) []byte {
	m := hmac.New(sha256.New, a.nonceKey)
	m.Write(stamp)
	ip := src.Unmap().As16()
	m.Write(ip[:])
	return m.Sum(nil)[:16]
}

// nonceIssued returns when we issued nonce to src; ok is false when we
// did not (another server, another address, garbage).
func (a *inboundAuth) nonceIssued(nonce string, src netip.Addr) (issued time.Time, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 || !hmac.Equal(b[8:], a.nonceMAC(b[:8], src)) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))), true
}

// challengeHeader is the WWW-Authenticate header of a 401.
func (a *inboundAuth) challengeHeader(src netip.Addr, now time.Time, isStale bool) sipmsg.Header {
	c := digest.Challenge{Realm: digestRealm, Nonce: a.newNonce(src, now), Algorithm: "MD5", QOP: []string{"auth"}, Stale: isStale}
	return sipmsg.NewHeader("WWW-Authenticate", c.String())
}

// admit applies the trunks' inbound rules to a new INVITE: it answers 401
// or 403 itself and reports false, or reports true and the trunk the call
// belongs to.
func (s *Server) admit(req *sipmsg.Request, tx sipmsg.ServerTransaction, log *slog.Logger) (trunk string, ok bool) {
	src, _ := netip.ParseAddrPort(req.Source())
	authz := ""
	if h := req.GetHeader("Authorization"); h != nil {
		authz = h.Value()
	}
	now := time.Now()
	v, trunk, why := s.auth.check(authRequest{src: src.Addr(), authorization: authz, uri: req.Recipient}, now)
	switch v {
	case admitted:
		return trunk, true
	case challenge, stale:
		log.Debug("sip: INVITE challenged", "source", src.Addr().String(), "trunk", trunk, "why", why)
		s.respond(req, tx, 401, "Unauthorized", s.auth.challengeHeader(src.Addr(), now, v == stale))
	default:
		log.Warn("sip: INVITE forbidden", "code", 403, "source", src.Addr().String(), "trunk", trunk, "why", why)
		s.respond(req, tx, 403, "Forbidden")
	}
	return "", false
}
