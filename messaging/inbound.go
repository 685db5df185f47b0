package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/twiml"
)

// Reply-session limits (messaging.md §1.3).
const (
	maxReplies   = 10 // <Message> verbs per inbound message (14109 beyond)
	maxDocuments = 50 // documents per reply session (14106 beyond)
	loopReplies  = 30 // replies between two numbers…
	loopWindow   = 30 * time.Second
)

// Receive implements Sink: it stores an inbound message as received and
// pending, then handles it in the background (opt-out keywords, then the
// number's webhook or flow). The transport acknowledges the message only
// after Receive returned nil.
func (s *Service) Receive(ctx context.Context, in Incoming) error {
	select { // not before the last run's leftovers are known
	case <-s.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	m := store.Message{
		SID: newSID(), AccountSID: s.opts.AccountSID, Direction: DirectionInbound, From: normalise(in.From), To: normalise(in.To),
		Body: in.Body, Status: store.MessageReceived, NumSegments: max(in.NumSegments, 1), Trunk: in.Trunk, Pending: true,
		ErrorCode: in.ErrorCode,
	}
	if in.ErrorCode != 0 {
		m.ErrorMessage = "Missing inbound segment"
	}
	m.DateSent = time.Now().UTC()
	m, err := s.store.CreateMessage(ctx, m)
	if err != nil {
		return fmt.Errorf("messaging: storing an inbound message: %w", err)
	}
	s.log.Info("messaging: received", "message_sid", m.SID, "from", m.From, "to", m.To, "segments", m.NumSegments, "trunk", in.Trunk)
	s.goHandle(m)
	return nil
}

// goHandle handles an inbound message in the background.
func (s *Service) goHandle(m store.Message) {
	s.goRun(func(ctx context.Context) { s.handle(ctx, m) })
}

// handle runs opt-out keywords and the number's app for an inbound
// message, then clears its pending mark.
func (s *Service) handle(ctx context.Context, m store.Message) {
	log := s.log.With("message_sid", m.SID)
	if !s.opts.OptOut.Disabled {
		s.keyword(ctx, log, m)
	}
	app, ok := App{}, false
	if s.opts.Apps != nil {
		app, ok = s.opts.Apps(m.To)
	}
	params := InboundParams(m)
	if kw := ClassifyKeyword(m.Body); kw != KeywordNone && !s.opts.OptOut.Disabled {
		params.Set("OptOutType", kw)
	}
	switch {
	case !ok:
		log.Warn("messaging: no messaging app for the number; add sms_url or flow to it", "to", m.To)
	case app.FlowSID != "" && s.opts.Flows != nil:
		if err := s.opts.Flows.HandleMessage(ctx, app.FlowSID, params); err != nil {
			log.Error("messaging: the Studio flow failed", "flow_sid", app.FlowSID, "error", err)
		}
	case app.URL != "":
		s.replySession(ctx, log, m, app, params)
	}
	if err := s.store.SetMessageHandled(ctx, m.SID); err != nil && ctx.Err() == nil {
		log.Error("messaging: clearing the pending mark failed", "error", err)
	}
	if s.opts.Observe != nil {
		s.opts.Observe(m)
	}
}

// keyword handles STOP/START/HELP: it records the opt-out or opt-in and
// sends Twilio's automatic reply.
func (s *Service) keyword(ctx context.Context, log *slog.Logger, m store.Message) {
	kw := ClassifyKeyword(m.Body)
	if kw == KeywordNone {
		return
	}
	var reply string
	switch kw {
	case KeywordStop:
		if err := s.store.SetOptOut(ctx, m.To, m.From, true); err != nil {
			log.Error("messaging: recording an opt-out failed", "error", err)
			return
		}
		reply = s.opts.OptOut.OptOutReply
	case KeywordStart:
		// Only a contact who opted out hears the opt-in reply: flows
		// that ask "Reply YES" must not get it.
		if out, err := s.store.OptedOut(ctx, m.To, m.From); err != nil || !out {
			return
		}
		if err := s.store.SetOptOut(ctx, m.To, m.From, false); err != nil {
			log.Error("messaging: recording an opt-in failed", "error", err)
			return
		}
		reply = s.opts.OptOut.OptInReply
	case KeywordHelp:
		if out, err := s.store.OptedOut(ctx, m.To, m.From); err != nil || out {
			return // no help text while opted out
		}
		reply = s.opts.OptOut.HelpReply
	}
	log.Info("messaging: keyword", "keyword", kw, "from", m.From, "to", m.To)
	if kw == KeywordStop {
		// The confirmation goes out although the contact is now opted out.
		s.sendSystem(ctx, log, m.To, m.From, reply, m.Trunk)
		return
	}
	if _, err := s.Send(ctx, SendRequest{From: m.To, To: m.From, Body: reply, Direction: DirectionOutboundReply, Trunk: m.Trunk}); err != nil {
		log.Warn("messaging: keyword reply not sent", "error", err)
	}
}

// sendSystem sends an automatic message without the opt-out check.
func (s *Service) sendSystem(ctx context.Context, log *slog.Logger, from, to, body, trunk string) {
	m := store.Message{SID: newSID(), AccountSID: s.opts.AccountSID, Direction: DirectionOutboundReply, From: from, To: to,
		Body: body, Status: store.MessageQueued, NumSegments: NumSegments(body), Trunk: s.first}
	if _, ok := s.tr[trunk]; ok {
		m.Trunk = trunk
	} else if s.opts.Route != nil {
		if t := s.opts.Route(to); t != "" {
			m.Trunk = t
		}
	}
	m, err := s.store.CreateMessage(ctx, m)
	if err != nil {
		log.Error("messaging: storing an automatic reply failed", "error", err)
		return
	}
	s.enqueue(m)
}

// InboundParams are the webhook parameters of an inbound message
// (messaging.md §2.2).
func InboundParams(m store.Message) url.Values {
	p := url.Values{
		"MessageSid": {m.SID}, "SmsSid": {m.SID}, "SmsMessageSid": {m.SID}, "AccountSid": {m.AccountSID},
		"From": {m.From}, "To": {m.To}, "Body": {m.Body}, "NumMedia": {"0"}, "NumSegments": {strconv.Itoa(m.NumSegments)},
		"SmsStatus": {"received"}, "ApiVersion": {apiVersion}, "ReferralNumMedia": {"0"},
	}
	for _, k := range []string{"FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry"} {
		p.Set(k, "")
	}
	return p
}

// replySession requests the app's URL and runs the TwiML it returns,
// following <Redirect>s (messaging.md §1).
func (s *Service) replySession(ctx context.Context, log *slog.Logger, m store.Message, app App, params url.Values) {
	c := s.webhookClient()
	target, method := s.absolute(app.URL), app.Method
	fallback := app.FallbackURL != ""
	replies := 0
	for docs := 1; target != ""; docs++ {
		if docs > maxDocuments {
			s.alert(ctx, log, m.SID, CodeTooManyDocuments, "error", target, "the reply session fetched more than 50 documents")
			return
		}
		res, err := c.Fetch(ctx, webhook.Request{URL: target, Method: method, Params: params})
		if err != nil {
			code := CodeRetrievalFailure
			var we *webhook.Error
			if errors.As(err, &we) {
				code = we.Code
			}
			s.alert(ctx, log, m.SID, code, "error", target, err.Error())
			if !fallback {
				return
			}
			fallback = false
			params = cloneValues(params)
			params.Set("ErrorCode", strconv.Itoa(code))
			params.Set("ErrorUrl", target)
			target, method = s.absolute(app.FallbackURL), app.FallbackMethod
			continue
		}
		if res.Kind == webhook.Audio {
			s.alert(ctx, log, m.SID, CodeInvalidContentType, "error", res.URL, "an audio response is not a messaging reply")
			return
		}
		doc, warns, err := twiml.ParseMessaging(res.Body)
		for _, w := range warns {
			s.alert(ctx, log, m.SID, w.Code, "warning", res.URL, w.String())
		}
		if err != nil {
			code := CodeParseFailure
			var te *twiml.Error
			if errors.As(err, &te) {
				code = te.Code
			}
			s.alert(ctx, log, m.SID, code, "error", res.URL, err.Error())
			return
		}
		target = ""
		for _, v := range doc.Verbs {
			switch v := v.(type) {
			case *twiml.Message:
				replies++
				if replies > maxReplies {
					s.alert(ctx, log, m.SID, CodeTooManyReplies, "error", res.URL, fmt.Sprintf("line %d: more than 10 <Message> replies; not sent", v.Line()))
					continue
				}
				s.reply(ctx, log, m, app, res.URL, v)
			case *twiml.MessageRedirect:
				next, err := webhook.ResolveURL(res.URL, v.URL)
				if err != nil || v.URL == "" {
					s.alert(ctx, log, m.SID, CodeSchema, "error", res.URL, fmt.Sprintf("line %d: <Redirect> URL %q is invalid", v.Line(), v.URL))
					break
				}
				target, method = next, v.Method
			}
			if target != "" {
				break // verbs after <Redirect> never run
			}
		}
	}
}

// reply sends one <Message> of a reply document.
func (s *Service) reply(ctx context.Context, log *slog.Logger, in store.Message, app App, docURL string, v *twiml.Message) {
	r := SendRequest{To: v.To, From: v.From, Body: v.Body, Media: v.Media, Direction: DirectionOutboundReply,
		StatusCallback: app.StatusCallback, StatusCallbackMethod: "POST", Trunk: in.Trunk}
	if r.To == "" {
		r.To = in.From
	} else if allDigits(r.To) && len(r.To) < 8 {
		r.To = in.From // not a full number: keep the sender
	}
	if r.From == "" {
		r.From = in.To
	}
	cb := v.Action
	if cb == "" {
		cb = v.StatusCallback
	}
	if cb != "" {
		u, err := webhook.ResolveURL(docURL, cb)
		if err != nil {
			s.alert(ctx, log, in.SID, CodeInvalidCallbackURL, "warning", docURL, fmt.Sprintf("line %d: the action/statusCallback URL %q is invalid", v.Line(), cb))
		} else {
			r.StatusCallback, r.StatusCallbackMethod = u, v.Method
		}
	}
	if len(r.Body) == 0 && len(r.Media) == 0 || len([]rune(r.Body)) > MaxBodyChars {
		s.alert(ctx, log, in.SID, CodeInvalidBody, "error", docURL, fmt.Sprintf("line %d: Invalid Body (empty, or over 1600 characters)", v.Line()))
		return
	}
	if !validAddress(normalise(r.To)) {
		s.alert(ctx, log, in.SID, CodeInvalidTo, "error", docURL, fmt.Sprintf("line %d: 'to' %q is not a number you can message", v.Line(), r.To))
		return
	}
	if s.looping(normalise(r.From), normalise(r.To)) {
		s.alert(ctx, log, in.SID, CodeReplyLoop, "error", docURL, "more than 30 replies in 30 s between "+r.From+" and "+r.To)
		return
	}
	out, err := s.Send(ctx, r)
	if err != nil {
		code := CodeInvalidFrom
		var me *Error
		if errors.As(err, &me) {
			switch me.Code {
			case CodeOptedOut:
				code = CodeOptedOut
			case CodeInvalidToNumber, CodeNoTo:
				code = CodeInvalidTo
			case CodeNoBody, CodeBodyTooLong:
				code = CodeInvalidBody
			}
		}
		s.alert(ctx, log, in.SID, code, "error", docURL, fmt.Sprintf("line %d: <Message> not sent: %v", v.Line(), err))
		return
	}
	log.Info("messaging: reply queued", "reply_sid", out.SID, "to", out.To)
}

// looping counts a reply between two numbers and reports whether the
// loop guard (30 replies within 30 s) trips.
func (s *Service) looping(from, to string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := [2]string{from, to}
	now := time.Now()
	recent := s.loops[key][:0]
	for _, t := range s.loops[key] {
		if now.Sub(t) < loopWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) >= loopReplies {
		s.loops[key] = recent
		return true
	}
	s.loops[key] = append(recent, now)
	if len(s.loops) > 10000 { // bound the map: forget idle pairs
		for k, v := range s.loops {
			if len(v) == 0 || now.Sub(v[len(v)-1]) > loopWindow {
				delete(s.loops, k)
			}
		}
	}
	return false
}

// alert logs a problem with its Twilio code and stores a debugger record.
func (s *Service) alert(ctx context.Context, log *slog.Logger, messageSID string, code int, level, u, detail string) {
	if level == "warning" {
		log.Warn("messaging: webhook problem", "error_code", code, "url", u, "detail", detail)
	} else {
		log.Error("messaging: webhook problem", "error_code", code, "url", u, "detail", detail)
	}
	err := s.store.AddMessagingAlert(ctx, store.MessagingAlert{SID: sid.New("NO"), ErrorCode: code, LogLevel: level,
		MessageSID: messageSID, URL: u, Detail: detail})
	if err != nil {
		log.Error("messaging: storing an alert failed", "error", err)
	}
}

// absolute resolves a /path on the gateway.
func (s *Service) absolute(u string) string {
	if len(u) > 0 && u[0] == '/' {
		return s.opts.PublicURL + u
	}
	return u
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
