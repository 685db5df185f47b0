package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// refreshError is a session refresh the far end refused (a final
// response other than 2xx).
type refreshError struct {
	method string
	code   int
	reason string
}

func (e *refreshError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.method, e.code, e.reason)
}

// refreshFailureCode is the SIP cause a failed refresh puts in the BYE's
// Reason: the refusal's code, or 408 when no final response came.
func refreshFailureCode(err error) int {
	var re *refreshError
	if errors.As(err, &re) {
		return re.code
	}
	return 408
}

// setByeReason sets the Reason header (RFC 3326) our BYE carries.
func (s *session) setByeReason(v string) {
	s.mu.Lock()
	if s.byeReason == "" {
		s.byeReason = v
	}
	s.mu.Unlock()
}

// sendRefresh refreshes the session as its refresher (RFC 4028 §7.4,
// §8): with UPDATE without SDP when the far end allows UPDATE, else with
// a re-INVITE carrying our current SDP unchanged. An UPDATE answered 501
// or 405 is retried as a re-INVITE, and UPDATE is not used again; a 491
// (the far end's request crossed ours) is retried once after a short
// random wait (RFC 3261 §14.1). A 2xx's Session-Expires may change the
// interval and the refresher. It reports the method used.
func (s *session) sendRefresh(t *sessionTimer) (string, error) {
	s.mu.Lock()
	useUpdate := s.peerAllowsUpdate
	s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		method := sipmsg.INVITE
		if useUpdate {
			method = sipmsg.UPDATE
		}
		res, err := s.refreshTransaction(method, t)
		if err != nil {
			return method.String(), err
		}
		switch {
		case res.IsSuccess():
			s.applyRefreshAnswer(t, res)
			return method.String(), nil
		case useUpdate && (res.StatusCode == 501 || res.StatusCode == 405) && attempt == 0:
			s.mu.Lock()
			s.peerAllowsUpdate = false
			s.mu.Unlock()
			useUpdate = false
			continue
		case res.StatusCode == 491 && attempt == 0:
			wait := time.NewTimer(time.Duration(2100+rand.IntN(1900)) * time.Millisecond)
			select {
			case <-wait.C:
				continue
			case <-s.ctx.Done():
				wait.Stop()
				return method.String(), fmt.Errorf("%s: %w", method, s.ctx.Err())
			}
		}
		return method.String(), &refreshError{method: method.String(), code: res.StatusCode, reason: res.Reason}
	}
}

// refreshTransaction sends one refresh request and returns its final
// response; the 2xx to a re-INVITE is ACKed (and re-ACKed when
// retransmitted).
func (s *session) refreshTransaction(method sipmsg.RequestMethod, t *sessionTimer) (*sipmsg.Response, error) {
	req := s.newRequest(method)
	req.AppendHeader(t.seHeader(true))
	req.AppendHeader(sipmsg.NewHeader("Min-SE", fmt.Sprint(int(s.srv.minSE()/time.Second))))
	req.AppendHeader(sipmsg.NewHeader("Supported", "timer"))
	if method == sipmsg.INVITE {
		s.mu.Lock()
		body := s.localSDPLocked()
		s.mu.Unlock()
		req.AppendHeader(sipmsg.NewHeader("Allow", allowedMethods))
		req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	ctx, cancel := context.WithTimeout(s.ctx, 64*sipmsg.T1+time.Second)
	defer cancel()
	tx, err := s.dlg.TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", method, err)
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if method == sipmsg.INVITE && res.IsSuccess() {
				// The transaction stays for its Timer M: retransmitted
				// 2xx are ACKed again.
				s.ackRefresh(req, res, tx)
				return res, nil
			}
			tx.Terminate()
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", method, err)
			}
			return nil, fmt.Errorf("%s: %w", method, sipmsg.ErrTransactionTerminated)
		case <-ctx.Done():
			tx.Terminate()
			return nil, fmt.Errorf("%s: %w", method, ctx.Err())
		}
	}
}

// ackRefresh ACKs the 2xx to our re-INVITE: same CSeq number, to the far
// end's target, outside any transaction (RFC 3261 §13.2.2.4).
func (s *session) ackRefresh(inv *sipmsg.Request, res *sipmsg.Response, tx sipmsg.ClientTransaction) {
	build := func() *sipmsg.Request {
		ack := s.newRequest(sipmsg.ACK)
		ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sipmsg.ACK})
		for _, h := range []sipmsg.Header{inv.From(), res.To(), inv.CallID()} {
			ack.AppendHeader(sipmsg.HeaderClone(h))
		}
		ack.AppendHeader(sipmsg.HeaderClone(inv.Contact()))
		if d := inv.Destination(); d != "" {
			ack.SetDestination(d)
		}
		return ack
	}
	tx.OnRetransmission(func(r *sipmsg.Response) {
		if r.IsSuccess() {
			_ = s.srv.client.WriteRequest(build())
		}
	})
	if err := s.srv.client.WriteRequest(build()); err != nil {
		s.log.Warn("sip: ACK of refresh re-INVITE", "error", err)
	}
}

// applyRefreshAnswer takes what the 2xx to our refresh says: its
// Session-Expires (refresher=uac: we, the refresh's sender, go on
// refreshing) and, for a re-INVITE, the SDP answer's address and codec.
func (s *session) applyRefreshAnswer(t *sessionTimer, res *sipmsg.Response) {
	if v, ok := headerValue(res, "Session-Expires", "x"); ok {
		if secs, refresher, ok := parseSessionExpires(v); ok {
			interval, weRefresh := t.state()
			if d := time.Duration(secs) * time.Second; d >= s.srv.minSE() {
				interval = d
			}
			switch refresher {
			case "uac":
				weRefresh = true
			case "uas":
				weRefresh = false
			}
			t.set(interval, weRefresh)
		}
	}
	if body := res.Body(); len(body) > 0 {
		if answer, err := ParseOffer(body); err == nil && checkOfferFamily(answer, s.srv.cfg.PublicIP) == nil {
			s.mu.Lock()
			s.applyRemoteLocked(answer)
			s.mu.Unlock()
		}
	}
}
