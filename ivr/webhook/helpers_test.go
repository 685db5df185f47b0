package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "test-auth-token"

// signedURL is the URL a validator reconstructs from what it received.
func signedURL(r *http.Request) string {
	return "http://" + r.Host + r.URL.RequestURI()
}

// checkSignature validates r the way an application would (Twilio's
// validators), reporting a mismatch through t.
func checkSignature(t *testing.T, r *http.Request) {
	t.Helper()
	var params url.Values
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
			return
		}
		params = r.PostForm
	}
	got := r.Header.Get("X-Twilio-Signature")
	if want := Signature(testToken, signedURL(r), params); got != want {
		t.Errorf("%s %s: X-Twilio-Signature %q, want %q", r.Method, signedURL(r), got, want)
	}
}

// newServer starts an httptest server on 127.0.0.1 closed with the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// newClient returns a Client signing with testToken.
func newClient(opts Options) *Client {
	opts.AuthToken = testToken
	return NewClient(opts)
}

// sleepy waits d or until the client goes away.
func sleepy(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// wantCode asserts err is an *Error with the code.
func wantCode(t *testing.T, err error, code int) *Error {
	t.Helper()
	var we *Error
	if !errors.As(err, &we) {
		t.Fatalf("error %v (%T), want *Error with code %d", err, err, code)
	}
	if we.Code != code {
		t.Fatalf("code %d (%v), want %d", we.Code, err, code)
	}
	return we
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// hangingDialer is a transport whose connections never complete until the
// test ends; it counts dial attempts.
func hangingDialer(t *testing.T, dials *atomic.Int32) *http.Transport {
	release := make(chan struct{})
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-release:
			return nil, errors.New("test over")
		}
	}}
	t.Cleanup(func() { close(release); tr.CloseIdleConnections() })
	return tr
}
