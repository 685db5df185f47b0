package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/sid"
)

// DefaultRingTimeout is how long Dial lets a call ring when
// DialRequest.Timeout is zero.
const DefaultRingTimeout = 60 * time.Second

// DialRequest describes an outbound call for Server.Dial.
type DialRequest struct {
	// CallSID is the CA SID of the new leg (a new one when ""). It is
	// logged and sent in an X-Voxgate-Call-Sid header.
	CallSID string
	// To is a SIP URI, "sip:user@host[:port][;transport=tcp][?X-H=v&…]"
	// (headers are added to the INVITE), or a number ("+15551234567",
	// "1000"; spaces, dashes, dots and parentheses are ignored) that is
	// sent through a trunk.
	To string
	// From is the caller ID user part (E.164 or a name); "" means the
	// trunk's CallerID, else "voxgate".
	From string
	// Trunk names the trunk for numbers; "" means the first one.
	Trunk string
	// Username and Password answer the far end's digest challenge
	// (<Sip username password>); when both are "", the trunk's are used.
	Username, Password string
	// Headers are extra INVITE headers: X-*, User-to-User,
	// Remote-Party-ID, P-Preferred-Identity, P-Called-Party-ID,
	// P-Asserted-Identity. Others are dropped (logged).
	Headers map[string]string
	// Timeout is the ring timeout (DefaultRingTimeout when zero). When it
	// passes unanswered, CANCEL is sent and Dial fails with no-answer.
	Timeout time.Duration
	// OnRinging is called for 180 and 183 without SDP (early=false) and 183
	// with SDP (early=true: early media flows on the leg from then on). It
	// may be called more than once. It runs on Dial's goroutine, which
	// reads the far end's responses: it must not block.
	OnRinging func(early bool)
	// LateOffer sends the INVITE without SDP (RFC 3261 §13.2.1): the far
	// end offers in its 2xx and our answer goes in the ACK. A trunk with
	// LateOffer does so for every call through it.
	LateOffer bool
	// OnEarlyMedia, when set, is called once, before OnRinging(true), when
	// a 183 with SDP starts the RTP leg: Record on leg hears the far end's
	// early media (ringback, announcements) while Dial still waits. Nothing
	// is sent on it until the answer. It is the leg the answered call
	// uses; when the dial fails it closes (Record returns ErrLegClosed).
	// Like OnRinging, it must not block.
	OnEarlyMedia func(leg media.Leg)
}

// Dial outcomes other than answered, as Twilio's DialCallStatus and
// CallStatus name them (DialError.Status).
const (
	DialBusy     = "busy"      // 486, 600, 603
	DialNoAnswer = "no-answer" // ring timeout (CANCEL sent)
	DialFailed   = "failed"    // any other error: 404, 480, 5xx, 3xx, transport, unroutable
	DialCanceled = "canceled"  // ctx cancelled or Server shut down (CANCEL sent)
)

// DialError is why Dial did not return an answered call.
type DialError struct {
	Status    string // DialBusy, DialNoAnswer, DialFailed or DialCanceled
	Code      int    // SIP final status code received (DialSipResponseCode), 0 if none
	Reason    string
	SIPCallID string            // Call-ID of the INVITE, "" if none was sent
	Headers   map[string]string // X- headers of the final response, lowercased names
}

// Error describes the failure.
func (e *DialError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("sip: dial %s: %d %s", e.Status, e.Code, e.Reason)
	}
	return fmt.Sprintf("sip: dial %s: %s", e.Status, e.Reason)
}

// Reasons a ring ends before an answer.
var (
	errRingTimeout    = errors.New("ring timeout")
	errDialCanceled   = errors.New("dial canceled")
	errServerShutdown = errors.New("server shutting down")
)

