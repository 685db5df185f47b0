package sip

import (
	"context"
	"fmt"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// The timers of RFC 3261 that sipgo's transaction layer does not run for
// us live here: the UAS core's 2xx retransmission and ACK wait (§13.3.1.4)
// and the lifetime of our BYE (§15, bounded by the client transaction's
// Timer F). Their base values are sipgo's T1 and T2 (sipmsg.T1,
// sipmsg.T2), so one setting (Config.T1) moves every timer together. The
// README's "SIP timers" table lists them all.

// ackOutcome is how the wait for the ACK of a 2xx ended.
type ackOutcome int

const (
	ackReceived    ackOutcome = iota // the ACK arrived
	ackTimedOut                      // 64·T1 passed without it
	ackWaitAborted                   // the dialog or call ended first
)

func (o ackOutcome) String() string {
	switch o {
	case ackReceived:
		return "acked"
	case ackTimedOut:
		return "timed out"
	default:
		return "aborted"
	}
}

// retransmit2xx keeps a 2xx response to an INVITE alive until its ACK
// arrives, as RFC 3261 §13.3.1.4 asks of the UAS core (on every transport:
// the ACK is end to end and may cross UDP hops). The response has been
// sent once already; send passes it to the transport again after T1, then
// at intervals doubling up to T2 (0.5, 1, 2, 4, 4… s by default). The wait
// ends when acked is closed, when aborted is closed, or after 64·T1 in
// all. A failed send (a transient transport error, or the transaction
// already gone) changes nothing: the schedule goes on, the ACK is still
// awaited.
func retransmit2xx(acked, aborted <-chan struct{}, t1, t2 time.Duration, send func() error) ackOutcome {
	deadline := time.NewTimer(64 * t1)
	defer deadline.Stop()
	interval := t1
	next := time.NewTimer(interval)
	defer next.Stop()
	for {
		select {
		case <-acked:
			return ackReceived
		case <-aborted:
			return ackWaitAborted
		case <-deadline.C:
			return ackTimedOut
		case <-next.C:
			_ = send() // errors are the caller's to log
			interval = min(2*interval, t2)
			next.Reset(interval)
		}
	}
}

// ackWait is one 2xx we sent to an INVITE (the dialog's first or a
// re-INVITE) waiting for its ACK, found by the INVITE's CSeq number.
type ackWait struct {
	cseq  uint32
	acked chan struct{} // closed by session.ackReceived
}

// expectAck registers the wait for the ACK of our 2xx to the INVITE with
// sequence number cseq. Register before sending the 2xx: the ACK may
// overtake the code that sent it.
func (s *session) expectAck(cseq uint32) *ackWait {
	w := &ackWait{cseq: cseq, acked: make(chan struct{})}
	s.mu.Lock()
	if s.acks == nil {
		s.acks = map[uint32]*ackWait{}
	}
	s.acks[cseq] = w
	s.mu.Unlock()
	return w
}

// ackReceived ends the wait an ACK answers. It reports whether one was
// waiting (a retransmitted or late ACK finds none).
func (s *session) ackReceived(ack *sipmsg.Request) bool {
	cseq := ack.CSeq()
	if cseq == nil {
		return false
	}
	s.mu.Lock()
	w := s.acks[cseq.SeqNo]
	delete(s.acks, cseq.SeqNo)
	s.mu.Unlock()
	if w == nil {
		return false
	}
	close(w.acked)
	return true
}

// forgetAck drops w when it is still registered.
func (s *session) forgetAck(w *ackWait) {
	s.mu.Lock()
	if s.acks[w.cseq] == w {
		delete(s.acks, w.cseq)
	}
	s.mu.Unlock()
}

// waitAck retransmits res through tx until w's ACK arrives (see
// retransmit2xx) or aborted is closed. Without an ACK after 64·T1 the
// session SHOULD end (RFC 3261 §13.3.1.4): the call is stopped with reason
// "no-ack" and its owner sends the BYE.
func (s *session) waitAck(w *ackWait, tx sipmsg.ServerTransaction, res *sipmsg.Response, aborted <-chan struct{}) ackOutcome {
	failed := false
	send := func() error {
		err := tx.Respond(res)
		if err != nil && !failed {
			failed = true
			s.log.Debug("sip: 2xx retransmission failed", "cseq", w.cseq, "error", err)
		}
		return err
	}
	out := retransmit2xx(w.acked, aborted, sipmsg.T1, sipmsg.T2, send)
	s.forgetAck(w)
	if out == ackTimedOut {
		s.log.Warn("sip: no ACK for 2xx within 64·T1; ending the call", "cseq", w.cseq, "waited", (64 * sipmsg.T1).String())
		s.stop("no-ack")
	}
	return out
}

// byeTransaction sends req (a BYE built for the dialog) as a client
// transaction and waits for its final response for the transaction's
// whole life: over UDP sipgo retransmits it on Timer E (T1, doubling up to
// T2) until Timer F (64·T1), over TCP it waits up to Timer F. No context
// of the caller cuts it short; ctx only bounds opening a connection.
func byeTransaction(dlg dialog, req *sipmsg.Request) (*sipmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 64*sipmsg.T1)
	defer cancel()
	tx, err := dlg.TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("start BYE transaction: %w", err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, sipmsg.ErrTransactionTerminated
		}
	}
}
