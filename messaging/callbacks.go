package messaging

import (
	"context"
	"net/url"
	"strconv"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/store"
)

// apiVersion is sent as ApiVersion.
const apiVersion = "2010-04-01"

// statusCallback posts m's status to its StatusCallback, in the
// background (messaging.md §2.3): MessageSid, SmsSid, MessageStatus,
// SmsStatus, AccountSid, From, To, ApiVersion, ErrorCode (failed and
// undelivered), RawDlrDoneDate (receipts). sending is not reported.
func (s *Service) statusCallback(m store.Message) {
	if m.StatusCallback == "" || m.Status == store.MessageSending || m.Status == store.MessageQueued {
		return
	}
	p := url.Values{
		"MessageSid": {m.SID}, "SmsSid": {m.SID}, "MessageStatus": {m.Status}, "SmsStatus": {m.Status},
		"AccountSid": {m.AccountSID}, "From": {m.From}, "To": {m.To}, "ApiVersion": {apiVersion},
	}
	if m.ErrorCode != 0 {
		p.Set("ErrorCode", strconv.Itoa(m.ErrorCode))
	}
	if m.RawDlrDoneDate != "" {
		p.Set("RawDlrDoneDate", m.RawDlrDoneDate)
	}
	method := m.StatusCallbackMethod
	if method == "" {
		method = "POST"
	}
	s.goRun(func(ctx context.Context) {
		c := s.webhookClient()
		if err := c.Notify(ctx, webhook.Request{URL: m.StatusCallback, Method: method, Params: p}); err != nil {
			s.log.Warn("messaging: status callback failed", "message_sid", m.SID, "status", m.Status, "url", m.StatusCallback, "error", err)
		}
	})
}

// webhookClient returns a client for one exchange (cookies are not kept
// across messages).
func (s *Service) webhookClient() *webhook.Client {
	return webhook.NewClient(webhook.Options{AuthToken: s.opts.AuthToken, Timeout: s.opts.WebhookTimeout,
		HTTPClient: s.opts.HTTPClient, Logger: s.log})
}