// Dial places a call: it sends an INVITE with an SDP offer (PCMU, PCMA,
// telephone-event/8000 on a socket from Config.Ports) and returns when the
// call is answered: 200 OK received, ACK sent, the RTP leg started on the
// answered codec and address. Otherwise it returns a *DialError:
// 486/600/603 -> busy; ring timeout -> no-answer (after CANCEL); ctx
// cancelled or the Server shutting down -> canceled (after CANCEL); any
// other final response, transport errors and unroutable targets ->
// failed. A 401/407 challenge is answered once with the digest
// credentials; a second one fails. Dial waits until Serve is serving.
//
// The returned call belongs to the Server until it ends (see
// OutboundCall); the caller drives its media and may hang it up.
func (s *Server) Dial(ctx context.Context, req DialRequest) (*OutboundCall, error) {
	callSID := req.CallSID
	if callSID == "" {
		callSID = sid.New(sid.Call)
	}
	log := s.log.With("call_sid", callSID)
	if !s.track() {
		return nil, &DialError{Status: DialCanceled, Reason: errServerShutdown.Error()}
	}
	handedOver := false
	defer func() {
		if !handedOver {
			s.callWG.Done()
		}
	}()
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, &DialError{Status: DialCanceled, Reason: "canceled before dialling"}
	case <-s.ctx.Done():
		return nil, &DialError{Status: DialCanceled, Reason: errServerShutdown.Error()}
	}

	rt, err := s.routeFor(req)
	if err != nil {
		log.Warn("dial: unroutable", "to", req.To, "error", err)
		return nil, &DialError{Status: DialFailed, Reason: err.Error()}
	}
	from := req.From
	if from == "" && rt.trunk != nil {
		from = rt.trunk.CallerID
	}
	if from == "" {
		from = "voxgate"
	}
	if !validUserPart(from) {
		return nil, &DialError{Status: DialFailed, Reason: fmt.Sprintf("caller ID %q is not usable as a SIP user", from)}
	}
	username, password := req.Username, req.Password
	if username == "" && password == "" && rt.trunk != nil {
		username, password = rt.trunk.Username, rt.trunk.Password
	}

	conn, err := s.cfg.Ports.Listen()
	if err != nil {
		log.Error("dial: no RTP port", "error", err)
		return nil, &DialError{Status: DialFailed, Reason: "no RTP port: " + err.Error()}
	}
	leg := media.NewRTPLeg(media.RTPConfig{
		Conn:              conn,
		Codec:             media.PCMU, // until the answer says otherwise
		EventPayloadType:  OfferedEventPayloadType,
		SignalingAddr:     literalAddr(rt.uri.Host), // the callee's NAT, when dialled by address
		InactivityTimeout: s.cfg.RTPTimeout,
		Logger:            log,
		Scheduler:         s.sched,
	})
	sessionID := rand.Uint64N(1 << 62)
	trunkName := ""
	if rt.trunk != nil {
		trunkName = rt.trunk.Name
	}
	codecs := s.codecPrefs(trunkName)
	offer := LocalOffer{SessionID: sessionID, Version: 1, Local: netip.AddrPortFrom(s.cfg.PublicIP, leg.LocalAddr().Port()), Codecs: codecs}
	policy := rt.srtpPolicy()
	if policy == SRTPRequired {
		c := newLocalCrypto(1, media.AESCM128HMACSHA1_80)
		offer.Crypto = &c
	}
	late := req.LateOffer || rt.trunk != nil && rt.trunk.LateOffer
	body := offer.Marshal()
	if late {
		offer.Crypto, body = nil, nil // SRTP needs our key in an offer: not with late offer
	}
	invite := s.newInvite(callSID, rt, from, req.Headers, body, log)
	log = log.With("sip_call_id", callID(invite))

	a := &dialAttempt{srv: s, log: log, leg: leg, onRinging: req.OnRinging, onEarlyMedia: req.OnEarlyMedia, crypto: offer.Crypto, late: late}
	dlg, derr := a.ring(ctx, invite, req.Timeout, username, password)
	for tries := 0; derr != nil && derr.Code == 422 && a.retrySE > 0 && tries < 2; tries++ {
		// RFC 4028 §7.4: the far end wants a longer session interval
		// (its Min-SE); ask again with it, in a new transaction.
		log.Info("dial: session interval too small; retrying", "min_se", a.retrySE.String())
		retrySessionInterval(invite, a.retrySE)
		a.retrySE = 0
		dlg, derr = a.ring(ctx, invite, req.Timeout, username, password)
	}
	if derr != nil {
		leg.Close("dial " + derr.Status)
		log.Info("dial: not answered", "to", req.To, "status", derr.Status, "code", derr.Code, "reason", derr.Reason)
		return nil, derr
	}

	answer, perr := ParseOffer(dlg.InviteResponse.Body())
	if perr == nil && late {
		perr = checkOfferFamily(answer, s.cfg.PublicIP)
		if perr == nil {
			perr = answer.Choose(codecs) // their 2xx is the offer
		}
		if perr == nil {
			offer.Crypto, perr = a.lateOfferCrypto(answer, policy) // we answer with our key in the ACK
		}
	} else if perr == nil {
		perr = a.useAnswerCrypto(answer)
	}
	if perr != nil {
		a.abandon(dlg)
		leg.Close("dial failed")
		log.Warn("dial: unusable answer; hung up", "error", perr)
		return nil, &DialError{Status: DialFailed, Code: dlg.InviteResponse.StatusCode, Reason: "SDP answer: " + perr.Error(),
			SIPCallID: callID(invite), Headers: xHeaders(dlg.InviteResponse)}
	}
	call := &OutboundCall{invite: invite, answer: dlg.InviteResponse, from: from, to: dialledTarget(req.To), answeredAt: time.Now()}
	if rt.trunk != nil {
		call.trunk = rt.trunk.Name
	}
	call.init(s, callSID, log, leg, dlg, *invite.Contact(), answer)
	call.codecs = codecs
	call.sessionID = sessionID
	call.localCrypto = offer.Crypto
	call.dialogID = dlg.ID
	call.established = true
	call.newBye = func() *sipmsg.Request { return uacBye(invite, dlg.InviteResponse) }
	call.newRequest = func(m sipmsg.RequestMethod) *sipmsg.Request { return uacRequest(m, invite, dlg.InviteResponse) }
	call.peerAllowsUpdate = allowsUpdate(dlg.InviteResponse)
	call.timer = s.answerTimer(dlg.InviteResponse)
	call.mu.Lock()
	call.applyRemoteLocked(answer)
	call.mu.Unlock()
	leg.Start()
	if call.timer != nil {
		call.startSessionTimer(call.timer) // before the far end can refresh
	}
	s.register(&call.session) // before the ACK: the far end may hang up at once
	ackCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.ack(ackCtx, dlg, call); err != nil {
		s.unregister(&call.session)
		leg.Close("dial failed")
		call.cancel()
		call.waitBackground()
		log.Warn("dial: ACK failed", "error", err)
		return nil, &DialError{Status: DialFailed, Code: 200, Reason: "send ACK: " + err.Error(), SIPCallID: callID(invite)}
	}
	log.Info("call: outbound answered", "to", req.To, "from", from, "trunk", call.trunk, "codec", answer.Codec.Name, "remote", answer.Remote.String(), "srtp", offer.Crypto != nil)
	handedOver = true
	go call.run()
	return call, nil
}

