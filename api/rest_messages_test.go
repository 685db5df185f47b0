package api

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/store"
)

// loopTransport accepts every message (no receipts).
type loopTransport struct{}

func (loopTransport) Name() string { return "loop" }
func (loopTransport) Send(context.Context, messaging.Outgoing) ([]string, error) {
	return []string{"1"}, nil
}
func (loopTransport) Run(ctx context.Context, _ messaging.Sink) error { <-ctx.Done(); return nil }

// messagesEnv is env with a messaging engine on its store.
func messagesEnv(t *testing.T) *env {
	var svc *messaging.Service
	e := newEnv(t, func(o *Options) {
		svc = messaging.New(messaging.Options{AccountSID: testAccount, Store: o.Store.(store.MessageStore),
			Transports: []messaging.Transport{loopTransport{}}, Ours: func(n string) bool { return n == "+15557654321" }})
		o.Messages = svc
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func TestMessagesResource(t *testing.T) {
	e := messagesEnv(t)
	var m map[string]any
	decode(t, e.do(http.MethodPost, "Messages.json", url.Values{"To": {"+15550001111"}, "From": {"+15557654321"},
		"Body": {"Привет, это длинное сообщение на русском языке, в нём больше семидесяти символов!"}}), http.StatusCreated, &m)
	sid := m["sid"].(string)
	for k, want := range map[string]any{"status": "queued", "direction": "outbound-api", "num_segments": "2", "num_media": "0",
		"api_version": "2010-04-01", "account_sid": testAccount, "error_code": nil, "price": nil, "date_sent": nil,
		"uri": base + "/Messages/" + sid + ".json"} {
		if m[k] != want {
			t.Errorf("created %s = %v, want %v", k, m[k], want)
		}
	}
	for _, k := range []string{"body", "date_created", "date_updated", "error_message", "from", "to", "messaging_service_sid", "price_unit", "subresource_uris"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	// Sent by the transport; then fetchable, listable with filters, redactable.
	deadline := time.Now().Add(5 * time.Second)
	for m["status"] != "sent" && time.Now().Before(deadline) {
		decode(t, e.do(http.MethodGet, "Messages/"+sid+".json", nil), http.StatusOK, &m)
	}
	if m["status"] != "sent" || m["date_sent"] == nil {
		t.Fatalf("fetched %v", m)
	}
	var list struct {
		Messages []map[string]any `json:"messages"`
		PageSize int              `json:"page_size"`
	}
	decode(t, e.do(http.MethodGet, "Messages.json", url.Values{"To": {"+15550001111"}, "DateSent>": {time.Now().UTC().Format("2006-01-02")}}), http.StatusOK, &list)
	if len(list.Messages) != 1 || list.Messages[0]["sid"] != sid {
		t.Errorf("list %v", list)
	}
	decode(t, e.do(http.MethodGet, "Messages.json", url.Values{"From": {"+19999999999"}}), http.StatusOK, &list)
	if len(list.Messages) != 0 {
		t.Errorf("From filter: %v", list)
	}
	decode(t, e.do(http.MethodPost, "Messages/"+sid+".json", url.Values{"Body": {""}}), http.StatusOK, &m)
	if m["body"] != "" {
		t.Errorf("redacted %v", m)
	}
	expectError(t, e.do(http.MethodPost, "Messages/"+sid+".json", url.Values{"Body": {"x"}}), http.StatusBadRequest, 20001)
	expectError(t, e.do(http.MethodPost, "Messages/"+sid+".json", url.Values{"Status": {"canceled"}}), http.StatusBadRequest, 30409)
	decode(t, e.do(http.MethodDelete, "Messages/"+sid+".json", nil), http.StatusNoContent, nil)
	expectError(t, e.do(http.MethodGet, "Messages/"+sid+".json", nil), http.StatusNotFound, 20404)
}

func TestMessagesCreateErrors(t *testing.T) {
	e := messagesEnv(t)
	for _, tt := range []struct {
		form url.Values
		code int
	}{
		{url.Values{"From": {"+15557654321"}, "Body": {"x"}}, 21604},
		{url.Values{"To": {"hello"}, "From": {"+15557654321"}, "Body": {"x"}}, 21211},
		{url.Values{"To": {"+15550001111"}, "Body": {"x"}}, 21603},
		{url.Values{"To": {"+15550001111"}, "From": {"+15550009999"}, "Body": {"x"}}, 21606},
		{url.Values{"To": {"+15550001111"}, "From": {"+15557654321"}}, 21602},
		{url.Values{"To": {"+15550001111"}, "From": {"+15557654321"}, "Body": {"x"}, "MediaUrl": {"not a url"}}, 21620},
		{url.Values{"To": {"+15550001111"}, "From": {"+15557654321"}, "Body": {"x"}, "SendAt": {"2030-01-01T00:00:00Z"}}, 20001},
	} {
		expectError(t, e.do(http.MethodPost, "Messages.json", tt.form), http.StatusBadRequest, tt.code)
	}
}

func TestMessagesWithoutEngine(t *testing.T) {
	e := newEnv(t)
	expectError(t, e.do(http.MethodGet, "Messages.json", nil), http.StatusNotImplemented, 20503)
}
