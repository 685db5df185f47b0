package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
)

// InboundCall is one call received by the Server: its dialog and RTP leg.
// Its methods are safe for concurrent use.
type InboundCall struct {
	session
	invite   *sipmsg.Request
	inviteTx sipmsg.ServerTransaction // the INVITE's transaction: our answer and its retransmissions go through it
	dialog   *sipgo.DialogServerSession
	trunk    string // name of the trunk the INVITE came from, "" when none

	// provCtx ends when our final response is sent or the call ends:
	// reliable provisional responses stop being retransmitted.
	provCtx    context.Context
	provCancel context.CancelFunc
	rel100     rel100 // how the INVITE asked for reliable provisionals

	// guarded by session.mu
	ringing    bool
	answered   bool
	answeredAt time.Time
	final      bool         // a final response was sent
	earlySent  bool         // EarlyMedia sent its 183
	rseq       uint32       // RSeq of our last reliable provisional
	pending1xx *reliable1xx // our last reliable provisional, nil when none
}

func newInboundCall(s *Server, callSID string, req *sipmsg.Request, tx sipmsg.ServerTransaction, dlg *sipgo.DialogServerSession, leg *media.RTPLeg, offer Offer, trunk string, log *slog.Logger) *InboundCall {
	c := &InboundCall{invite: req, inviteTx: tx, dialog: dlg, trunk: trunk}
	c.init(s, callSID, log, leg, dlg, s.contactFor(req), offer)
	c.codecs = s.codecPrefs(trunk)
	c.dialogID = dlg.ID
	c.newRequest = c.inDialogRequest
	c.newBye = func() *sipmsg.Request { return c.inDialogRequest(sipmsg.BYE) }
	c.peerAllowsUpdate = allowsUpdate(req)
	c.rel100 = rel100Of(req)
	c.onPrack = c.prack
	c.provCtx, c.provCancel = context.WithCancel(c.ctx)
	return c
}

// inDialogTarget sends a request we make in the dialog over the
// INVITE's transport; over TLS, on the caller's own connection (a phone
// or gateway behind NAT, or without a TLS listener of its own, cannot be
// reached at its Contact).
func (c *InboundCall) inDialogTarget(req *sipmsg.Request) {
	req.SetTransport(c.dialog.InviteRequest.Transport())
	if strings.EqualFold(c.dialog.InviteRequest.Transport(), "TLS") {
		req.SetDestination(c.dialog.InviteRequest.Source())
	}
}

// inDialogRequest builds a request of ours in the dialog (BYE, a
// refresh, its ACK) to the caller's Contact; refreshes carry our Contact.
func (c *InboundCall) inDialogRequest(method sipmsg.RequestMethod) *sipmsg.Request {
	req := sipmsg.NewRequest(method, *c.dialog.InviteRequest.Contact().Address.Clone())
	c.inDialogTarget(req)
	if method == sipmsg.INVITE || method == sipmsg.UPDATE {
		req.AppendHeader(sipmsg.HeaderClone(&c.contact))
	}
	return req
}

// run drives the call: it starts the handler and tidies up after it.
func (c *InboundCall) run(h Handler) {
	c.log.Info("call: incoming", "from", c.From(), "to", c.To(), "source", c.Source().String(), "codec", c.remote.Codec.Name, "srtp", c.localCrypto != nil, "transport", c.invite.Transport(), "trunk", c.trunk)
	c.leg.Start()
	// The call ends when the dialog ends (BYE, CANCEL) or its media dies.
	go c.watchMedia()
	defer c.stopShutdownWatch()
	h(c.ctx, c)
	c.finish()
	c.waitBackground()
}

// finish hangs up whatever is still up once the handler has returned:
// 480 when the call was never answered, else BYE (see session.end).
func (c *InboundCall) finish() {
	c.mu.Lock()
	final, at := c.final, c.answeredAt
	c.mu.Unlock()
	if !final {
		if err := c.finalError(480, "Temporarily Unavailable", "hangup-before-answer"); err != nil {
			c.log.Warn("sip: refuse failed", "code", 480, "error", err)
		}
	}
	c.end(at)
}

