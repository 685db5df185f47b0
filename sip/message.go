package sip

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// SIP MESSAGE (RFC 3428) for SMS over SIP trunks.

// InboundMessage is a MESSAGE request the server received.
type InboundMessage struct {
	From, To  string // user parts of From and of the Request-URI
	Body      string // the text (the inner text of a message/cpim body)
	Trunk     string // the trunk the sender belongs to ("" when none matched)
	Source    netip.AddrPort
	SIPCallID string
}

// MessageHandler handles an inbound MESSAGE and returns the status to
// answer with (200 once the message is stored, 404 for an unknown number,
// 5xx when it could not be stored). It runs on a goroutine of sipgo's.
type MessageHandler func(ctx context.Context, m InboundMessage) int

// HandleMessages makes the server accept MESSAGE requests and hand them to
// h (call it before Serve). Without it MESSAGE gets 405. Senders pass the
// same checks as INVITEs (trunk allowed_ips, inbound digest credentials).
func (s *Server) HandleMessages(h MessageHandler) {
	s.srv.OnMessage(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		s.onMessage(req, tx, h)
	})
}

func (s *Server) onMessage(req *sipmsg.Request, tx sipmsg.ServerTransaction, h MessageHandler) {
	log := s.log.With("sip_call_id", callID(req))
	trunk, ok := s.admit(req, tx, log)
	if !ok {
		return
	}
	body, ok := messageText(req)
	if !ok {
		s.respond(req, tx, 415, "Unsupported Media Type", sipmsg.NewHeader("Accept", "text/plain, message/cpim"))
		return
	}
	src, _ := netip.ParseAddrPort(req.Source())
	m := InboundMessage{From: uriUser(req.From()), To: req.Recipient.User, Body: body, Trunk: trunk, Source: src, SIPCallID: callID(req)}
	code := h(s.ctx, m)
	reason := map[int]string{200: "OK", 202: "Accepted", 404: "Not Found", 500: "Server Internal Error", 503: "Service Unavailable"}[code]
	if reason == "" {
		reason = "Error"
	}
	s.respond(req, tx, code, reason)
}

// messageText returns the text of a MESSAGE body: text/plain (or no
// Content-Type), or the text/plain part of message/cpim.
func messageText(req *sipmsg.Request) (string, bool) {
	ct := "text/plain"
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", false
	}
	body := string(req.Body())
	switch mt {
	case "text/plain":
		return body, true
	case "message/cpim":
		// CPIM headers, a blank line, MIME headers, a blank line, the text.
		parts := strings.SplitN(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n", 3)
		if len(parts) == 3 {
			return parts[2], true
		}
	}
	return "", false
}

// OutboundMessage is a MESSAGE to send to a number through a trunk.
type OutboundMessage struct {
	Trunk    string // trunk name ("" = the first)
	From, To string // our number, the recipient's number
	Body     string
}

// maxUDPMessage is the largest MESSAGE sent over UDP (RFC 3428 §7):
// bigger ones go over TCP.
const maxUDPMessage = 1300

// SendMessage sends a MESSAGE and returns the final response's status
// code (2xx: accepted). Digest challenges are answered with the trunk's
// credentials. An error means no final response came.
func (s *Server) SendMessage(ctx context.Context, m OutboundMessage) (int, error) {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	rt, err := s.routeFor(DialRequest{To: m.To, Trunk: m.Trunk})
	if err != nil {
		return 0, err
	}
	if rt.transport == "UDP" && len(m.Body) > maxUDPMessage-300 {
		rt.transport = "TCP"
		rt.uri.UriParams = sipmsg.NewParams()
		rt.uri.UriParams.Add("transport", "tcp")
	}
	req := sipmsg.NewRequest(sipmsg.MESSAGE, rt.uri)
	req.SetTransport(rt.transport)
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: m.From, Host: s.cfg.PublicIP.String()}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: "sip", User: rt.uri.User, Host: rt.uri.Host, Port: rt.uri.Port}}
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(32))
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	req.SetBody([]byte(m.Body))
	if rt.transport == "UDP" && s.udpLocal != "" {
		if host, port, err := sipmsg.ParseAddr(s.udpLocal); err == nil {
			req.Laddr = sipmsg.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
		}
	}
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("sip: MESSAGE to %s: %w", rt.uri.String(), err)
	}
	if (res.StatusCode == 401 || res.StatusCode == 407) && rt.trunk != nil && rt.trunk.Username != "" {
		res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: rt.trunk.Username, Password: rt.trunk.Password})
		if err != nil {
			return 0, fmt.Errorf("sip: MESSAGE to %s (authenticated): %w", rt.uri.String(), err)
		}
	}
	return res.StatusCode, nil
}
