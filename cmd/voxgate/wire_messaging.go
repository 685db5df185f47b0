package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/messaging/smpp"
	"github.com/voxgate/voxgate/sip"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// gatewayMessaging is the messaging engine with its transports, as serve
// wires it: newMessaging before the API, attachSIP once the SIP server
// exists, start with the gateway's context.
type gatewayMessaging struct {
	svc   *messaging.Service
	flows *studio.Executor
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
// transport and the numbers' sms_* keys; Studio flows run messages
// (through inbound, which sends a conversation handed to Flex to the
// desktop instead), and
// webhooks and status callbacks go through httpClient (the outbound
// HTTP policy).
func newMessaging(cfg config.Config, db store.MessageStore, flowSIDs map[string]string, flows *studio.Executor, inbound messaging.FlowRunner, sender *flowMessenger,
	httpClient *http.Client, log *slog.Logger) *gatewayMessaging {
	g := &gatewayMessaging{flows: flows}
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
		Store: db, Transports: transports, Flows: inbound, Workers: cfg.Messaging.Workers, HTTPClient: httpClient,
		Failed: func(ctx context.Context, m store.Message) {
			if err := flows.MessageFailed(ctx, m.SID, m.Status, m.ErrorCode); err != nil {
				log.Error("messaging: telling Studio a message failed", "message_sid", m.SID, "error", err)
			}
		},
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
	sender.svc = g.svc
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
	if err := g.flows.ResumeWaiting(ctx); err != nil {
		slog.Error("messaging: re-arming Studio reply timers failed", "error", err)
	}
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

// flowMessenger sends the messages of Studio widgets through the engine
// (set once the engine exists: the executor is built first).
type flowMessenger struct {
	svc *messaging.Service
}

// SendMessage implements studio.MessageSender with Twilio's Message
// fields as the widget's outbound.* outputs.
func (f *flowMessenger) SendMessage(ctx context.Context, m studio.OutgoingMessage) (map[string]any, error) {
	msg, err := f.svc.Send(ctx, messaging.SendRequest{From: m.From, To: m.To, Body: m.Body, Media: m.MediaURL})
	if err != nil {
		out := map[string]any{"From": m.From, "To": m.To, "Body": m.Body, "Status": "failed"}
		var me *messaging.Error
		if errors.As(err, &me) {
			out["ErrorCode"], out["ErrorMessage"] = strconv.Itoa(me.Code), me.Message
		}
		return out, err
	}
	return map[string]any{
		"Sid": msg.SID, "Status": msg.Status, "Body": msg.Body, "From": msg.From, "To": msg.To, "Direction": msg.Direction,
		"NumMedia": "0", "NumSegments": strconv.Itoa(msg.NumSegments), "Price": nil, "PriceUnit": "USD",
		"ErrorCode": nil, "ErrorMessage": nil, "MessagingServiceSid": nil, "AccountSid": msg.AccountSID,
	}, nil
}
