package messaging

import (
	"context"
	"strconv"

	"github.com/voxgate/voxgate/sip"
)

// SIPSender sends MESSAGE requests (*sip.Server implements it).
type SIPSender interface {
	SendMessage(ctx context.Context, m sip.OutboundMessage) (int, error)
}

// SIPTransport carries SMS as RFC 3428 MESSAGE requests over a SIP trunk.
// Inbound MESSAGEs reach the Service through [SIPTransport.Inbound], which
// the gateway wires to the SIP server's message handler.
type SIPTransport struct {
	name   string
	sender SIPSender
}

// NewSIPTransport returns the transport of trunk name.
func NewSIPTransport(name string, sender SIPSender) *SIPTransport {
	return &SIPTransport{name: name, sender: sender}
}

// Name implements Transport.
func (t *SIPTransport) Name() string { return t.name }

// Run implements Transport (inbound messages arrive through Inbound).
func (t *SIPTransport) Run(ctx context.Context, _ Sink) error {
	<-ctx.Done()
	return nil
}

// Send implements Transport: the whole text in one MESSAGE (messaging.md
// §6.2). 2xx → sent (SIP has no delivery receipt); 404/604 → 30005; 480 →
// 30003; 403/603 → 30007; 408, 5xx and no answer → retried; others 30008.
func (t *SIPTransport) Send(ctx context.Context, m Outgoing) ([]string, error) {
	if len(m.Media) > 0 && m.Body == "" {
		return nil, &SendError{Code: CodeUnknownError, Detail: "SIP MESSAGE cannot carry media"}
	}
	code, err := t.sender.SendMessage(ctx, sip.OutboundMessage{Trunk: t.name, From: m.From, To: m.To, Body: m.Body})
	if err != nil {
		return nil, &SendError{Retry: true, Detail: err.Error()}
	}
	switch {
	case code >= 200 && code < 300:
		return nil, nil
	case code == 404 || code == 604:
		return nil, &SendError{Code: CodeUnknownHandset, Detail: "SIP 404/604"}
	case code == 480:
		return nil, &SendError{Code: CodeUnreachable, Detail: "SIP 480"}
	case code == 403 || code == 603:
		return nil, &SendError{Code: CodeCarrierFiltered, Detail: "SIP 403/603"}
	case code == 408 || code >= 500:
		return nil, &SendError{Retry: true, Detail: "SIP " + strconv.Itoa(code)}
	}
	return nil, &SendError{Code: CodeUnknownError, Detail: "SIP " + strconv.Itoa(code)}
}

// Inbound stores a MESSAGE the SIP server received and returns the status
// to answer: 200 once stored, 404 when the number has no messaging app,
// 500 when it could not be stored.
func (t *SIPTransport) Inbound(ctx context.Context, s *Service, m sip.InboundMessage) int {
	if s.opts.Apps != nil {
		if _, ok := s.opts.Apps(normalise(m.To)); !ok {
			return 404
		}
	}
	if err := s.Receive(ctx, Incoming{From: m.From, To: m.To, Body: m.Body, NumSegments: NumSegments(m.Body), Trunk: t.name}); err != nil {
		s.log.Error("messaging: storing a SIP MESSAGE failed", "error", err)
		return 500
	}
	return 200
}
