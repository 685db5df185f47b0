package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/voxgate/voxgate/media"
)

// InboundCall is one call received by the Server: its dialog and RTP leg.
// Its methods are safe for concurrent use.
type InboundCall struct {
	srv    *Server
	sid    string
	invite *sipmsg.Request
	dialog *sipgo.DialogServerSession
	leg    *media.RTPLeg
	log    *slog.Logger

	ctx    context.Context // ends when the call ends
	cancel context.CancelFunc

	mu         sync.Mutex
	offer      Offer
	sessionID  uint64
	sdpVersion uint64
	ringing    bool
	answered   bool
	answeredAt time.Time
	final      bool // a final response was sent
	endReason  string
	endedAt    time.Time
}

func newInboundCall(s *Server, callSID string, req *sipmsg.Request, dlg *sipgo.DialogServerSession, leg *media.RTPLeg, offer Offer, log *slog.Logger) *InboundCall {
	ctx, cancel := context.WithCancel(dlg.Context())
	return &InboundCall{
		srv: s, sid: callSID, invite: req, dialog: dlg, leg: leg, log: log,
		ctx: ctx, cancel: cancel, offer: offer,
		sessionID: rand.Uint64N(1 << 62), sdpVersion: 1,
	}
}

// run drives the call: it starts the handler and tidies up after it.
func (c *InboundCall) run(h Handler) {
	c.log.Info("call: incoming", "from", c.From(), "to", c.To(), "source", c.Source().String(), "codec", c.offer.Codec.Name, "transport", c.invite.Transport())
	c.leg.Start()
	// The call ends when the dialog ends (BYE, CANCEL) or its media dies.
	go func() {
		select {
		case <-c.ctx.Done():
		case <-c.leg.Done():
			c.setEnd("media: " + c.leg.Reason())
			c.cancel()
		}
	}()
	h(c.ctx, c)
	c.finish()
}

// finish hangs up whatever is still up once the handler has returned.
func (c *InboundCall) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Hangup(ctx)
	c.leg.Close("call ended")
	c.cancel()
	c.mu.Lock()
	reason, answered, at := c.endReason, c.answered, c.answeredAt
	c.mu.Unlock()
	var dur time.Duration
	if answered {
		dur = time.Since(at).Round(time.Second)
	}
	c.log.Info("call: ended", "reason", reason, "duration", dur.String())
}

func (c *InboundCall) stop(reason string) {
	c.setEnd(reason)
	c.cancel()
}

func (c *InboundCall) setEnd(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endReason == "" {
		c.endReason = reason
		c.endedAt = time.Now()
	}
}

// SID is the call's CA SID.
func (c *InboundCall) SID() string { return c.sid }

// From is the caller: the user part of the From URI (a number or a name),
// or the whole URI when it has no user part.
func (c *InboundCall) From() string { return uriUser(c.invite.From()) }

// To is the dialled number: the user part of the Request-URI.
func (c *InboundCall) To() string {
	if u := c.invite.Recipient.User; u != "" {
		return u
	}
	return uriUser(c.invite.To())
}

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
func (c *InboundCall) XHeaders() map[string]string {
	out := map[string]string{}
	for _, h := range c.invite.Headers() {
		if n := h.Name(); len(n) > 2 && strings.EqualFold(n[:2], "x-") {
			out[strings.ToLower(n)] = h.Value()
		}
	}
	return out
}

// Leg is the call's audio.
func (c *InboundCall) Leg() media.Leg { return c.leg }

// RTPLeg is the call's audio as the concrete RTP leg.
func (c *InboundCall) RTPLeg() *media.RTPLeg { return c.leg }

// Done is closed when the call has ended for any reason.
func (c *InboundCall) Done() <-chan struct{} { return c.ctx.Done() }

// EndReason says why the call ended ("remote-bye", "canceled", ...), or "".
func (c *InboundCall) EndReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endReason == "" && c.ctx.Err() != nil {
		return "canceled"
	}
	return c.endReason
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
	if err := c.dialog.Respond(180, "Ringing", nil, c.contactHeader()); err != nil {
		return fmt.Errorf("sip: send 180: %w", err)
	}
	return nil
}

func (c *InboundCall) contactHeader() sipmsg.Header {
	h := c.srv.contactFor(c.invite)
	return &h
}

