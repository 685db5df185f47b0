package ivr

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// subscribed reports whether the app asked for a call progress event.
// With no events configured only "completed" is reported (Twilio's default).
func (s *session) subscribed(event string) bool {
	if s.app.StatusCallback == "" {
		return false
	}
	if len(s.app.StatusCallbackEvents) == 0 {
		return event == "completed"
	}
	for _, e := range s.app.StatusCallbackEvents {
		for _, f := range strings.FieldsFunc(e, func(r rune) bool { return r == ' ' || r == ',' }) {
			if strings.EqualFold(f, event) {
				return true
			}
		}
	}
	return false
}

// notifyStatus sends a call progress status callback (twiml-voice.md
// §3.5) without blocking the call. extra holds name/value pairs.
func (s *session) notifyStatus(event string, extra ...string) {
	if !s.subscribed(event) {
		return
	}
	var status string
	switch event {
	case "initiated", "ringing":
		status = event
	default:
		status = s.status
	}
	p := standardParams(s.e.cfg.AccountSID, s.info, status)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("Timestamp", s.e.cfg.Clock.Now().UTC().Format(time.RFC1123Z))
	s.mu.Lock() // the ringing event may come from a dialer's goroutine
	p.Set("SequenceNumber", strconv.Itoa(s.seq[s.app.StatusCallback]))
	s.seq[s.app.StatusCallback]++
	s.mu.Unlock()
	for i := 0; i+1 < len(extra); i += 2 {
		p.Set(extra[i], extra[i+1])
	}
	if event == "completed" {
		secs, _ := strconv.Atoi(p.Get("CallDuration"))
		p.Set("Duration", strconv.Itoa((secs+59)/60))
	}
	target := s.app.StatusCallback
	if abs, err := webhook.ResolveURL(s.app.VoiceURL, target); err == nil {
		target = abs
	}
	req := webhook.Request{URL: target, Method: s.app.StatusCallbackMethod, Params: p}
	s.e.sendCallback(s.web, req)
}

// sendCallback delivers a fire-and-forget callback in the background. The
// engine owns the goroutine; Close waits for it.
func (e *Engine) sendCallback(c *webhook.Client, req webhook.Request) {
	e.sendCallbackAfter(c, req, nil)
}

// sendCallbackAfter is sendCallback for callbacks that must arrive in
// order: it sends req once after is closed (nil: at once) and returns a
// channel closed when req has been delivered or given up on, to pass as
// the next one's after.
func (e *Engine) sendCallbackAfter(c *webhook.Client, req webhook.Request, after <-chan struct{}) <-chan struct{} {
	if req.Method == "" {
		req.Method = "POST"
	}
	done := make(chan struct{})
	e.callbacks.Add(1)
	go func() {
		defer e.callbacks.Done()
		defer close(done)
		if after != nil {
			<-after
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*e.cfg.WebhookTimeout)
		defer cancel()
		_ = c.Notify(ctx, req) // errors are logged by the client
	}()
	return done
}

// notifyRinging reports the ringing event (status callback and CDR).
func (s *session) notifyRinging() {
	s.notifyStatus("ringing")
	s.emit("ringing", 0)
}