// newInvite builds the INVITE of an outbound call.
func (s *Server) newInvite(callSID string, rt route, from string, extra map[string]string, body []byte, log *slog.Logger) *sipmsg.Request {
	inv := sipmsg.NewRequest(sipmsg.INVITE, rt.uri)
	inv.SetTransport(rt.transport)
	if rt.dest != "" {
		inv.SetDestination(rt.dest)
	}
	fromHdr := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: from, Host: s.cfg.PublicIP.String()}, Params: sipmsg.NewParams()}
	fromHdr.Params.Add("tag", sipmsg.GenerateTagN(16))
	toHdr := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: rt.uri.User, Host: rt.uri.Host, Port: rt.uri.Port}}
	if toHdr.Address.Port == 5060 {
		toHdr.Address.Port = 0
	}
	callIDHdr := sipmsg.CallIDHeader(sipmsg.GenerateTagN(32))
	contact := s.contactForTransport(strings.ToLower(rt.transport))
	inv.AppendHeader(fromHdr)
	inv.AppendHeader(toHdr)
	inv.AppendHeader(&callIDHdr)
	inv.AppendHeader(&contact)
	inv.AppendHeader(sipmsg.NewHeader("Allow", allowedMethods))
	if se := s.sessionExpires(); se > 0 {
		// RFC 4028 §7.1: we ask for a session timer; the 2xx says who
		// refreshes.
		inv.AppendHeader(sipmsg.NewHeader("Supported", "100rel, timer"))
		inv.AppendHeader(sipmsg.NewHeader("Session-Expires", strconv.Itoa(int(max(se, s.minSE())/time.Second))))
		inv.AppendHeader(sipmsg.NewHeader("Min-SE", strconv.Itoa(int(s.minSE()/time.Second))))
	} else {
		inv.AppendHeader(sipmsg.NewHeader("Supported", "100rel"))
	}
	inv.AppendHeader(sipmsg.NewHeader("X-Voxgate-Call-Sid", callSID))

	headers := map[string]string{}
	for k, v := range rt.headers {
		headers[k] = v
	}
	for k, v := range extra {
		headers[k] = v
	}
	for _, name := range slices.Sorted(mapKeys(headers)) {
		if !extraHeaderAllowed(name, headers[name]) {
			log.Warn("dial: header dropped (only X- and identity headers may be added)", "header", name)
			continue
		}
		inv.AppendHeader(sipmsg.NewHeader(name, headers[name]))
	}
	if len(body) > 0 {
		inv.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	inv.SetBody(body)
	if rt.transport == "UDP" && s.udpLocal != "" {
		// Send from the listening socket: responses and the far end's
		// in-dialog requests come back to the port in Via and Contact.
		if host, port, err := sipmsg.ParseAddr(s.udpLocal); err == nil {
			inv.Laddr = sipmsg.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
		}
	}
	return inv
}

