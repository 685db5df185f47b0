package sip

import (
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// User is a SIP phone or softphone allowed to register with the gateway
// (like a Twilio SIP Domain's credential list).
type User struct {
	Username, Password string
	// CallerID, when set, is the From of calls the phone makes once
	// authenticated; else its own From user.
	CallerID string
	// SRTP is the media encryption of calls to and from the phone:
	// SRTPRequired (we dial it with RTP/SAVP and SDES, refuse an answer
	// without crypto, and refuse its plain RTP offers), SRTPOptional or
	// SRTPOff (we dial it with plain RTP; an SRTP offer from it is
	// accepted, or with off refused). "" means required when the phone
	// registered over TLS and off otherwise for our calls to it, and
	// optional for its calls to us.
	SRTP string
}

// offerPolicy is the SRTP policy of our calls to user reached over
// transport (see User.SRTP): its own, or by default required over TLS,
// where the keys in the SDP are protected, and off otherwise.
func (u User) offerPolicy(transport string) string {
	switch {
	case u.SRTP != "":
		return u.SRTP
	case transport == "TLS":
		return SRTPRequired
	}
	return SRTPOff
}

// Registration limits (RFC 3261 §10.2.1.1, §10.3).
const (
	minRegisterExpires     = 60
	maxRegisterExpires     = 3600
	defaultRegisterExpires = 3600
)

// userTrunkPrefix names the pseudo-trunk of calls from an authenticated
// phone: "user:alice".
const userTrunkPrefix = "user:"

// binding is where a registered user is reached: the Contact of its last
// REGISTER (one per user: the latest wins).
type binding struct {
	contact   sipmsg.Uri
	transport string // "UDP", "TCP", "TLS"
	expires   time.Time
	// dest, for a phone registering from behind NAT or over TLS
	// (registrationDest), is the address its REGISTER came from:
	// INVITEs for it go there.
	dest string
}

// registrar keeps the bindings of registered users.
type registrar struct {
	users map[string]User
	mu    sync.Mutex
	bound map[string]binding
}

func newRegistrar(users []User) *registrar {
	r := &registrar{users: map[string]User{}, bound: map[string]binding{}}
	for _, u := range users {
		r.users[u.Username] = u
	}
	return r
}

// lookup returns user's live binding.
func (r *registrar) lookup(user string, now time.Time) (binding, bool) {
	if r == nil {
		return binding{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bound[user]
	if ok && !now.Before(b.expires) {
		delete(r.bound, user)
		return binding{}, false
	}
	return b, ok
}

// Registered reports whether user has a live registration.
func (s *Server) Registered(user string) bool {
	_, ok := s.reg.lookup(user, time.Now())
	return ok
}

// registered sends a dial to one of our own addresses for a registered
// user ("sip:alice@<our address>") to the phone's registered Contact.
func (s *Server) registered(rt route) route {
	user := rt.uri.User
	b, ok := s.reg.lookup(user, time.Now())
	if !ok || !s.isOwnHost(rt.uri.Host) {
		return rt
	}
	rt.srtp = s.reg.users[user].offerPolicy(b.transport)
	rt.uri = b.contact
	rt.transport = b.transport
	rt.dest = b.dest
	return rt
}

// UserURI is the SIP URI that reaches the registered user: dialled, it
// goes to the phone's Contact.
func (s *Server) UserURI(user string) string {
	host := s.cfg.PublicIP.String()
	if s.cfg.PublicIP.Is6() {
		host = "[" + host + "]"
	}
	return "sip:" + user + "@" + host
}

func (s *Server) isOwnHost(host string) bool {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	a = a.Unmap()
	if a == s.cfg.PublicIP {
		return true
	}
	for _, l := range s.Listeners() {
		if l.Addr.Addr() == a {
			return true
		}
	}
	return false
}

// onRegister is the registrar (RFC 3261 §10.3): a configured user
// authenticates with digest (the nonces and nonce counts of trunk
// authentication: tied to the source address, 5 minutes, each count
// once) and registers one Contact for its own address of record.
func (s *Server) onRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if len(s.reg.users) == 0 {
		s.respond(req, tx, 405, "Method Not Allowed", sipmsg.NewHeader("Allow", allowedMethods))
		return
	}
	log := s.log.With("sip_call_id", callID(req))
	user, ok := s.authenticateUser(req, tx, "REGISTER", log)
	if !ok {
		return
	}
	if to := req.To(); to == nil || to.Address.User != user.Username {
		log.Warn("sip: REGISTER for another user's address refused", "code", 403, "user", user.Username)
		s.respond(req, tx, 403, "Forbidden")
		return
	}
	expires := defaultRegisterExpires
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			expires = n
		}
	}
	contact := req.Contact()
	if contact != nil && contact.Params != nil {
		if v, ok := contact.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				expires = n
			}
		}
	}
	now := time.Now()
	switch {
	case contact == nil: // a query: answer the current binding
	case contact.Address.Wildcard || expires == 0:
		s.reg.mu.Lock()
		delete(s.reg.bound, user.Username)
		s.reg.mu.Unlock()
		log.Info("sip: unregistered", "user", user.Username)
	case expires < minRegisterExpires:
		s.respond(req, tx, 423, "Interval Too Brief", sipmsg.NewHeader("Min-Expires", strconv.Itoa(minRegisterExpires)))
		return
	default:
		expires = min(expires, maxRegisterExpires)
		b := binding{contact: *contact.Address.Clone(), transport: strings.ToUpper(req.Transport()), expires: now.Add(time.Duration(expires) * time.Second)}
		b.contact.UriParams = b.contact.UriParams.Clone()
		b.dest = registrationDest(req)
		s.reg.mu.Lock()
		s.reg.bound[user.Username] = b
		s.reg.mu.Unlock()
		log.Info("sip: registered", "user", user.Username, "contact", b.contact.String(), "expires", expires, "source", req.Source())
	}
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	if b, ok := s.reg.lookup(user.Username, now); ok {
		left := int(b.expires.Sub(now).Round(time.Second) / time.Second)
		res.AppendHeader(sipmsg.NewHeader("Contact", "<"+b.contact.String()+">;expires="+strconv.Itoa(left)))
	}
	if err := tx.Respond(res); err != nil {
		log.Debug("sip: respond to REGISTER failed", "error", err)
	}
}

