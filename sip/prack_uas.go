package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Reliable provisional responses as UAS (RFC 3262).
//
// A caller whose INVITE says Supported: 100rel gets our 183 Session
// Progress with SDP (early media, see InboundCall.EarlyMedia) reliably:
// Require: 100rel and an RSeq, retransmitted from T1 doubling to T2 until
// its PRACK, given up after 64·T1 (the INVITE is then refused 504). A
// caller that says Require: 100rel gets every provisional response but
// 100 so, the 180 too. One reliable provisional is outstanding at a time
// (§3): the next waits for the PRACK of the one before, and so does the
// 200. A PRACK whose RAck matches the outstanding one is answered 200,
// any other 481; a PRACK may carry an SDP offer (§5), answered in its
// 200 (see prack).

// ErrNoEarlyMedia is returned by EarlyMedia when the call cannot have
// early media: its INVITE had no SDP offer (late offer), or it has been
// answered or refused already.
var ErrNoEarlyMedia = errors.New("sip: no early media on this call")

// rel100 is how a caller's INVITE asks for reliable provisionals.
type rel100 uint8

const (
	rel100None      rel100 = iota // neither Supported nor Require names 100rel
	rel100Supported               // Supported: 100rel: we may send them
	rel100Required                // Require: 100rel: every 1xx but 100 must be
)

func rel100Of(req *sipmsg.Request) rel100 {
	switch {
	case hasOption(req, "100rel", "Require"):
		return rel100Required
	case hasOption(req, "100rel", "Supported", "k"):
		return rel100Supported
	}
	return rel100None
}

// reliable1xx is our reliable provisional response waiting for its PRACK.
type reliable1xx struct {
	rseq    uint32
	acked   bool          // its PRACK came (guarded by session.mu)
	pracked chan struct{} // closed once the matching PRACK is answered
	over    chan struct{} // closed when its retransmissions have stopped
}

// provisional sends a provisional response (180, 183) to the INVITE,
// reliably when the caller asked for it (required) or allows it and we
// want it (wantReliable). A reliable one waits for the PRACK of the one
// before, until ctx ends.
func (c *InboundCall) provisional(ctx context.Context, code int, reason string, body []byte, wantReliable bool) error {
	c.mu.Lock()
	reliable := c.rel100 == rel100Required || c.rel100 == rel100Supported && wantReliable
	prev := c.pending1xx
	c.mu.Unlock()
	if reliable && prev != nil {
		select {
		case <-prev.over:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return ErrNoEarlyMedia
		}
	}
	c.mu.Lock()
	if c.final || c.ctx.Err() != nil {
		c.mu.Unlock()
		return ErrNoEarlyMedia
	}
	res := sipmsg.NewResponseFromRequest(c.dialog.InviteRequest, code, reason, nil)
	res.AppendHeader(sipmsg.HeaderClone(&c.contact))
	var r *reliable1xx
	if reliable {
		c.rseq++
		r = &reliable1xx{rseq: c.rseq, pracked: make(chan struct{}), over: make(chan struct{})}
		c.pending1xx = r
		res.AppendHeader(sipmsg.NewHeader("Require", "100rel"))
		res.AppendHeader(sipmsg.NewHeader("RSeq", strconv.FormatUint(uint64(r.rseq), 10)))
		res.AppendHeader(sipmsg.NewHeader("Allow", allowedMethods))
	}
	if len(body) > 0 {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(body)
	}
	c.mu.Unlock()
	if err := c.inviteTx.Respond(res); err != nil {
		if r != nil {
			close(r.over)
		}
		return fmt.Errorf("sip: send %d: %w", code, err)
	}
	if r != nil {
		c.log.Debug("sip: reliable provisional sent", "code", code, "rseq", r.rseq)
		if !c.goBackground(func() { c.retransmit1xx(r, res) }) {
			close(r.over)
		}
	}
	return nil
}

