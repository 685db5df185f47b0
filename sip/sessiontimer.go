package sip

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// DefaultMinSE is RFC 4028's smallest session interval (Min-SE), 90 s.
const DefaultMinSE = 90 * time.Second

// sessionTimer is a call's negotiated RFC 4028 session timer: someone
// refreshes the session (re-INVITE or UPDATE) every interval/2; when no
// refresh comes, the session ends.
type sessionTimer struct {
	interval  time.Duration
	weRefresh bool // we are the refresher (refresher=uas on an inbound call)
	remoteSup bool // the far end supports timer (Require: timer in our 2xx)
	reset     chan struct{}
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

func headerValue(req *sipmsg.Request, names ...string) (string, bool) {
	for _, n := range names {
		if h := req.GetHeader(n); h != nil {
			return h.Value(), true
		}
	}
	return "", false
}

func supportsTimer(req *sipmsg.Request) bool {
	for _, name := range []string{"Supported", "k", "Require"} {
		for _, h := range req.GetHeaders(name) {
			for _, opt := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(opt), "timer") {
					return true
				}
			}
		}
	}
	return false
}

// negotiateTimer reads an INVITE's Session-Expires (RFC 4028 §9). An
// interval below our Min-SE gets 422 with Min-SE (ok false); no
// Session-Expires means no session timer (nil).
func (s *Server) negotiateTimer(req *sipmsg.Request, tx sipmsg.ServerTransaction) (*sessionTimer, bool) {
	v, ok := headerValue(req, "Session-Expires", "x")
	if !ok {
		return nil, true
	}
	secs, refresher, ok := parseSessionExpires(v)
	minSE := s.minSE()
	if !ok || time.Duration(secs)*time.Second < minSE {
		s.respond(req, tx, 422, "Session Interval Too Small", sipmsg.NewHeader("Min-SE", strconv.Itoa(int(minSE/time.Second))))
		return nil, false
	}
	t := &sessionTimer{interval: time.Duration(secs) * time.Second, remoteSup: supportsTimer(req), reset: make(chan struct{}, 1)}
	// §9: without a refresher the UAC picked, it refreshes when it
	// supports timer; else we do.
	t.weRefresh = refresher == "uas" || refresher == "" && !t.remoteSup
	return t, true
}

func (s *Server) minSE() time.Duration {
	if s.cfg.MinSE > 0 {
		return s.cfg.MinSE
	}
	return DefaultMinSE
}

// headers are what our 2xx (and our refreshes) carry.
func (t *sessionTimer) headers() []sipmsg.Header {
	refresher := "uac"
	if t.weRefresh {
		refresher = "uas"
	}
	hs := []sipmsg.Header{sipmsg.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", int(t.interval/time.Second), refresher))}
	if t.remoteSup {
		hs = append(hs, sipmsg.NewHeader("Require", "timer"))
	}
	return hs
}

// refreshed tells the timer a refresh arrived (re-INVITE or UPDATE).
func (t *sessionTimer) refreshed() {
	if t == nil {
		return
	}
	select {
	case t.reset <- struct{}{}:
	default:
	}
}

// runSessionTimer runs the call's session timer until the call ends. As
// refresher we send UPDATE every interval/2 and end the call when one
// fails ("session-refresh-failed"); else, without a refresh for
// interval − min(32 s, interval/3) (RFC 4028 §10), the call ends with
// "session-expired". Either way the call's owner sends the BYE.
func (s *session) runSessionTimer(t *sessionTimer, refresh func() error) {
	for {
		wait := t.interval - min(32*time.Second, t.interval/3)
		if t.weRefresh {
			wait = t.interval / 2
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
		if !t.weRefresh {
			s.log.Warn("sip: session expired without a refresh; ending the call", "interval", t.interval.String())
			s.stop("session-expired")
			return
		}
		if err := refresh(); err != nil {
			s.log.Warn("sip: session refresh failed; ending the call", "error", err)
			s.stop("session-refresh-failed")
			return
		}
		s.log.Debug("sip: session refreshed (UPDATE)")
	}
}

// sendUpdateRefresh refreshes the session with an UPDATE without SDP
// (RFC 4028 §7.4, RFC 3311); a final response other than 2xx fails.
func (c *InboundCall) sendUpdateRefresh() error {
	req := sipmsg.NewRequest(sipmsg.UPDATE, c.dialog.InviteRequest.Contact().Address)
	c.inDialogTarget(req)
	for _, h := range c.timer.headers() {
		if h.Name() != "Require" {
			req.AppendHeader(h)
		}
	}
	req.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
	res, err := byeTransaction(c.dlg, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("UPDATE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// update answers an UPDATE in the dialog (RFC 3311): a session refresh,
// with or without a new offer.
func (s *session) update(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
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
	}
	t := s.timer
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
