package mediastream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Twilio's error codes for media streams (media-streams.md §6).
const (
	CodeConnectionTimeout = 31901 // no answer to the connect, or the server stopped reading
	CodeConnectionRefused = 31902 // port closed
	CodeHostUnreachable   = 31904 // DNS or route failure
	CodeTLSError          = 31910 // TLS handshake failed
	CodeHandshakeError    = 31920 // HTTP status other than 101
	CodeCloseError        = 31921 // the server closed with an error, or the connection broke
	CodeSchemeUnsupported = 31922 // not ws:// or wss://
	CodeMalformedURL      = 31923
	CodeProtocolError     = 31924 // e.g. messages on a one-way stream
	CodeBufferOverflow    = 31930 // warning: the server is behind, caller audio discarded
	CodeMediaDiscarded    = 31931 // warning: more than MaxPlayout of server audio queued
	CodeInvalidConnector  = 31940
	CodeInvalidTrack      = 31941
	CodeMalformedMessage  = 31950 // warning: e.g. a binary frame
	CodeInvalidMessage    = 31951 // warning: not JSON, unknown event, wrong streamSid…
)

// Error is a stream failure with Twilio's error code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("media stream error %d: %v", e.Code, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// streamURL checks a stream URL: ws:// or wss:// with a host.
func streamURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if err == nil {
			err = errors.New("no host")
		}
		return nil, &Error{Code: CodeMalformedURL, Err: fmt.Errorf("stream URL %q: %w", raw, err)}
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, &Error{Code: CodeSchemeUnsupported, Err: fmt.Errorf("stream URL scheme %q: only wss:// and ws:// are supported", u.Scheme)}
	}
	return u, nil
}

// WebSocketURL turns a stream URL as written in TwiML, possibly relative
// or http(s), into the ws(s) URL to dial: relative URLs resolve against
// base (the document's URL), https becomes wss and http ws.
func WebSocketURL(base, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if b, err := url.Parse(base); err == nil && base != "" {
		u = b.ResolveReference(u)
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	case "http":
		u.Scheme = "ws"
	}
	return u.String()
}

// redact drops credentials from a URL for the log.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}

// dialError maps a failed dial to Twilio's code.
func dialError(err error, resp *http.Response) error {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		return &Error{Code: CodeHandshakeError, Err: fmt.Errorf("handshake answered %s: %w", resp.Status, err)}
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Code: CodeConnectionRefused, Err: err}
	case errors.As(err, &dnsErr), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &Error{Code: CodeHostUnreachable, Err: err}
	case errors.As(err, &certErr), errors.As(err, &unkAuth), errors.As(err, &recErr), errors.Is(err, http.ErrSchemeMismatch):
		return &Error{Code: CodeTLSError, Err: err}
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return &Error{Code: CodeConnectionTimeout, Err: err}
	}
	if resp != nil {
		return &Error{Code: CodeHandshakeError, Err: err}
	}
	return &Error{Code: CodeConnectionTimeout, Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
