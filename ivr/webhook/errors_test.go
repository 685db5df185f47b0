package webhook

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestErrorFormat(t *testing.T) {
	e := &Error{Code: 11200, Method: "GET", URL: "http://example.com/voice", StatusCode: 500, Err: errors.New("status 500")}
	if got, want := e.Error(), "11200 HTTP retrieval failure: GET http://example.com/voice: status 500"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	e = &Error{Code: 11100, URL: "next", Err: errors.New("relative URL with no base document")}
	if got, want := e.Error(), "11100 Invalid URL format: next: relative URL with no base document"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestFetchErrorCodes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/302-no-location", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(302) })
	mux.HandleFunc("/bad-location", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ftp://example.com/x")
		w.WriteHeader(302)
	})
	mux.HandleFunc("/css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write([]byte("<Response/>"))
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) { sleepy(r, 3*time.Second) })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("<Response>"))
		w.(http.Flusher).Flush()
		sleepy(r, 3*time.Second)
	})
	srv := newServer(t, mux)
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	_, tlsPort, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())

	// A resolver that cannot reach any DNS server: no packet leaves the host.
	noDNS := &http.Transport{DialContext: (&net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS server in tests")
		},
	}}).DialContext}
	t.Cleanup(noDNS.CloseIdleConnections)

	tests := []struct {
		name string
		url  string
		opts Options
		code int
	}{
		{"status 500", srv.URL + "/500", Options{}, CodeRetrievalFailure},
		{"status 404", srv.URL + "/404", Options{}, CodeRetrievalFailure},
		{"3xx without Location", srv.URL + "/302-no-location", Options{}, CodeRetrievalFailure},
		{"redirect to a non-HTTP URL", srv.URL + "/bad-location", Options{}, CodeInvalidURL},
		{"text/css", srv.URL + "/css", Options{}, CodeInvalidContentType},
		{"connection refused", "http://" + closedPort(t) + "/", Options{}, CodeConnectRefused},
		{"total timeout", srv.URL + "/sleep", Options{Timeout: 200 * time.Millisecond}, CodeTotalTimeout},
		{"total timeout while reading the body", srv.URL + "/slow-body", Options{Timeout: 300 * time.Millisecond}, CodeTotalTimeout},
		{"tt from the fragment", srv.URL + "/sleep#tt=200", Options{}, CodeTotalTimeout},
		{"rt from the fragment", srv.URL + "/sleep#rt=200", Options{}, CodeTotalTimeout},
		{"DNS failure", "http://voxgate-no-such-host.invalid/voice", Options{HTTPClient: &http.Client{Transport: noDNS}}, CodeBadHostName},
		{"TLS unknown authority", tlsSrv.URL + "/", Options{}, CodeCertUnknownAuthority},
		{"TLS host name mismatch", "https://localhost:" + tlsPort + "/", Options{HTTPClient: tlsSrv.Client()}, CodeCertHostMismatch},
		{"empty URL", "", Options{}, CodeInvalidURL},
		{"relative URL", "/voice", Options{}, CodeInvalidURL},
		{"bad scheme", "ftp://example.com/voice", Options{}, CodeInvalidURL},
		{"no host", "http:///voice", Options{}, CodeInvalidURL},
		{"unparsable", "http://[::1/voice", Options{}, CodeInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := newClient(tt.opts).Fetch(context.Background(), Request{URL: tt.url})
			we := wantCode(t, err, tt.code)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			t.Logf("%v", we)
		})
	}
}

func TestStatusErrorMessage(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "x", 500) }))
	_, err := newClient(Options{}).Fetch(context.Background(), Request{URL: srv.URL + "/v", Method: "GET"})
	if want := "11200 HTTP retrieval failure: GET " + srv.URL + "/v: status 500"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestUnsupportedMethod(t *testing.T) {
	_, err := newClient(Options{}).Fetch(context.Background(), Request{URL: "http://127.0.0.1/", Method: "PUT"})
	wantCode(t, err, CodeRetrievalFailure)
}

func TestConnectTimeoutAndRetry(t *testing.T) {
	tests := []struct {
		fragment string
		dials    int32
	}{
		{"#ct=100", 2},                     // default policy: rc=1, rp=ct
		{"#ct=100&rc=0", 1},                // no retry
		{"#ct=100&rc=3&rp=ct,5xx", 4},      // three retries
		{"#ct=100&rc=2&rp=5xx", 1},         // policy does not cover ct
		{"#ct=100&rc=9&rp=all&tt=1000", 6}, // rc capped at 5
	}
	for _, tt := range tests {
		t.Run(tt.fragment, func(t *testing.T) {
			var dials atomic.Int32
			c := newClient(Options{HTTPClient: &http.Client{Transport: hangingDialer(t, &dials)}})
			start := time.Now()
			_, err := c.Fetch(context.Background(), Request{URL: "http://127.0.0.1:9/voice" + tt.fragment})
			wantCode(t, err, CodeConnectTimeout)
			if n := dials.Load(); n != tt.dials {
				t.Errorf("%d dial attempts, want %d", n, tt.dials)
			}
			if d := time.Since(start); d < time.Duration(tt.dials)*100*time.Millisecond || d > 3*time.Second {
				t.Errorf("took %v for %d attempts of 100 ms", d, tt.dials)
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		fragment string
		status   int
		attempts int32
		code     int
	}{
		{"", 500, 1, CodeRetrievalFailure},
		{"#rc=2&rp=5xx", 500, 3, CodeRetrievalFailure},
		{"#rc=2&rp=4xx", 500, 1, CodeRetrievalFailure},
		{"#rc=2&rp=4xx", 404, 3, CodeRetrievalFailure},
		{"#rc=1&rp=all", 503, 2, CodeRetrievalFailure},
		{"#rc=2&rp=rt&rt=100", 0, 3, CodeTotalTimeout}, // 0: the server never answers
		{"#rc=2&rp=ct&rt=100", 0, 1, CodeTotalTimeout},
		{"#rc=2&rp=bogus", 500, 1, CodeRetrievalFailure}, // bad rp: default policy kept
	}
	for _, tt := range tests {
		t.Run(tt.fragment, func(t *testing.T) {
			var attempts atomic.Int32
			tokens := make(chan string, 10)
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				tokens <- r.Header.Get("I-Twilio-Idempotency-Token")
				checkSignature(t, r)
				if tt.status == 0 {
					sleepy(r, 3*time.Second)
					return
				}
				w.WriteHeader(tt.status)
			}))
			_, err := newClient(Options{}).Fetch(context.Background(), Request{URL: srv.URL + "/v" + tt.fragment, Params: callParams()})
			wantCode(t, err, tt.code)
			if n := attempts.Load(); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
			close(tokens)
			first := <-tokens
			for tok := range tokens {
				if tok != first {
					t.Errorf("retry used token %q, first attempt %q: retries must repeat it", tok, first)
				}
			}
		})
	}
}
