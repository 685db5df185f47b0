package sip

import (
	"context"
	"errors"
	"fmt"
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
// (outbound calls) have it. Requests in the dialog (our BYE) go through
// TransactionRequest, which fills in the dialog's headers; their timers are
// ours (see timers.go), not sipgo's dialog code's.
type dialog interface {
	Context() context.Context
	LoadState() sipmsg.DialogState
	ReadBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) error
	TransactionRequest(ctx context.Context, req *sipmsg.Request) (sipmsg.ClientTransaction, error)
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
	// newBye builds the BYE that ends the dialog from our side.
	newBye func() *sipmsg.Request
	// newRequest builds a request of ours in the dialog (a refresh, its
	// ACK): Request-URI, transport and destination; the dialog fills in
	// the rest.
	newRequest func(method sipmsg.RequestMethod) *sipmsg.Request
	// onPrack answers a PRACK in the dialog (inbound calls; nil: 481).
	onPrack func(req *sipmsg.Request, tx sipmsg.ServerTransaction)

	ctx    context.Context // ends when the call ends
	cancel context.CancelFunc
	// stopShutdownWatch unhooks the call from the Server's shutdown; the
	// call's owner calls it when the call is over.
	stopShutdownWatch func() bool

	// bg counts the call's background goroutines (retransmissions of our
	// reliable provisionals, the session timer); the owner waits for them
	// (waitBackground) once the call is over.
	bg sync.WaitGroup

	mu         sync.Mutex // guards the fields below, and the owning call's state
	dialogID   string     // the key the Server finds the call by; set once the dialog exists
	remote     Offer      // the far end's current media (from its offer or its answer)
	sessionID  uint64     // our SDP o= session id
	sdpVersion uint64     // our SDP o= version, bumped for every new SDP we send
	endReason  string
	// established: the dialog exists (we sent or received its 2xx), so
	// ending the call takes a BYE.
	established bool
	// answerAcked, when not nil, is closed once the wait for the ACK of
	// the dialog's first 2xx (ours, on inbound calls) is over. RFC 3261
	// §15: no BYE before that ACK or the 64·T1 timeout.
	answerAcked chan struct{}
	remoteEnded bool // the far end's BYE arrived: no BYE from us
	// awaitingAnswer: the INVITE had no SDP (late offer); our 2xx carries
	// an offer and the ACK must carry the answer (RFC 3264).
	awaitingAnswer bool
	// timer is the negotiated session timer (RFC 4028), nil when none.
	timer *sessionTimer
	// peerAllowsUpdate: the far end listed UPDATE in Allow, so our
	// session refreshes use it (else re-INVITE).
	peerAllowsUpdate bool
	// byeReason, when set, is the Reason header (RFC 3326) of our BYE:
	// why we end the call (a session timer that expired or failed).
	byeReason string
	// localCrypto is our SDES key when the media is SRTP (nil: plain RTP).
	localCrypto *SDESCrypto
	bgOver      bool                // the owner waits for bg: no more goroutines
	acks        map[uint32]*ackWait // our 2xx waiting for their ACK, by CSeq
	byeDone     chan struct{}       // closed when our BYE transaction is over; nil until started
	byeErr      error               // how it ended (set before byeDone closes)

	// codecs is the call's codec preference (Server.codecPrefs of its
	// trunk): our offers list it, offers in re-INVITEs are chosen by it.
	codecs []media.Codec
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

// startBye starts ending the dialog from our side, once: a goroutine
// waits for the ACK of our 2xx if it is still due (RFC 3261 §15), then
// sends the BYE and waits for its answer for the transaction's whole life
// (Timer F). No BYE is sent when the dialog was never established or the
// far end has ended it. The returned channel is closed when that is over;
// the call's owner waits for it (end), so the goroutine ends with the call.
func (s *session) startBye() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byeDone == nil {
		s.byeDone = make(chan struct{})
		if !s.established {
			close(s.byeDone)
		} else {
			go s.bye(s.byeDone, s.answerAcked)
		}
	}
	return s.byeDone
}

func (s *session) bye(done chan<- struct{}, answerAcked <-chan struct{}) {
	defer close(done)
	if answerAcked != nil {
		<-answerAcked
	}
	s.mu.Lock()
	remoteEnded, reason := s.remoteEnded, s.byeReason
	s.mu.Unlock()
	if remoteEnded || s.dlg.LoadState() == sipmsg.DialogStateEnded {
		return // the far end hung up meanwhile
	}
	req := s.newBye()
	if reason != "" {
		req.AppendHeader(sipmsg.NewHeader("Reason", reason))
	}
	s.log.Info("call: sent BYE", "reason_header", reason)
	res, err := byeTransaction(s.dlg, req)
	switch {
	case err != nil:
		err = fmt.Errorf("sip: BYE: %w", err)
		s.log.Warn("call: BYE unanswered", "error", err)
	case res.StatusCode == 481 || res.StatusCode == 408:
		// The far end has no such dialog (any more): it is over either way.
		s.log.Info("call: BYE answered", "code", res.StatusCode)
	case !res.IsSuccess():
		err = fmt.Errorf("sip: BYE answered %d %s", res.StatusCode, res.Reason)
		s.log.Warn("call: BYE refused", "code", res.StatusCode, "reason", res.Reason)
	default:
		s.log.Debug("call: BYE answered", "code", res.StatusCode)
	}
	s.mu.Lock()
	s.byeErr = err
	s.mu.Unlock()
}

