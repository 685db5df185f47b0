package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Twilio error codes produced by this package.
const (
	CodeInvalidURL           = 11100 // Invalid URL format
	CodeRetrievalFailure     = 11200 // HTTP retrieval failure (non-2xx, generic)
	CodeConnectTimeout       = 11201 // TCP connection timed out
	CodeConnectRefused       = 11202 // TCP connection refused
	CodeTotalTimeout         = 11203 // HTTP communication total time out triggered
	CodeConnectionFailure    = 11205 // HTTP connection failure
	CodeBadHostName          = 11210 // HTTP bad host name (DNS)
	CodeTooManyRedirects     = 11215 // HTTP too many redirects
	CodeTLSHandshake         = 11220 // SSL/TLS handshake error
	CodeCertHostMismatch     = 11235 // certificate does not match the host name
	CodeCertExpired          = 11236 // certificate expired or not yet valid
	CodeCertUnknownAuthority = 11237 // certificate signed by an unknown authority
	CodeResponseTooLarge     = 11750 // TwiML response body too large
	CodeInvalidContentType   = 12300 // Invalid Content-Type
)

// codeText holds Twilio's name for each code.
var codeText = map[int]string{
	CodeInvalidURL:           "Invalid URL format",
	CodeRetrievalFailure:     "HTTP retrieval failure",
	CodeConnectTimeout:       "HTTP connection timed out",
	CodeConnectRefused:       "HTTP connection refused",
	CodeTotalTimeout:         "HTTP communication total time out triggered",
	CodeConnectionFailure:    "HTTP connection failure",
	CodeBadHostName:          "HTTP bad host name",
	CodeTooManyRedirects:     "HTTP too many redirects",
	CodeTLSHandshake:         "SSL/TLS handshake error",
	CodeCertHostMismatch:     "SSL/TLS certificate host name mismatch",
	CodeCertExpired:          "SSL/TLS certificate expired",
	CodeCertUnknownAuthority: "SSL/TLS certificate signed by an unknown authority",
	CodeResponseTooLarge:     "TwiML response body too large",
	CodeInvalidContentType:   "Invalid Content-Type",
}

// CodeText returns Twilio's short name for an error code, or "Error" for a
// code this package does not produce.
func CodeText(code int) string {
	if s, ok := codeText[code]; ok {
		return s
	}
	return "Error"
}

// Error is a failed webhook request with the Twilio error code that
// describes it.
type Error struct {
	Code       int    // Twilio error code, e.g. 11200
	Method     string // GET or POST; empty when no request was made
	URL        string // the URL that failed, without fragment and without GET parameters
	StatusCode int    // the HTTP status, when a response was received
	Err        error  // the underlying cause
}

// TwilioCode returns Code: Twilio's error code for the failure.
func (e *Error) TwilioCode() int { return e.Code }

// Error formats the error as "11200 HTTP retrieval failure: GET http://…: status 500".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Code, CodeText(e.Code))
	if e.URL != "" {
		b.WriteString(": ")
		if e.Method != "" {
			b.WriteString(e.Method)
			b.WriteByte(' ')
		}
		b.WriteString(e.URL)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Causes set on a request's context by the timers of one fetch.
var (
	errConnectTimeout = errors.New("connect timeout (ct) expired")
	errReadTimeout    = errors.New("response timeout (rt) expired")
	errTotalTimeout   = errors.New("total timeout (tt) expired")
)

// transportCode maps an error returned by http.Client.Do to a Twilio code.
func transportCode(err error) int {
	var (
		dnsErr   *net.DNSError
		hostErr  x509.HostnameError
		certErr  x509.CertificateInvalidError
		authErr  x509.UnknownAuthorityError
		verifErr *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		opErr    *net.OpError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, errConnectTimeout):
		return CodeConnectTimeout
	case errors.Is(err, errReadTimeout), errors.Is(err, errTotalTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return CodeTotalTimeout
	case errors.Is(err, context.Canceled):
		return CodeRetrievalFailure
	case errors.As(err, &dnsErr):
		return CodeBadHostName
	case errors.Is(err, syscall.ECONNREFUSED):
		return CodeConnectRefused
	case errors.As(err, &hostErr):
		return CodeCertHostMismatch
	case errors.As(err, &certErr) && certErr.Reason == x509.Expired:
		return CodeCertExpired
	case errors.As(err, &authErr):
		return CodeCertUnknownAuthority
	case errors.As(err, &verifErr), errors.As(err, &recErr), errors.As(err, &alertErr):
		return CodeTLSHandshake
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return CodeConnectTimeout
	case errors.As(err, &netErr) && netErr.Timeout():
		return CodeTotalTimeout
	}
	return CodeConnectionFailure
}