// contactForTransport is our Contact for requests sent over transport
// ("udp" or "tcp"): the listener of that transport, else the first one.
func (s *Server) contactForTransport(transport string) sipmsg.ContactHeader {
	for _, l := range s.Listeners() {
		if l.Transport == transport {
			return s.contact(transport, l.Addr.Port())
		}
	}
	return s.dialogUA.ContactHDR
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// dialledTarget is DialRequest.To without URI headers.
func dialledTarget(to string) string {
	to = strings.TrimSpace(to)
	if strings.HasPrefix(strings.ToLower(to), "sip:") {
		if i := strings.IndexByte(to, '?'); i >= 0 {
			return to[:i]
		}
	}
	return to
}

// validUserPart reports whether s can be the user part of a SIP URI as
// is: letters, digits and the unreserved and user-unreserved marks.
func validUserPart(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.!~*'()&=+$,;?/", r):
		default:
			return false
		}
	}
	return true
}

// dialAttempt is one INVITE transaction while it rings.
type dialAttempt struct {
	srv          *Server
	log          *slog.Logger
	leg          *media.RTPLeg
	onRinging    func(early bool)
	onEarlyMedia func(leg media.Leg)

	provisional atomic.Bool // a 1xx arrived: CANCEL is possible
	challenges  int         // 401/407 responses seen (OnResponse runs on Dial's goroutine)
	earlyMedia  bool
	crypto      *SDESCrypto // our SDES key when we offered SRTP
	late        bool        // the INVITE had no SDP: the 2xx offers, the ACK answers
	keyed       bool        // the leg has its SRTP keys
	dlg         *sipgo.DialogClientSession
	lastRSeq    uint32        // RSeq of the last reliable provisional PRACKed
	retrySE     time.Duration // the Min-SE of a 422 answer: ask again with it

	mu  sync.Mutex
	why error // why ringing was stopped: errRingTimeout, errDialCanceled, errServerShutdown
}