// authenticateUser checks a request's digest credentials against the
// configured users; it answers 401 or 403 itself when they do not hold.
func (s *Server) authenticateUser(req *sipmsg.Request, tx sipmsg.ServerTransaction, method string, log *slog.Logger) (User, bool) {
	src, _ := netip.ParseAddrPort(req.Source())
	now := time.Now()
	h := req.GetHeader("Authorization")
	if h == nil {
		s.respond(req, tx, 401, "Unauthorized", s.auth.challengeHeader(src.Addr(), now, false))
		return User{}, false
	}
	creds, err := digest.ParseCredentials(h.Value())
	refuse := func(why string) (User, bool) {
		log.Warn("sip: "+method+" forbidden", "code", 403, "source", src.Addr().String(), "why", why)
		s.respond(req, tx, 403, "Forbidden")
		return User{}, false
	}
	if err != nil {
		return refuse("unreadable Authorization header")
	}
	user, ok := s.reg.users[creds.Username]
	if !ok {
		return refuse("unknown user " + creds.Username)
	}
	if !sameURI(creds.URI, req.Recipient) {
		return refuse("digest uri does not match the Request-URI")
	}
	if err := verifyDigest(creds, method, user.Username, user.Password); err != nil {
		return refuse(err.Error())
	}
	issued, ok := s.auth.nonceIssued(creds.Nonce, src.Addr())
	nc, ncErr := nonceCount(creds)
	switch {
	case !ok || now.Sub(issued) >= nonceLifetime || now.Sub(issued) < -time.Minute:
	case ncErr != nil:
		return refuse(ncErr.Error())
	case s.auth.used.use(creds.Nonce, nc, issued.Add(nonceLifetime), now):
		return user, true
	}
	s.respond(req, tx, 401, "Unauthorized", s.auth.challengeHeader(src.Addr(), now, true))
	return User{}, false
}
