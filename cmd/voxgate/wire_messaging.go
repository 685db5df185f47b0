package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/messaging/smpp"
	"github.com/voxgate/voxgate/sip"
	"github.com/voxgate/voxgate/store"
)

// gatewayMessaging is the messaging engine with its transports, as serve
// wires it: newMessaging before the API, attachSIP once the SIP server
// exists, start with the gateway's context.
type gatewayMessaging struct {
	svc   *messaging.Service
	sip   []*sipTransportSlot // SIP trunks, whose sender is the SIP server
	inSIP *messaging.SIPTransport
}

// sipTransportSlot is a SIP messaging trunk whose server is set later.
type sipTransportSlot struct {
	srv *sip.Server
}

func (s *sipTransportSlot) SendMessage(ctx context.Context, m sip.OutboundMessage) (int, error) {
	return s.srv.SendMessage(ctx, m)
}

// newMessaging builds the engine from the trunks with a messaging
// transport and the numbers' sms_* keys (flows run by flowRunner, which
// may be nil).
func newMessaging(cfg config.Config, db store.MessageStore, flowSIDs map[string]string, flows messaging.FlowRunner, log *slog.Logger) *gatewayMessaging {
	g := &gatewayMessaging{}
	var transports []messaging.Transport
	for _, t := range cfg.Trunks {
		switch t.Messaging {
		case "smpp":
			host := t.SMPP.Host
			if _, _, err := net.SplitHostPort(host); err != nil {
				host = net.JoinHostPort(host, "2775")
			}
			mode := smpp.Transceiver
			if t.SMPP.Bind == "transmitter_receiver" {
				mode = smpp.TransmitterReceiver
			}
			transports = append(transports, messaging.NewSMPPTransport(t.Name, smpp.Config{
				Addr: host, SystemID: t.SMPP.SystemID, Password: t.SMPP.Password, SystemType: t.SMPP.SystemType,
				Bind: mode, Window: t.SMPP.Window, EnquireLink: t.SMPP.EnquireLink.D(), Logger: log,
			}, cfg.Messaging.ReassemblyTimeout.D()))
		case "sip":
			slot := &sipTransportSlot{}
			g.sip = append(g.sip, slot)
			tr := messaging.NewSIPTransport(t.Name, slot)
			if g.inSIP == nil {
				g.inSIP = tr
			}
			transports = append(transports, tr)
		}
	}
	ours := map[string]bool{}
	for _, n := range cfg.Numbers {
		ours[digitsOf(n.Number)] = true
	}
	g.svc = messaging.New(messaging.Options{
		AccountSID: cfg.Account.SID, AuthToken: cfg.Account.AuthToken, PublicURL: cfg.HTTP.PublicURL,
		Store: db, Transports: transports, Flows: flows, Workers: cfg.Messaging.Workers,
		ReassemblyTimeout: cfg.Messaging.ReassemblyTimeout.D(), WebhookTimeout: cfg.WebhookTimeout.D(), Logger: log,
		OptOut: messaging.OptOut{Disabled: !cfg.Messaging.OptOut, OptOutReply: cfg.Messaging.OptOutReply,
			OptInReply: cfg.Messaging.OptInReply, HelpReply: cfg.Messaging.HelpReply},
		Ours: func(n string) bool { return ours[digitsOf(n)] },
		Apps: func(n string) (messaging.App, bool) {
			app, ok := cfg.MessagingAppFor(n)
			if !ok {
				return messaging.App{}, false
			}
			return messaging.App{
				URL: expandLocal(app.SMSURL, cfg.HTTP.PublicURL), Method: app.SMSMethod,
				FallbackURL: expandLocal(app.SMSFallbackURL, cfg.HTTP.PublicURL), FallbackMethod: app.SMSFallbackMethod,
				StatusCallback: expandLocal(app.SMSStatusCallback, cfg.HTTP.PublicURL), FlowSID: flowSIDs[app.Flow],
			}, true
		},
	})
	return g
}

// attachSIP gives SIP trunks their server and routes inbound MESSAGEs to
// the engine (MESSAGE gets 405 when no trunk has messaging: sip).
func (g *gatewayMessaging) attachSIP(srv *sip.Server) {
	for _, s := range g.sip {
		s.srv = srv
	}
	if g.inSIP == nil {
		return
	}
	srv.HandleMessages(func(ctx context.Context, m sip.InboundMessage) int {
		return g.inSIP.Inbound(ctx, g.svc, m)
	})
}

// start runs the engine until ctx ends; the returned func waits for it.
func (g *gatewayMessaging) start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() { defer close(done); _ = g.svc.Run(ctx) }()
	return func() { <-done }
}

func digitsOf(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
