package sip

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
)

// dialog is the part of a sipgo dialog session a call needs. Both
// *sipgo.DialogServerSession (inbound calls) and *sipgo.DialogClientSession
// (outbound calls) have it.
type dialog interface {
	Context() context.Context
	LoadState() sipmsg.DialogState
	Bye(ctx context.Context) error
	ReadBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) error
}

// session is what inbound and outbound calls share once their dialog
// exists: identity, the RTP leg, the far end's media, our SDP versioning,
// the in-dialog requests the far end sends (re-INVITE, INFO, BYE) and the
// end-of-call bookkeeping. The Server keeps its calls as sessions.
type session struct {
	srv     *Server
	sid     string
	log     *slog.Logger
	leg     *media.RTPLeg
	dlg     dialog
	contact sipmsg.ContactHeader // ours, put in responses inside the dialog

	ctx    context.Context // ends when the call ends
	cancel context.CancelFunc
	// stopShutdownWatch unhooks the call from the Server's shutdown; the
	// call's owner calls it when the call is over.
	stopShutdownWatch func() bool

	mu         sync.Mutex // guards the fields below, and the owning call's state
	dialogID   string     // the key the Server finds the call by; set once the dialog exists
	remote     Offer      // the far end's current media (from its offer or its answer)
	sessionID  uint64     // our SDP o= session id
	sdpVersion uint64     // our SDP o= version, bumped for every new SDP we send
	byeSent    bool
	endReason  string
}

// init prepares the shared part of a call. The call ends when dlg's
// context ends (BYE, CANCEL), when cancel is called, or with reason
// "shutdown" when the Server shuts down.
func (s *session) init(srv *Server, callSID string, log *slog.Logger, leg *media.RTPLeg, dlg dialog, contact sipmsg.ContactHeader, remote Offer) {
	s.srv, s.sid, s.log, s.leg, s.dlg, s.contact, s.remote = srv, callSID, log, leg, dlg, contact, remote
	s.ctx, s.cancel = context.WithCancel(dlg.Context())
	s.stopShutdownWatch = context.AfterFunc(srv.ctx, func() { s.stop("shutdown") })
	s.sessionID = rand.Uint64N(1 << 62)
	s.sdpVersion = 1
}

// SID is the call's CA SID.
func (s *session) SID() string { return s.sid }

// Leg is the call's audio.
func (s *session) Leg() media.Leg { return s.leg }

// RTPLeg is the call's audio as the concrete RTP leg.
func (s *session) RTPLeg() *media.RTPLeg { return s.leg }

// Done is closed when the call has ended for any reason.
func (s *session) Done() <-chan struct{} { return s.ctx.Done() }

// Logger is the call's logger (it carries call_sid).
func (s *session) Logger() *slog.Logger { return s.log }

// EndReason says why the call ended ("remote-bye", "local-bye", "shutdown",
// "media: rtp-timeout", ...), or "" while it is up.
func (s *session) EndReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endReason == "" && s.ctx.Err() != nil {
		return "canceled"
	}
	return s.endReason
}

// setEnd records why the call ends; the first reason wins.
func (s *session) setEnd(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.endReason == "" {
		s.endReason = reason
	}
}

// stop ends the call for reason; whoever owns the call then hangs it up.
func (s *session) stop(reason string) {
	s.setEnd(reason)
	s.cancel()
}

// watchMedia ends the call when its RTP leg dies (inactivity timeout,
// socket error). It returns when either has ended.
func (s *session) watchMedia() {
	select {
	case <-s.ctx.Done():
	case <-s.leg.Done():
		s.stop("media: " + s.leg.Reason())
	}
}

// sendBye sends BYE once, unless the dialog has already ended. sent says
// whether a BYE went out.
func (s *session) sendBye(ctx context.Context) (sent bool, err error) {
	s.mu.Lock()
	if s.byeSent {
		s.mu.Unlock()
		return false, nil
	}
	s.byeSent = true
	s.mu.Unlock()
	if s.dlg.LoadState() == sipmsg.DialogStateEnded {
		return false, nil
	}
	return true, s.dlg.Bye(ctx)
}

