package sip

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// DefaultMinSE is RFC 4028's smallest session interval (Min-SE), 90 s.
const DefaultMinSE = 90 * time.Second

// DefaultSessionExpires is the session interval our INVITEs ask for, and
// the one an inbound call gets when its caller supports timer without
// asking for one (RFC 4028 §4 recommends 30 minutes).
const DefaultSessionExpires = 30 * time.Minute

// sessionTimer is a call's negotiated RFC 4028 session timer: someone
// refreshes the session (re-INVITE or UPDATE) every interval/2; when no
// refresh comes, the session ends. A refresh may change the interval and
// who refreshes, so both are read under mu.
type sessionTimer struct {
	remoteSup bool // the far end supports timer (Require: timer in our 2xx)
	reset     chan struct{}

	mu        sync.Mutex
	interval  time.Duration
	weRefresh bool // we are the refresher
}

func newSessionTimer(interval time.Duration, weRefresh, remoteSup bool) *sessionTimer {
	return &sessionTimer{interval: interval, weRefresh: weRefresh, remoteSup: remoteSup, reset: make(chan struct{}, 1)}
}

// state returns the interval and whether we refresh.
func (t *sessionTimer) state() (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.interval, t.weRefresh
}

// set changes the interval and the refresher (after a refresh).
func (t *sessionTimer) set(interval time.Duration, weRefresh bool) {
	t.mu.Lock()
	t.interval, t.weRefresh = interval, weRefresh
	t.mu.Unlock()
}

// parseSessionExpires reads "delta[;refresher=uac|uas]".
func parseSessionExpires(v string) (secs int, refresher string, ok bool) {
	parts := strings.Split(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n <= 0 {
		return 0, "", false
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return n, refresher, true
}

// headerReader is a request or a response, read by header name.
type headerReader interface {
	GetHeader(name string) sipmsg.Header
	GetHeaders(name string) []sipmsg.Header
}

// parseMinSE reads a Min-SE value ("delta-seconds", parameters ignored).
func parseMinSE(m headerReader) (time.Duration, bool) {
	h := m.GetHeader("Min-SE")
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func headerValue(m headerReader, names ...string) (string, bool) {
	for _, n := range names {
		if h := m.GetHeader(n); h != nil {
			return h.Value(), true
		}
	}
	return "", false
}

// hasOption reports whether a Supported (k) or Require header of m names
// the option tag opt.
func hasOption(m headerReader, opt string, names ...string) bool {
	for _, name := range names {
		for _, h := range m.GetHeaders(name) {
			for _, o := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(o), opt) {
					return true
				}
			}
		}
	}
	return false
}

func supportsTimer(m headerReader) bool { return hasOption(m, "timer", "Supported", "k", "Require") }

// allowsUpdate reports whether m's Allow header lists UPDATE (RFC 3311
// §5.1: a UA that does not list it may not support it).
func allowsUpdate(m headerReader) bool {
	for _, h := range m.GetHeaders("Allow") {
		for _, o := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(o), "UPDATE") {
				return true
			}
		}
	}
	return false
}

// negotiateTimer reads an INVITE's Session-Expires and Min-SE (RFC 4028
// §9). An interval below our Min-SE gets 422 with Min-SE (ok false). A
// caller that supports timer without asking for one gets our default
// interval (at least its Min-SE), refreshed by itself; a caller that
// neither asks nor supports it gets no session timer (nil).
func (s *Server) negotiateTimer(req *sipmsg.Request, tx sipmsg.ServerTransaction) (*sessionTimer, bool) {
	remoteSup := supportsTimer(req)
	v, ok := headerValue(req, "Session-Expires", "x")
	if !ok {
		if !remoteSup || s.sessionExpires() <= 0 {
			return nil, true
		}
		interval := max(s.sessionExpires(), s.minSE())
		if theirs, ok := parseMinSE(req); ok {
			interval = max(interval, theirs)
		}
		return newSessionTimer(interval, false, true), true
	}
	secs, refresher, ok := parseSessionExpires(v)
	minSE := s.minSE()
	if !ok || time.Duration(secs)*time.Second < minSE {
		s.respond(req, tx, 422, "Session Interval Too Small", sipmsg.NewHeader("Min-SE", strconv.Itoa(int(minSE/time.Second))))
		return nil, false
	}
	// §9: without a refresher the UAC picked, it refreshes when it
	// supports timer; else we do.
	weRefresh := refresher == "uas" || refresher == "" && !remoteSup
	return newSessionTimer(time.Duration(secs)*time.Second, weRefresh, remoteSup), true
}

func (s *Server) minSE() time.Duration {
	if s.cfg.MinSE > 0 {
		return s.cfg.MinSE
	}
	return DefaultMinSE
}

// sessionExpires is the interval we ask for; negative turns session
// timers off for calls we place (and for callers that do not ask).
func (s *Server) sessionExpires() time.Duration {
	switch {
	case s.cfg.SessionExpires < 0:
		return 0
	case s.cfg.SessionExpires == 0:
		return DefaultSessionExpires
	}
	return s.cfg.SessionExpires
}

// seHeader is our Session-Expires for a message of a transaction in which
// we are the UAC (our refresh requests) or the UAS (our answers): the
// refresher parameter names the side of that transaction (RFC 4028 §4).
func (t *sessionTimer) seHeader(weAreUAC bool) sipmsg.Header {
	interval, weRefresh := t.state()
	refresher := "uac"
	if weRefresh != weAreUAC {
		refresher = "uas"
	}
	return sipmsg.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", int(interval/time.Second), refresher))
}