// ring sends the INVITE and waits for the final answer. It returns the
// answered dialog, or the DialError saying why there is none.
func (a *dialAttempt) ring(ctx context.Context, invite *sipmsg.Request, timeout time.Duration, username, password string) (*sipgo.DialogClientSession, *DialError) {
	if timeout <= 0 {
		timeout = DefaultRingTimeout
	}
	// ringCtx is cancelled by us only, with a cause sipgo understands:
	// after a provisional response WaitAnswer sends CANCEL; before one it
	// must not (RFC 3261 §9.1), so it is told to give up at once.
	ringCtx, cancelRing := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRing(nil)
	stopRinging := func(why error) {
		a.mu.Lock()
		if a.why == nil {
			a.why = why
		}
		a.mu.Unlock()
		if a.provisional.Load() {
			cancelRing(why)
		} else {
			cancelRing(sipgo.WaitAnswerForceCancelErr)
		}
	}
	stopCtx := context.AfterFunc(ctx, func() { stopRinging(errDialCanceled) })
	defer stopCtx()
	stopSrv := context.AfterFunc(a.srv.ctx, func() { stopRinging(errServerShutdown) })
	defer stopSrv()
	timer := time.AfterFunc(timeout, func() { stopRinging(errRingTimeout) })
	defer timer.Stop()

	sipCallID := callID(invite)
	a.log.Info("dial: calling", "uri", invite.Recipient.String(), "transport", invite.Transport())
	dlg, err := a.srv.dialogUA.WriteInvite(ringCtx, invite)
	if err != nil {
		return nil, a.failure(nil, err, sipCallID)
	}
	a.dlg = dlg
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: a.onResponse, Username: username, Password: password})
	if err != nil {
		if r := dlg.InviteResponse; r != nil && r.IsSuccess() {
			a.abandon(dlg) // answered while we were cancelling
		}
		return nil, a.failure(dlg, err, sipCallID)
	}
	return dlg, nil
}

// onResponse sees every response to the INVITE before WaitAnswer acts on
// it: provisional ones (ringing, early media) and challenges.
func (a *dialAttempt) onResponse(res *sipmsg.Response) error {
	switch {
	case res.IsProvisional():
		a.provisional.Store(true)
		if res.StatusCode == 100 {
			return nil
		}
		if reliable(res) {
			if !a.prack(res) {
				return nil // a retransmission, or out of order: ignored (RFC 3262 §4)
			}
		}
		early := false
		if res.StatusCode == 183 && len(res.Body()) > 0 && !a.late {
			early = a.startEarlyMedia(res.Body())
		}
		if a.onRinging != nil {
			a.onRinging(early)
		}
	case res.StatusCode == 422:
		if minSE, ok := parseMinSE(res); ok {
			if cur, ok := parseMinSE(a.dlg.InviteRequest); !ok || minSE > cur {
				a.retrySE = minSE
			}
		}
	case res.StatusCode == 401 || res.StatusCode == 407:
		a.challenges++
		if a.challenges > 1 {
			return &sipgo.ErrDialogResponse{Res: res}
		}
	}
	return nil
}

// reliable reports whether a provisional response asks for PRACK
// (RFC 3262: Require: 100rel and an RSeq).
func reliable(res *sipmsg.Response) bool {
	if res.GetHeader("RSeq") == nil {
		return false
	}
	for _, h := range res.GetHeaders("Require") {
		for _, opt := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(opt), "100rel") {
				return true
			}
		}
	}
	return false
}