// ackPending reports whether the first 2xx of the dialog still waits for
// its ACK (so a BYE must wait too).
func (s *session) ackPending() bool {
	s.mu.Lock()
	ch := s.answerAcked
	s.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// hangup ends an established call from our side: media stops at once
// (RFC 3261 §15.1.1) and the BYE starts. It waits for the BYE's answer
// until ctx ends, except while the ACK of our 2xx is still due: then the
// BYE goes when the ACK arrives or 64·T1 has passed, and hangup returns
// at once. Either way the BYE transaction runs to its end in the
// background, owned by the call; ctx never cuts it short.
func (s *session) hangup(ctx context.Context) error {
	s.setEnd("local-bye")
	waitAck := s.ackPending()
	done := s.startBye()
	s.leg.Close("hangup")
	s.cancel()
	if waitAck {
		s.log.Info("call: BYE deferred until the ACK of our 200 OK (or 64·T1)")
		return nil
	}
	select {
	case <-done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.byeErr
	case <-ctx.Done():
		s.log.Debug("call: BYE still in progress; it carries on")
		return nil
	}
}

// end is the hang-up tail every call runs once, from its owner, when it
// is over: BYE unless the far end ended the dialog (or nobody answered),
// then the BYE transaction is waited for, the media released and the end
// reported. answeredAt is zero for a call never answered.
func (s *session) end(answeredAt time.Time) {
	done := s.startBye()
	s.leg.Close("call ended")
	<-done
	s.reportMedia()
	s.cancel()
	s.logEnded(answeredAt)
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
		Crypto:           s.localCrypto,
	}.Marshal()
}

// localOfferLocked is our SDP offer for a late-offer INVITE's 2xx. The
// caller holds s.mu.
func (s *session) localOfferLocked() []byte {
	return LocalOffer{
		SessionID: s.sessionID,
		Version:   s.sdpVersion,
		Local:     netip.AddrPortFrom(s.srv.cfg.PublicIP, s.leg.LocalAddr().Port()),
		Codecs:    s.codecs,
		Crypto:    s.localCrypto,
	}.Marshal()
}

// ackAnswer applies the SDP answer an ACK carries when our 2xx was the
// offer (late offer). An ACK without an answer, or with one we cannot
// use, ends the call with a BYE (RFC 3261 §13.2.1, RFC 3264 §5).
func (s *session) ackAnswer(ack *sipmsg.Request) {
	s.mu.Lock()
	if !s.awaitingAnswer {
		s.mu.Unlock()
		return
	}
	s.awaitingAnswer = false
	answer, err := ParseOffer(ack.Body())
	if len(ack.Body()) == 0 {
		err = errors.New("ACK carries no SDP answer to our offer")
	} else if err == nil {
		err = checkOfferFamily(answer, s.srv.cfg.PublicIP)
	}
	if err == nil {
		err = s.answerCryptoLocked(answer)
	}
	if err == nil {
		s.applyRemoteLocked(answer)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("sip: late offer: no usable answer in ACK; ending the call", "error", err)
		s.stop("no-sdp-answer")
		return
	}
	s.log.Info("call: late offer answered in ACK", "remote", answer.Remote.String(), "codec", answer.Codec.Name)
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
	if _, ok := s.refreshTimerRequest(req, tx); !ok {
		return
	}
	body := req.Body()
	s.mu.Lock()
	if len(body) > 0 {
		offer, err := ParseOffer(body)
		if err == nil {
			err = checkOfferFamily(offer, s.srv.cfg.PublicIP)
		}
		if err == nil {
			err = offer.Choose(s.codecs)
		}
		if err == nil {
			err = s.rekeyLocked(offer)
		}
		if err != nil {
			s.mu.Unlock()
			code, reason := 400, "Bad Request"
			if errors.Is(err, ErrNoCommonCodec) || errors.Is(err, ErrMediaFamily) || errors.Is(err, ErrSRTPPolicy) {
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
	t := s.timer
	s.mu.Unlock()
	res := sipmsg.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sipmsg.HeaderClone(&s.contact))
	if t != nil {
		t.refreshed()
		for _, h := range t.headers() {
			res.AppendHeader(h)
		}
	}
	w := s.expectAck(req.CSeq().SeqNo)
	if err := tx.Respond(res); err != nil {
		s.forgetAck(w)
		s.log.Warn("sip: answer re-INVITE", "error", err)
		return
	}
	// Like the first 2xx, ours to a re-INVITE is retransmitted until its
	// ACK. The wait holds sipgo's request goroutine, which keeps the
	// transaction alive for the retransmissions; it ends with the call.
	s.waitAck(w, tx, res, s.ctx.Done())
}

// remoteBye accepts the far end's BYE (200 OK) and ends the call.
func (s *session) remoteBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.setEnd("remote-bye")
	s.mu.Lock()
	s.remoteEnded = true
	s.mu.Unlock()
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

// goBackground runs f on a goroutine the call's owner waits for; it
// reports false (and runs nothing) once the owner has started waiting.
func (s *session) goBackground(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bgOver {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// waitBackground waits for the call's background goroutines; call it
// once the call is over (they all end with its context).
func (s *session) waitBackground() {
	s.mu.Lock()
	s.bgOver = true
	s.mu.Unlock()
	s.bg.Wait()
}

// startSessionTimer runs t for the call (RFC 4028) until the call ends.
func (s *session) startSessionTimer(t *sessionTimer) {
	s.goBackground(func() { s.runSessionTimer(t) })
}