// retransmit1xx resends a reliable provisional response from T1 doubling
// to T2 until its PRACK, the call's final response or its end. Without a
// PRACK for 64·T1 the INVITE is refused 504 (RFC 3262 §3).
func (c *InboundCall) retransmit1xx(r *reliable1xx, res *sipmsg.Response) {
	defer close(r.over)
	out := retransmit2xx(r.pracked, c.provCtx.Done(), sipmsg.T1, sipmsg.T2, func() error {
		c.log.Debug("sip: reliable provisional retransmitted", "rseq", r.rseq)
		return c.inviteTx.Respond(res)
	})
	if out == ackTimedOut && c.provCtx.Err() == nil {
		c.log.Warn("sip: no PRACK for a reliable provisional within 64·T1; refusing the call", "rseq", r.rseq)
		if err := c.finalError(504, "Server Time-out", "no-prack"); err != nil {
			c.log.Warn("sip: refuse failed", "code", 504, "error", err)
		}
	}
}

// EarlyMedia sends 183 Session Progress with our SDP answer, so that
// what is played on the leg before the answer reaches the caller (RFC
// 3960 early media): reliably (100rel) when the caller supports it, else
// as a plain 183. It returns once the 183 is sent, without waiting for
// its PRACK; Answer waits for it. Calling it again does nothing.
func (c *InboundCall) EarlyMedia(ctx context.Context) error {
	c.mu.Lock()
	if c.earlySent {
		c.mu.Unlock()
		return nil
	}
	if c.final || c.awaitingAnswer {
		c.mu.Unlock()
		return ErrNoEarlyMedia
	}
	c.earlySent = true
	body := c.localSDPLocked()
	c.mu.Unlock()
	if err := c.provisional(ctx, 183, "Session Progress", body, true); err != nil {
		return err
	}
	c.log.Info("call: early media (183)", "reliable", c.rel100 != rel100None)
	return nil
}