// prack acknowledges a reliable provisional response with PRACK (RFC 3262
// §4) and reports whether it is a new one (RSeq one more than the last;
// any at first). The PRACK transaction runs on its own: its goroutine
// ends with it (Timer F at most).
func (a *dialAttempt) prack(res *sipmsg.Response) bool {
	rseq, err := strconv.ParseUint(strings.TrimSpace(res.GetHeader("RSeq").Value()), 10, 32)
	if err != nil || a.lastRSeq != 0 && uint32(rseq) != a.lastRSeq+1 {
		return false
	}
	a.lastRSeq = uint32(rseq)
	inv := a.dlg.InviteRequest
	target := inv.Recipient
	if c := res.Contact(); c != nil {
		target = c.Address
	}
	req := sipmsg.NewRequest(sipmsg.PRACK, *target.Clone())
	req.AppendHeader(sipmsg.HeaderClone(res.To()))
	req.AppendHeader(sipmsg.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, inv.CSeq().SeqNo)))
	ctx, cancel := context.WithTimeout(context.Background(), 64*sipmsg.T1)
	tx, err := a.dlg.TransactionRequest(ctx, req)
	if err != nil {
		cancel()
		a.log.Warn("dial: PRACK not sent", "error", err)
		return true
	}
	go func() {
		defer cancel()
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				if r.IsProvisional() {
					continue
				}
				a.log.Debug("dial: PRACK answered", "code", r.StatusCode, "rseq", rseq)
				return
			case <-tx.Done():
				return
			}
		}
	}()
	return true
}

// ack acknowledges the 2xx; after a late-offer INVITE the ACK carries our
// SDP answer to the offer in the 2xx (RFC 3264).
func (a *dialAttempt) ack(ctx context.Context, dlg *sipgo.DialogClientSession, call *OutboundCall) error {
	if !a.late {
		return dlg.Ack(ctx)
	}
	call.mu.Lock()
	body := call.localSDPLocked()
	call.mu.Unlock()
	inv, res := dlg.InviteRequest, dlg.InviteResponse
	target := inv.Recipient
	if c := res.Contact(); c != nil {
		target = c.Address
	}
	ack := sipmsg.NewRequest(sipmsg.ACK, *target.Clone())
	for _, h := range []sipmsg.Header{inv.From(), res.To(), inv.CallID()} {
		ack.AppendHeader(sipmsg.HeaderClone(h))
	}
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sipmsg.ACK})
	mf := sipmsg.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	ack.AppendHeader(sipmsg.HeaderClone(inv.Contact()))
	ack.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(body)
	ack.SetTransport(inv.Transport())
	ack.SetSource(inv.Source())
	return dlg.WriteAck(ctx, ack)
}

// useAnswerCrypto checks that an answer (183 or 2xx) has SRTP exactly
// when we offered it, and keys the leg with it before it starts.
func (a *dialAttempt) useAnswerCrypto(o Offer) error {
	switch {
	case a.crypto == nil && o.Crypto != nil:
		return errors.New("sdp: answer is RTP/SAVP to a plain RTP offer")
	case a.crypto == nil:
		return nil
	case o.Crypto == nil:
		return fmt.Errorf("%w: answer without SRTP", ErrSRTPPolicy)
	case o.Crypto.Suite != a.crypto.Suite:
		return fmt.Errorf("sdp: answer's crypto suite %s was not offered", o.Crypto.Suite)
	case a.keyed:
		return nil // keyed by early media already
	}
	if err := a.leg.SetSRTP(srtpKeys(a.crypto, o.Crypto)); err != nil {
		return err
	}
	a.keyed = true
	return nil
}

// startEarlyMedia points the leg at a 183's SDP and starts it receiving.
// It sends nothing until the answer (the leg is held), so the inactivity
// timeout cannot end a long early-media ring.
func (a *dialAttempt) startEarlyMedia(body []byte) bool {
	o, err := ParseOffer(body)
	if err == nil {
		err = a.useAnswerCrypto(o)
	}
	if err != nil {
		a.log.Warn("dial: ignoring 183 SDP", "error", err)
		return false
	}
	a.leg.Update(o.Remote, o.Codec, o.EventPayloadType)
	a.leg.SetHold(true)
	a.leg.Start()
	if !a.earlyMedia {
		a.earlyMedia = true
		a.log.Info("dial: early media", "remote", o.Remote.String(), "codec", o.Codec.Name)
		if a.onEarlyMedia != nil {
			a.onEarlyMedia(a.leg)
		}
	}
	return true
}