// Answer sends 200 OK with the SDP answer. The ACK is awaited in the
// background; a call that is never ACKed is hung up.
func (c *InboundCall) Answer(ctx context.Context) error {
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
		c.mu.Unlock()
		return fmt.Errorf("sip: answer: call already ended (%s)", c.EndReasonLocked())
	}
	c.answered, c.final, c.answeredAt = true, true, time.Now()
	body := c.answerSDPLocked()
	c.mu.Unlock()

	res := sipmsg.NewSDPResponseFromRequest(c.dialog.InviteRequest, body)
	res.AppendHeader(c.contactHeader())
	sent := make(chan error, 1)
	go func() {
		// WriteResponse sends the 200 and retransmits it until the ACK.
		err := c.dialog.WriteResponse(res)
		select {
		case sent <- err:
		default:
		}
		if err != nil && c.ctx.Err() == nil {
			c.log.Warn("sip: no ACK for 200 OK; hanging up", "error", err)
			c.stop("no-ack")
		}
	}()
	select {
	case err := <-sent:
		if err != nil {
			return fmt.Errorf("sip: send 200: %w", err)
		}
	case <-time.After(50 * time.Millisecond): // sent; the ACK is pending
	case <-ctx.Done():
		return ctx.Err()
	}
	c.log.Info("call: answered")
	return nil
}

// EndReasonLocked is EndReason for callers holding c.mu.
func (c *InboundCall) EndReasonLocked() string { return c.endReason }

func (c *InboundCall) answerSDPLocked() []byte {
	a := Answer{
		SessionID:        c.sessionID,
		Version:          c.sdpVersion,
		Local:            netip.AddrPortFrom(c.srv.cfg.PublicIP, c.leg.LocalAddr().Port()),
		Codec:            c.offer.Codec,
		EventPayloadType: c.offer.EventPayloadType,
		Direction:        c.offer.Direction.answer(),
	}
	return a.Marshal()
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

// Hangup ends the call: BYE when answered, 480 before that.
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
	if c.dialog.LoadState() == sipmsg.DialogStateEnded {
		return nil
	}
	c.setEnd("local-bye")
	defer c.cancel()
	defer c.leg.Close("hangup")
	if err := c.dialog.Bye(ctx); err != nil {
		return fmt.Errorf("sip: send BYE: %w", err)
	}
	c.log.Info("call: sent BYE")
	return nil
}

func (c *InboundCall) remoteBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	c.setEnd("remote-bye")
	if err := c.dialog.ReadBye(req, tx); err != nil {
		c.log.Warn("sip: BYE not accepted", "error", err)
		c.srv.respond(req, tx, 400, "Bad Request")
		return
	}
	c.log.Info("call: remote hung up")
	c.leg.Close("remote-bye")
	c.cancel()
}

// reInvite answers an in-dialog INVITE on the same media: a new remote
// address or codec, hold (sendonly/inactive) or a session refresh.
func (c *InboundCall) reInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	body := req.Body()
	c.mu.Lock()
	if len(body) > 0 {
		offer, err := ParseOffer(body)
		if err != nil {
			c.mu.Unlock()
			code, reason := 400, "Bad Request"
			if errors.Is(err, ErrNoCommonCodec) {
				code, reason = 488, "Not Acceptable Here"
			}
			c.log.Warn("sip: re-INVITE rejected", "code", code, "error", err)
			c.srv.respond(req, tx, code, reason)
			return
		}
		c.offer = offer
		c.sdpVersion++
		c.leg.Update(offer.Remote, offer.Codec, offer.EventPayloadType)
		c.leg.SetHold(offer.OnHold())
		c.log.Info("call: re-INVITE", "hold", offer.OnHold(), "remote", offer.Remote.String(), "codec", offer.Codec.Name)
	}
	sdp := c.answerSDPLocked()
	c.mu.Unlock()
	res := sipmsg.NewSDPResponseFromRequest(req, sdp)
	res.AppendHeader(c.contactHeader())
	if err := tx.Respond(res); err != nil {
		c.log.Warn("sip: answer re-INVITE", "error", err)
	}
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

// Logger is the call's logger (it carries call_sid).
func (c *InboundCall) Logger() *slog.Logger { return c.log }

// Refuse ends an unanswered call with a SIP error response (e.g. 404 when
// no application serves the number).
func (c *InboundCall) Refuse(code int, reason string) {
	if err := c.finalError(code, reason, "refused"); err != nil {
		c.log.Warn("sip: refuse failed", "code", code, "error", err)
	}
}
