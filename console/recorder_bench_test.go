package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/store"
)

// BenchmarkWebhook measures one webhook POST over loopback, plain and
// through the recorder's transport (the cost the call timeline adds).
func BenchmarkWebhook(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response><Say>Hello from the benchmark.</Say><Gather numDigits=\"1\"/></Response>")
	}))
	defer app.Close()
	form := url.Values{"CallSid": {"CA00000000000000000000000000000001"}, "AccountSid": {testSID}, "From": {"+15550001111"},
		"To": {"+15550001000"}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}.Encode()
	run := func(b *testing.B, client *http.Client) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := client.Post(app.URL+"/voice", "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, &http.Client{Transport: http.DefaultTransport}) })
	b.Run("recorded", func(b *testing.B) {
		rec := NewRecorder(&discardStore{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer rec.Close()
		run(b, &http.Client{Transport: rec.Transport(http.DefaultTransport)})
	})
}

// discardStore keeps nothing: the benchmark measures the recording, not
// the database.
type discardStore struct{ fakeStore }

func (*discardStore) AddCallEvent(context.Context, store.CallEvent) error { return nil }
