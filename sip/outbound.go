package sip

import (
	"context"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// OutboundCall is an answered call placed by Server.Dial. Its methods
// mirror InboundCall's; Ringing, Answer and Reject do nothing (the call is
// already answered), so it satisfies the call engine's Call interface. Its
// methods are safe for concurrent use.
//
// The call ends when the far end sends BYE (answered with 200), Hangup is
// called, its RTP leg dies (then BYE is sent), or the Server shuts down
// (BYE too). Re-INVITEs and INFO digits from the far end are handled as on
// inbound calls.
type OutboundCall struct {
	session
	invite     *sipmsg.Request  // the INVITE that was answered
	answer     *sipmsg.Response // its 200 OK
	from, to   string
	trunk      string
	answeredAt time.Time
}

// run owns the call from its answer to its end: it waits for the end,
// then runs the hang-up tail (session.end: BYE if nobody has, media
// released). It holds the call's slot in the Server's callWG.
func (c *OutboundCall) run() {
	defer c.srv.callWG.Done()
	defer c.srv.unregister(&c.session)
	defer c.stopShutdownWatch()
	defer c.waitBackground() // the session timer (started by Dial) ends with the call
	c.watchMedia()           // returns once the call is over, whoever ended it
	c.end(c.answeredAt)
}

// From is the caller ID the call was placed with (the From user).
func (c *OutboundCall) From() string { return c.from }

// To is the dialled target as given to Dial: a number, or a SIP URI
// without its ?headers.
func (c *OutboundCall) To() string { return c.to }

// Trunk is the name of the trunk the call went through, "" for a SIP URI
// dialled directly.
func (c *OutboundCall) Trunk() string { return c.trunk }

// SIPCallID is the SIP Call-ID of the dialog.
func (c *OutboundCall) SIPCallID() string { return callID(c.invite) }

// ResponseCode is the SIP status code that answered the call (200).
func (c *OutboundCall) ResponseCode() int { return c.answer.StatusCode }

// Header returns the first value of a header of the 200 OK, or "".
func (c *OutboundCall) Header(name string) string {
	if h := c.answer.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// XHeaders returns the X- headers of the 200 OK by lowercased name (for
// DialSipHeader_<name>).
func (c *OutboundCall) XHeaders() map[string]string { return xHeaders(c.answer) }

// Ringing does nothing: an outbound call is answered already.
func (c *OutboundCall) Ringing() error { return nil }

// Answer does nothing: an outbound call is answered already.
func (c *OutboundCall) Answer(ctx context.Context) error { return nil }

// Reject does nothing: an answered call cannot be rejected; use Hangup.
func (c *OutboundCall) Reject(ctx context.Context, busy bool) error { return nil }

// Hangup ends the call with BYE and waits for its answer until ctx ends;
// the BYE transaction itself runs its full course (Timer F) regardless.
// It does nothing when the call has already ended.
func (c *OutboundCall) Hangup(ctx context.Context) error {
	return c.hangup(ctx)
}

// uacBye builds our BYE in a dialog we created (UAC side): to the far
// end's Contact from its 2xx, over the INVITE's transport and from the
// same socket; the dialog fills in the rest.
func uacBye(invite *sipmsg.Request, answer *sipmsg.Response) *sipmsg.Request {
	return uacRequest(sipmsg.BYE, invite, answer)
}

// uacRequest builds a request of ours in a dialog we created (BYE, a
// refresh, its ACK) like uacBye; refreshes carry the INVITE's Contact.
func uacRequest(method sipmsg.RequestMethod, invite *sipmsg.Request, answer *sipmsg.Response) *sipmsg.Request {
	target := invite.Recipient
	if c := answer.Contact(); c != nil {
		target = c.Address
	}
	req := sipmsg.NewRequest(method, *target.Clone())
	req.SetTransport(invite.Transport())
	req.Laddr = invite.Laddr
	if c := invite.Contact(); c != nil && (method == sipmsg.INVITE || method == sipmsg.UPDATE) {
		req.AppendHeader(sipmsg.HeaderClone(c))
	}
	return req
}