// failure turns WaitAnswer's (or WriteInvite's) error into a DialError.
func (a *dialAttempt) failure(dlg *sipgo.DialogClientSession, err error, sipCallID string) *DialError {
	de := &DialError{Status: DialFailed, Reason: err.Error(), SIPCallID: sipCallID}
	var final *sipmsg.Response
	if dlg != nil && dlg.InviteResponse != nil && dlg.InviteResponse.StatusCode >= 200 {
		final = dlg.InviteResponse
	}
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		final = dr.Res
	}
	if final != nil {
		de.Code, de.Reason, de.Headers = final.StatusCode, final.Reason, xHeaders(final)
	}
	a.mu.Lock()
	why := a.why
	a.mu.Unlock()
	switch {
	case dr != nil:
		switch code := dr.Res.StatusCode; {
		case code == 486 || code == 600 || code == 603:
			de.Status = DialBusy
		case code >= 300 && code < 400:
			target := ""
			if c := dr.Res.Contact(); c != nil {
				target = c.Address.String()
			}
			a.log.Warn("dial: redirected, not followed", "code", code, "contact", target)
		}
	case why == errRingTimeout:
		de.Status, de.Reason = DialNoAnswer, "no answer"
	case why != nil:
		de.Status, de.Reason = DialCanceled, why.Error()
	case errors.Is(err, sipmsg.ErrTransactionTimeout):
		de.Code, de.Reason = 408, "Request Timeout (no response)"
	}
	return de
}

// abandon hangs up a dialog that was answered but will not be used: ACK,
// then BYE, waited for for the BYE transaction's whole life (Timer F).
func (a *dialAttempt) abandon(dlg *sipgo.DialogClientSession) {
	if err := dlg.Ack(context.Background()); err != nil {
		a.log.Warn("dial: ACK of abandoned answer", "error", err)
		return
	}
	res, err := byeTransaction(dlg, uacBye(dlg.InviteRequest, dlg.InviteResponse))
	switch {
	case err != nil:
		a.log.Warn("dial: BYE of abandoned answer", "error", err)
	case !res.IsSuccess():
		a.log.Warn("dial: BYE of abandoned answer refused", "code", res.StatusCode)
	}
}

// retrySessionInterval turns an INVITE answered 422 into its retry (RFC
// 4028 §7.4): Session-Expires and Min-SE raised to the far end's Min-SE,
// the next CSeq, a new Via branch; same Call-ID and From tag.
func retrySessionInterval(inv *sipmsg.Request, minSE time.Duration) {
	secs := strconv.Itoa(int(minSE / time.Second))
	inv.RemoveHeader("Session-Expires")
	inv.RemoveHeader("Min-SE")
	inv.AppendHeader(sipmsg.NewHeader("Session-Expires", secs))
	inv.AppendHeader(sipmsg.NewHeader("Min-SE", secs))
	inv.CSeq().SeqNo++
	inv.RemoveHeader("Via")
}

// answerTimer reads the session timer the 2xx to our INVITE set up (RFC
// 4028 §7.2): its Session-Expires, refreshed by us when refresher=uac.
// Without Session-Expires the session has no timer (nil).
func (s *Server) answerTimer(res *sipmsg.Response) *sessionTimer {
	v, ok := headerValue(res, "Session-Expires", "x")
	if !ok {
		return nil
	}
	secs, refresher, ok := parseSessionExpires(v)
	if !ok {
		return nil
	}
	return newSessionTimer(time.Duration(secs)*time.Second, refresher != "uas", true)
}