// headers are what our 2xx (to the INVITE and to refreshes) carry.
func (t *sessionTimer) headers() []sipmsg.Header {
	hs := []sipmsg.Header{t.seHeader(false)}
	if t.remoteSup {
		hs = append(hs, sipmsg.NewHeader("Require", "timer"))
	}
	return hs
}

// refreshed tells the timer a refresh arrived or succeeded.
func (t *sessionTimer) refreshed() {
	if t == nil {
		return
	}
	select {
	case t.reset <- struct{}{}:
	default:
	}
}

// expiryWait is how long the refreshee waits for a refresh before ending
// the session: interval − min(32 s, interval/3) (RFC 4028 §10).
func expiryWait(interval time.Duration) time.Duration {
	return interval - min(32*time.Second, interval/3)
}

// runSessionTimer runs the call's session timer until the call ends. As
// refresher we refresh every interval/2 (sendRefresh: UPDATE or
// re-INVITE) and end the call when a refresh fails
// ("session-refresh-failed"); as refreshee, without a refresh for
// expiryWait(interval) the call ends with "session-expired". Either way
// the BYE carries a Reason header and the call's owner sends it.
func (s *session) runSessionTimer(t *sessionTimer) {
	for {
		interval, weRefresh := t.state()
		wait := expiryWait(interval)
		if weRefresh {
			wait = interval / 2
		}
		timer := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			timer.Stop()
			return
		case <-t.reset:
			timer.Stop()
			continue
		case <-timer.C:
		}
		if !weRefresh {
			s.log.Warn("sip: session expired without a refresh; ending the call", "interval", interval.String())
			s.setByeReason(`SIP;cause=408;text="Session timer expired"`)
			s.stop("session-expired")
			return
		}
		method, err := s.sendRefresh(t)
		if s.ctx.Err() != nil {
			return // the call ended meanwhile, for another reason
		}
		if err != nil {
			s.log.Warn("sip: session refresh failed; ending the call", "method", method, "error", err)
			s.setByeReason(fmt.Sprintf(`SIP;cause=%d;text="Session refresh failed"`, refreshFailureCode(err)))
			s.stop("session-refresh-failed")
			return
		}
		s.log.Debug("sip: session refreshed", "method", method)
	}
}

// refreshTimerRequest reads the Session-Expires of a refresh the far end
// sends (re-INVITE or UPDATE) and applies it: a new interval, and who
// refreshes from now on (refresher=uac: the far end, which sent the
// request). An interval below our Min-SE is answered 422 (ok false).
// Without Session-Expires nothing changes; with one on a call that has
// no session timer yet, one starts.
func (s *session) refreshTimerRequest(req *sipmsg.Request, tx sipmsg.ServerTransaction) (t *sessionTimer, ok bool) {
	s.mu.Lock()
	t, established := s.timer, s.established
	s.mu.Unlock()
	v, has := headerValue(req, "Session-Expires", "x")
	if !has || t == nil && !established {
		return t, true // (an early-dialog UPDATE starts no timer)
	}
	secs, refresher, valid := parseSessionExpires(v)
	minSE := s.srv.minSE()
	if !valid || time.Duration(secs)*time.Second < minSE {
		s.srv.respond(req, tx, 422, "Session Interval Too Small", sipmsg.NewHeader("Min-SE", strconv.Itoa(int(minSE/time.Second))))
		return nil, false
	}
	if t == nil {
		// A session timer set up in the middle of the call (§9 applies
		// to re-INVITEs and UPDATEs too).
		remoteSup := supportsTimer(req)
		t = newSessionTimer(time.Duration(secs)*time.Second, refresher == "uas" || refresher == "" && !remoteSup, remoteSup)
		s.mu.Lock()
		s.timer = t
		s.mu.Unlock()
		s.log.Info("call: session timer started by the far end", "interval", t.interval.String())
		s.startSessionTimer(t)
		return t, true
	}
	_, weRefresh := t.state()
	switch refresher {
	case "uac":
		weRefresh = false
	case "uas":
		weRefresh = true
	}
	t.set(time.Duration(secs)*time.Second, weRefresh)
	return t, true
}

// update answers an UPDATE in the dialog (RFC 3311): a session refresh,
// with or without a new offer; an offer moves the media to its address
// and codec.
func (s *session) update(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	t, ok := s.refreshTimerRequest(req, tx)
	if !ok {
		return
	}
	body := req.Body()
	s.mu.Lock()
	if len(body) > 0 {
		offer, err := ParseOffer(body)
		if err == nil {
			err = checkOfferFamily(offer, s.srv.cfg.PublicIP)
		}
		if err != nil {
			s.mu.Unlock()
			s.srv.respond(req, tx, 488, "Not Acceptable Here")
			return
		}
		s.sdpVersion++
		s.applyRemoteLocked(offer)
		body = s.localSDPLocked()
		s.log.Info("call: UPDATE with SDP", "hold", offer.OnHold(), "remote", offer.Remote.String(), "codec", offer.Codec.Name)
	}
	s.mu.Unlock()
	var res *sipmsg.Response
	if len(body) > 0 {
		res = sipmsg.NewSDPResponseFromRequest(req, body)
	} else {
		res = sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	}
	res.AppendHeader(sipmsg.HeaderClone(&s.contact))
	if t != nil {
		t.refreshed()
		for _, h := range t.headers() {
			res.AppendHeader(h)
		}
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: answer UPDATE", "error", err)
	}
}

func (s *Server) onUpdate(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	call := s.lookup(req)
	if call == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	call.update(req, tx)
}