// awaitEarlyPRACK waits before the 200 for the PRACK of our outstanding
// reliable provisional (RFC 3262 §3: no final response while one is
// unacknowledged; the PRACK of an SDP-less one may carry the offer that
// the 200 answers, §5), until it comes, is given up, or ctx ends.
func (c *InboundCall) awaitEarlyPRACK(ctx context.Context) error {
	c.mu.Lock()
	r := c.pending1xx
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	select {
	case <-r.pracked:
		return nil
	case <-r.over:
		select {
		case <-r.pracked:
			return nil
		default:
			return errors.New("sip: answer: the reliable provisional's PRACK never came")
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return errors.New("sip: answer: call ended")
	}
}

// prack answers a PRACK (RFC 3262 §3): 200 when its RAck names our
// outstanding reliable provisional response to this INVITE, else 481.
// A PRACK may carry an SDP offer (§5): when the INVITE had none (late
// offer; our reliable 1xx then carries no SDP), its 200 carries our
// answer, and so does the INVITE's 200 (the same SDP), whose ACK then
// brings none; after a 183 that carried our answer, it is a new offer,
// taken like a re-INVITE's. An offer we cannot take gets 488, and the
// INVITE is refused 488 too when it was the call's first offer.
func (c *InboundCall) prack(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	rseq, cseq, method, ok := parseRAck(req)
	c.mu.Lock()
	r := c.pending1xx
	match := ok && r != nil && !r.acked && rseq == r.rseq && cseq == c.invite.CSeq().SeqNo && strings.EqualFold(method, "INVITE")
	if match {
		r.acked = true
	}
	var answer []byte
	var offerErr error
	first := c.awaitingAnswer
	if match && len(req.Body()) > 0 {
		answer, offerErr = c.prackOfferLocked(req)
	}
	c.mu.Unlock()
	if !match {
		c.log.Info("sip: PRACK matches no reliable provisional", "rack", rackValue(req))
		c.srv.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.log.Debug("sip: PRACK received", "rseq", rseq, "offer", len(req.Body()) > 0)
	if offerErr != nil {
		code, reason := 400, "Bad Request"
		if errors.Is(offerErr, ErrNoCommonCodec) || errors.Is(offerErr, ErrMediaFamily) || errors.Is(offerErr, ErrSRTPPolicy) {
			code, reason = 488, "Not Acceptable Here"
		}
		c.log.Warn("sip: offer in PRACK refused", "code", code, "error", offerErr)
		c.srv.respond(req, tx, code, reason, sipmsg.NewHeader("Warning", fmt.Sprintf("399 voxgate %q", offerErr.Error())))
		if first { // refused before the PRACK counts, so that no 200 goes out meanwhile
			if err := c.finalError(488, "Not Acceptable Here", "prack-offer-refused"); err != nil {
				c.log.Warn("sip: refuse failed", "code", 488, "error", err)
			}
		}
		close(r.pracked)
		return
	}
	// Answered before what waits for it goes on (the next reliable 1xx,
	// the 200), so that the caller sees them in order.
	if answer == nil {
		c.srv.respond(req, tx, 200, "OK", sipmsg.HeaderClone(&c.contact))
	} else {
		res := sipmsg.NewSDPResponseFromRequest(req, answer)
		res.AppendHeader(sipmsg.HeaderClone(&c.contact))
		if err := tx.Respond(res); err != nil {
			c.log.Debug("sip: respond to PRACK failed", "error", err)
		}
	}
	close(r.pracked)
}

// prackOfferLocked takes the SDP offer of a PRACK and returns our answer.
// The caller holds c.mu.
func (c *InboundCall) prackOfferLocked(req *sipmsg.Request) ([]byte, error) {
	if ct := req.ContentType(); ct != nil && !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
		return nil, fmt.Errorf("PRACK body is %s, not SDP", ct.Value())
	}
	if c.final {
		return nil, errors.New("PRACK offer after the final response")
	}
	offer, err := ParseOffer(req.Body())
	if err == nil {
		err = checkOfferFamily(offer, c.srv.cfg.PublicIP)
	}
	if err == nil {
		err = offer.Choose(c.codecs)
	}
	if err != nil {
		return nil, err
	}
	if !c.awaitingAnswer {
		// A new offer after our answer (RFC 3262 §5): as a re-INVITE's.
		if err := c.rekeyLocked(offer); err != nil {
			return nil, err
		}
		c.sdpVersion++
		c.applyRemoteLocked(offer)
		c.log.Info("call: new offer in PRACK", "remote", offer.Remote.String(), "codec", offer.Codec.Name)
		return c.localSDPLocked(), nil
	}
	// The call's first offer: the trunk's SRTP policy applies as to an
	// INVITE's, and the leg (keyed with nothing or with a stand-in key
	// until now, see lateOfferCrypto) takes the offer's key and ours.
	if err := checkSRTPPolicy(offer, c.srv.srtpPolicy(c.trunk)); err != nil {
		return nil, err
	}
	var local *SDESCrypto
	if offer.Crypto != nil {
		l := newLocalCrypto(offer.Crypto.Tag, offer.Crypto.Suite)
		if err := c.leg.RekeySRTP(srtpKeys(&l, offer.Crypto)); err != nil {
			return nil, err
		}
		local = &l
	}
	c.localCrypto = local
	c.awaitingAnswer = false
	c.applyRemoteLocked(offer)
	c.log.Info("call: offer in PRACK answered", "remote", offer.Remote.String(), "codec", offer.Codec.Name, "srtp", local != nil)
	return c.localSDPLocked(), nil
}

func rackValue(req *sipmsg.Request) string {
	if h := req.GetHeader("RAck"); h != nil {
		return h.Value()
	}
	return ""
}

// parseRAck reads "RAck: rseq cseq method".
func parseRAck(req *sipmsg.Request) (rseq, cseq uint32, method string, ok bool) {
	f := strings.Fields(rackValue(req))
	if len(f) != 3 {
		return 0, 0, "", false
	}
	a, err1 := strconv.ParseUint(f[0], 10, 32)
	b, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	return uint32(a), uint32(b), f[2], true
}

func (s *Server) onPrack(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	call := s.lookup(req)
	if call == nil || call.onPrack == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	call.onPrack(req, tx)
}