// From is the caller: the user part of the From URI (a number or a name),
// or the whole URI when it has no user part.
func (c *InboundCall) From() string {
	if u, ok := c.srv.reg.users[strings.TrimPrefix(c.trunk, userTrunkPrefix)]; ok && strings.HasPrefix(c.trunk, userTrunkPrefix) && u.CallerID != "" {
		return u.CallerID
	}
	return uriUser(c.invite.From())
}

// To is the dialled number: the user part of the Request-URI.
func (c *InboundCall) To() string {
	if u := c.invite.Recipient.User; u != "" {
		return u
	}
	return uriUser(c.invite.To())
}

// Trunk is the name of the configured trunk the call came in on (matched
// by source address or credentials), or "" when it matched none.
func (c *InboundCall) Trunk() string { return c.trunk }

// SIPCallID is the SIP Call-ID of the dialog.
func (c *InboundCall) SIPCallID() string { return callID(c.invite) }

// Source is where the INVITE came from.
func (c *InboundCall) Source() netip.AddrPort {
	ap, _ := netip.ParseAddrPort(c.invite.Source())
	return ap
}

// Header returns the first value of a header of the INVITE, or "".
func (c *InboundCall) Header(name string) string {
	if h := c.invite.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// XHeaders returns the INVITE's X- headers by lowercased name.
func (c *InboundCall) XHeaders() map[string]string { return xHeaders(c.invite) }

// xHeaders returns a message's X- headers by lowercased name.
func xHeaders(m interface{ Headers() []sipmsg.Header }) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers() {
		if n := h.Name(); len(n) > 2 && strings.EqualFold(n[:2], "x-") {
			out[strings.ToLower(n)] = h.Value()
		}
	}
	return out
}

// Ringing sends 180 Ringing (once).
func (c *InboundCall) Ringing() error {
	c.mu.Lock()
	if c.ringing || c.final {
		c.mu.Unlock()
		return nil
	}
	c.ringing = true
	c.mu.Unlock()
	if c.rel100 == rel100Required {
		// RFC 3262 §3: a caller requiring 100rel gets every 1xx reliably.
		return c.provisional(c.ctx, 180, "Ringing", nil, true)
	}
	if err := c.dialog.Respond(180, "Ringing", nil, sipmsg.HeaderClone(&c.contact)); err != nil {
		return fmt.Errorf("sip: send 180: %w", err)
	}
	return nil
}

