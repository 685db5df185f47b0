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

// inboundAuth decides which INVITEs may come in (see Trunk). It is
// immutable after newInboundAuth, so it is safe for concurrent use.
type inboundAuth struct {
	trunks     []Trunk
	restricted bool   // some trunk has AllowedIPs or InboundUsername
	nonceKey   []byte // signs our nonces, so checking one needs no state
}

func newInboundAuth(trunks []Trunk) inboundAuth {
	a := inboundAuth{trunks: trunks, nonceKey: make([]byte, 32)}
	_, _ = rand.Read(a.nonceKey) // crypto/rand.Read never fails
	for _, t := range trunks {
		if len(t.AllowedIPs) > 0 || t.InboundUsername != "" {
			a.restricted = true
		}
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

// check decides on an INVITE from src carrying the given Authorization
// header value ("" when none). trunk is the trunk it belongs to, when
// known; why explains a refusal, for the log.
func (a *inboundAuth) check(src netip.Addr, authorization string, now time.Time) (v verdict, trunk, why string) {
	if !a.restricted {
		return admitted, "", ""
	}
	var t *Trunk
	for i := range a.trunks {
		if containsAddr(a.trunks[i].AllowedIPs, src) {
			t = &a.trunks[i]
			break
		}
	}
	if t != nil && t.InboundUsername == "" {
		return admitted, t.Name, ""
	}
	if authorization == "" {
		if t == nil && !a.anyCredentials() {
			return forbidden, "", "source address is not allowed by any trunk"
		}
		return challenge, trunkName(t), "no credentials"
	}
	creds, err := digest.ParseCredentials(authorization)
	if err != nil {
		return forbidden, trunkName(t), "unreadable Authorization header"
	}
	if t == nil {
		for i := range a.trunks {
			if a.trunks[i].InboundUsername != "" && a.trunks[i].InboundUsername == creds.Username {
				t = &a.trunks[i]
				break
			}
		}
		if t == nil {
			return forbidden, "", "source address is not allowed and username " + creds.Username + " belongs to no trunk"
		}
	}
	if !a.nonceValid(creds.Nonce, now) {
		return stale, t.Name, "expired or unknown nonce"
	}
	if err := verifyDigest(creds, "INVITE", t.InboundUsername, t.InboundPassword); err != nil {
		return forbidden, t.Name, err.Error()
	}
	return admitted, t.Name, ""
}

func (a *inboundAuth) anyCredentials() bool {
	for _, t := range a.trunks {
		if t.InboundUsername != "" {
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

// newNonce returns a nonce carrying its issue time, signed with the
// server's key.
func (a *inboundAuth) newNonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
	copy(b[8:], a.nonceMAC(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *inboundAuth) nonceMAC(stamp []byte) []byte {
	m := hmac.New(sha256.New, a.nonceKey)
	m.Write(stamp)
	return m.Sum(nil)[:16]
}

// nonceValid reports whether we issued nonce less than nonceLifetime ago.
func (a *inboundAuth) nonceValid(nonce string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 || !hmac.Equal(b[8:], a.nonceMAC(b[:8])) {
		return false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := now.Sub(issued)
	return age >= -time.Minute && age < nonceLifetime
}

// challengeHeader is the WWW-Authenticate header of a 401.
func (a *inboundAuth) challengeHeader(now time.Time, isStale bool) sipmsg.Header {
	c := digest.Challenge{Realm: digestRealm, Nonce: a.newNonce(now), Algorithm: "MD5", QOP: []string{"auth"}, Stale: isStale}
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
	v, trunk, why := s.auth.check(src.Addr(), authz, now)
	switch v {
	case admitted:
		return trunk, true
	case challenge, stale:
		log.Debug("sip: INVITE challenged", "source", src.Addr().String(), "trunk", trunk, "why", why)
		s.respond(req, tx, 401, "Unauthorized", s.auth.challengeHeader(now, v == stale))
	default:
		log.Warn("sip: INVITE forbidden", "code", 403, "source", src.Addr().String(), "trunk", trunk, "why", why)
		s.respond(req, tx, 403, "Forbidden")
	}
	return "", false
}
