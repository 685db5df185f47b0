package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voxgate/voxgate/media/webrtc"
	"github.com/voxgate/voxgate/queue"
)

// Call setup timeouts.
const (
	answerTimeout  = 10 * time.Second // ICE gathering for the answer
	connectTimeout = 15 * time.Second // from the answer to ICE and DTLS up
)

// call is the agent's audio leg for one offer, from "accept" until it
// ends.
type call struct {
	offerID string
	callSID string
	leg     *webrtc.Leg
	bridged bool // handed to the queue (guarded by agentConn.mu)
}

// startAccept begins taking the offer: the WebRTC negotiation and the
// hand-over run on their own goroutine so that the page can still reject
// or hang up meanwhile.
func (c *agentConn) startAccept(offerID, sdp string) {
	if offerID == "" || sdp == "" {
		c.sendError(msgAccept, offerID, "accept needs an offerId and the page's SDP offer")
		return
	}
	leg, err := webrtc.NewLeg(c.legConfig(offerID))
	if err != nil {
		c.log.Error("agent leg", "err", err)
		c.sendError(msgAccept, offerID, "the gateway could not start the audio")
		return
	}
	cl := &call{offerID: offerID, leg: leg}
	c.mu.Lock()
	if c.offer.ID == offerID {
		cl.callSID = c.offer.CallSID
	}
	busy := c.call != nil
	if !busy {
		c.call = cl
	}
	c.mu.Unlock()
	if busy {
		leg.Close("agent busy")
		c.sendError(msgAccept, offerID, "you are already on a call")
		return
	}
	c.tasks.Go(func() { c.runCall(cl, sdp) })
}

// runCall negotiates the leg, hands it to the queue once connected, and
// tells the page when the call ends.
func (c *agentConn) runCall(cl *call, sdp string) {
	if err := c.connectCall(cl, sdp); err != nil {
		c.log.Info("accept failed", "offer", cl.offerID, "err", err)
		// A leg we closed ourselves was abandoned by the page (hangup,
		// reject) or the queue (withdrawn, expired): the page knows.
		abandoned := strings.HasPrefix(cl.leg.Reason(), "closed: ")
		cl.leg.Close("accept failed")
		c.forget(cl)
		if !abandoned {
			c.sendError(msgAccept, cl.offerID, err.Error())
		}
		return
	}
	c.send(acceptedMessage{Type: "accepted", OfferID: cl.offerID, CallSID: cl.callSID})
	<-cl.leg.Done()
	c.forget(cl)
	reason := strings.TrimPrefix(cl.leg.Reason(), "closed: ")
	c.log.Info("agent call ended", "offer", cl.offerID, "reason", reason)
	c.send(endedMessage{Type: "ended", Reason: reason})
}

// connectCall answers the page's offer, waits for the connection and
// accepts the offer with the leg. Its errors are meant for the agent.
func (c *agentConn) connectCall(cl *call, sdp string) error {
	ctx, cancel := context.WithTimeout(c.ctx, answerTimeout)
	answer, err := cl.leg.Answer(ctx, sdp)
	cancel()
	if err != nil {
		return fmt.Errorf("could not negotiate audio with the browser: %w", err)
	}
	c.send(answerMessage{Type: "answer", OfferID: cl.offerID, SDP: answer})

	timer := time.NewTimer(connectTimeout)
	defer timer.Stop()
	select {
	case <-cl.leg.Connected():
	case <-cl.leg.Done():
		return errors.New("the audio connection failed")
	case <-timer.C:
		return fmt.Errorf("the audio did not connect within %v: is UDP to the gateway blocked?", connectTimeout)
	case <-c.ctx.Done():
		return c.ctx.Err()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.call != cl {
		return errors.New("the call was hung up")
	}
	if err := c.session.Accept(cl.offerID, cl.leg); err != nil {
		if errors.Is(err, queue.ErrOfferGone) {
			return errors.New("the caller is no longer waiting")
		}
		return fmt.Errorf("the call could not be taken: %w", err)
	}
	cl.bridged = true
	return nil
}

// forget clears cl as the current call.
func (c *agentConn) forget(cl *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.call == cl {
		c.call = nil
	}
}

// hangUp ends the current call, if any: a bridged call's bridge ends (the
// caller goes on after its queue); a call still being set up is given
// back to the queue as a rejection.
func (c *agentConn) hangUp(reason string) {
	c.mu.Lock()
	cl := c.call
	c.mu.Unlock()
	if cl == nil {
		return
	}
	if !c.isBridged(cl) && c.session != nil {
		c.session.Reject(cl.offerID)
	}
	cl.leg.Close(reason)
}

// isBridged reports whether cl was handed to the queue.
func (c *agentConn) isBridged(cl *call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cl.bridged
}

// reject turns the offer down, abandoning its call setup if one runs.
func (c *agentConn) reject(offerID string) {
	c.session.Reject(offerID)
	c.offerGone(offerID)
}

// offerGone abandons the set-up of a call for offerID (it was rejected,
// withdrawn or expired); a bridged call is not touched.
func (c *agentConn) offerGone(offerID string) {
	c.mu.Lock()
	cl := c.call
	c.mu.Unlock()
	if cl != nil && cl.offerID == offerID && !c.isBridged(cl) {
		cl.leg.Close("offer gone")
	}
}

// dtmf delivers a keypad press as a digit of the agent's leg.
func (c *agentConn) dtmf(digit string) {
	c.mu.Lock()
	cl := c.call
	c.mu.Unlock()
	switch {
	case cl == nil || !c.isBridged(cl):
		c.sendError(msgDTMF, "", "no call in progress")
	case len(digit) != 1 || !strings.Contains("0123456789*#ABCDabcd", digit):
		c.sendError(msgDTMF, "", "not a DTMF key: "+digit)
	default:
		cl.leg.InjectDigit(digit[0])
	}
}