// Answer sends 200 OK with the SDP answer and returns. The 200 is
// retransmitted in the background (T1, doubling up to T2) until the ACK
// arrives; a call whose ACK never comes within 64·T1 is ended with a BYE
// (RFC 3261 §13.3.1.4).
func (c *InboundCall) Answer(ctx context.Context) error {
	c.mu.Lock()
	if c.answered {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := c.awaitEarlyPRACK(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	if c.answered {
		c.mu.Unlock()
		return nil
	}
	if c.final {
		c.mu.Unlock()
		return errors.New("sip: answer after final response")
	}
	if c.ctx.Err() != nil {
		reason := c.endReason
		c.mu.Unlock()
		return fmt.Errorf("sip: answer: call already ended (%s)", reason)
	}
	c.answered, c.final, c.answeredAt = true, true, time.Now()
	timer := c.timer // a re-INVITE may set one once the dialog is established
	body := c.localSDPLocked()
	if c.awaitingAnswer {
		body = c.localOfferLocked()
	}
	c.mu.Unlock()
	c.provCancel()

	res := sipmsg.NewSDPResponseFromRequest(c.dialog.InviteRequest, body)
	res.AppendHeader(sipmsg.HeaderClone(&c.contact))
	// What the caller may send in the dialog (UPDATE for its session
	// refreshes, RFC 4028 §7.4 / RFC 3311 §5.1).
	res.AppendHeader(sipmsg.NewHeader("Allow", allowedMethods))
	if timer != nil {
		for _, h := range timer.headers() {
			res.AppendHeader(h)
		}
	}
	c.dialog.InviteResponse = res // our BYE takes its From (our tag) from it
	w := c.expectAck(c.invite.CSeq().SeqNo)
	if err := c.inviteTx.Respond(res); err != nil {
		// Cancelled meanwhile (487 sent) or the transport failed.
		c.forgetAck(w)
		c.stop("answer-failed")
		return fmt.Errorf("sip: send 200: %w", err)
	}
	// sipgo ends a server dialog whose INVITE transaction terminates (Timer
	// L, 64·T1 after the 2xx) while the dialog's state is below
	// "established", and only its own 2xx sending (WriteResponse, whose
	// retransmission schedule we replace) moves the state on. ReadAck is
	// the exported way left: it marks the dialog confirmed for sipgo. Our
	// own ACK wait is unaffected (see waitAck).
	_ = c.dialog.ReadAck(c.dialog.InviteRequest, nil)
	acked := make(chan struct{})
	c.mu.Lock()
	c.established, c.answerAcked = true, acked
	c.mu.Unlock()
	go func() { // owned by the call: its BYE (end) waits for acked
		defer close(acked)
		out := c.waitAck(w, c.inviteTx, res, c.dialog.Context().Done())
		c.log.Debug("call: ACK wait over", "outcome", out)
	}()
	if timer != nil {
		c.startSessionTimer(timer)
	}
	c.log.Info("call: answered")
	return nil
}

// Reject refuses the call unanswered: 486 Busy Here when busy, else 603
// Decline.
func (c *InboundCall) Reject(ctx context.Context, busy bool) error {
	code, reason := 603, "Decline"
	if busy {
		code, reason = 486, "Busy Here"
	}
	return c.finalError(code, reason, "rejected")
}

func (c *InboundCall) finalError(code int, reason, endReason string) error {
	c.mu.Lock()
	if c.final {
		c.mu.Unlock()
		return nil
	}
	c.final = true
	c.mu.Unlock()
	c.provCancel()
	c.setEnd(endReason)
	defer c.cancel()
	if c.dialog.Context().Err() != nil {
		return nil // canceled meanwhile: 487 already sent
	}
	// Respond waits for the ACK (up to the transaction timeout); the
	// response itself goes out at once.
	sent := make(chan error, 1)
	go func() { sent <- c.dialog.Respond(code, reason, nil) }()
	select {
	case err := <-sent:
		if err != nil {
			return fmt.Errorf("sip: send %d: %w", code, err)
		}
	case <-time.After(time.Second):
		c.log.Debug("sip: no ACK yet for final response", "code", code)
	}
	c.log.Info("call: refused", "code", code, "reason", reason)
	return nil
}

// Hangup ends the call: BYE when answered (see session.hangup: the BYE
// runs its full course even after ctx ends), 480 before that.
func (c *InboundCall) Hangup(ctx context.Context) error {
	c.mu.Lock()
	answered, final := c.answered, c.final
	c.mu.Unlock()
	if !answered {
		if !final {
			return c.finalError(480, "Temporarily Unavailable", "hangup-before-answer")
		}
		return nil
	}
	return c.hangup(ctx)
}

func uriUser(h interface{ Value() string }) string {
	switch v := h.(type) {
	case *sipmsg.FromHeader:
		if v == nil {
			return ""
		}
		if v.Address.User != "" {
			return v.Address.User
		}
		return v.Address.String()
	case *sipmsg.ToHeader:
		if v == nil {
			return ""
		}
		if v.Address.User != "" {
			return v.Address.User
		}
		return v.Address.String()
	}
	return ""
}

// Refuse ends an unanswered call with a SIP error response (e.g. 404 when
// no application serves the number).
func (c *InboundCall) Refuse(code int, reason string) {
	if err := c.finalError(code, reason, "refused"); err != nil {
		c.log.Warn("sip: refuse failed", "code", code, "error", err)
	}
}