// localSDPLocked renders our current SDP: our RTP address, the codec and
// telephone-event type in use, and the direction that answers the far
// end's. The caller holds s.mu.
func (s *session) localSDPLocked() []byte {
	return Answer{
		SessionID:        s.sessionID,
		Version:          s.sdpVersion,
		Local:            netip.AddrPortFrom(s.srv.cfg.PublicIP, s.leg.LocalAddr().Port()),
		Codec:            s.remote.Codec,
		EventPayloadType: s.remote.EventPayloadType,
		Direction:        s.remote.Direction.answer(),
	}.Marshal()
}

// applyRemoteLocked makes the leg follow the far end's media description.
// The caller holds s.mu.
func (s *session) applyRemoteLocked(o Offer) {
	s.remote = o
	s.leg.Update(o.Remote, o.Codec, o.EventPayloadType)
	s.leg.SetHold(o.OnHold())
}

// reInvite answers an in-dialog INVITE on the same media: a new remote
// address or codec, hold (sendonly/inactive) or a session refresh.
func (s *session) reInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	body := req.Body()
	s.mu.Lock()
	if len(body) > 0 {
		offer, err := ParseOffer(body)
		if err == nil {
			err = checkOfferFamily(offer, s.srv.cfg.PublicIP)
		}
		if err != nil {
			s.mu.Unlock()
			code, reason := 400, "Bad Request"
			if errors.Is(err, ErrNoCommonCodec) || errors.Is(err, ErrMediaFamily) {
				code, reason = 488, "Not Acceptable Here"
			}
			s.log.Warn("sip: re-INVITE rejected", "code", code, "error", err)
			s.srv.respond(req, tx, code, reason)
			return
		}
		s.sdpVersion++
		s.applyRemoteLocked(offer)
		s.log.Info("call: re-INVITE", "hold", offer.OnHold(), "remote", offer.Remote.String(), "codec", offer.Codec.Name)
	}
	body = s.localSDPLocked()
	s.mu.Unlock()
	res := sipmsg.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sipmsg.HeaderClone(&s.contact))
	if err := tx.Respond(res); err != nil {
		s.log.Warn("sip: answer re-INVITE", "error", err)
	}
}

// remoteBye accepts the far end's BYE (200 OK) and ends the call.
func (s *session) remoteBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.setEnd("remote-bye")
	if err := s.dlg.ReadBye(req, tx); err != nil {
		s.log.Warn("sip: BYE not accepted", "error", err)
		s.srv.respond(req, tx, 400, "Bad Request")
		return
	}
	s.log.Info("call: remote hung up")
	s.leg.Close("remote-bye")
	s.cancel()
}

// info takes a DTMF digit from an in-dialog INFO.
func (s *session) info(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	key, ok, err := ParseInfoDTMF(ct, req.Body())
	switch {
	case err != nil:
		s.log.Warn("sip: bad INFO body", "error", err)
		s.srv.respond(req, tx, 400, "Bad Request")
		return
	case !ok:
		s.srv.respond(req, tx, 415, "Unsupported Media Type", sipmsg.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	s.leg.InjectDigit(key)
	s.srv.respond(req, tx, 200, "OK")
}

// reportMedia hands the leg's final statistics to Config.MediaEnded. The
// call's owner calls it once, after closing the leg.
func (s *session) reportMedia() {
	if fn := s.srv.cfg.MediaEnded; fn != nil {
		fn(s.sid, s.leg.Stats())
	}
}

// logEnded logs the end of the call with its duration since answeredAt
// (zero when it was never answered).
func (s *session) logEnded(answeredAt time.Time) {
	var dur time.Duration
	if !answeredAt.IsZero() {
		dur = time.Since(answeredAt).Round(time.Second)
	}
	s.log.Info("call: ended", "reason", s.EndReason(), "duration", dur.String())
}
