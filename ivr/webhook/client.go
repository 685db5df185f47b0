package webhook

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Limits of a fetch.
const (
	maxRedirects     = 10
	maxDocumentBytes = 64 << 10 // TwiML and text bodies (11750 beyond)
	maxAudioBytes    = 64 << 20 // audio bodies played directly
)

// Options configure a Client.
type Options struct {
	// AuthToken is the account's auth token, the key of X-Twilio-Signature.
	AuthToken string
	// Timeout bounds a whole request, redirects and retries included
	// (Twilio's tt). Default 15 s.
	Timeout time.Duration
	// HTTPClient optionally supplies the transport (its Transport field;
	// nil means http.DefaultTransport). Its Jar, CheckRedirect and Timeout
	// are not used: the Client keeps its own cookies and follows redirects
	// itself.
	HTTPClient *http.Client
	// UserAgent defaults to "Voxgate/<version> (TwilioProxy/1.1 compatible)".
	UserAgent string
	// Logger receives request logs and callback failures. Default: discard.
	Logger *slog.Logger
	// Observe, when set, is told about every finished Fetch and Notify
	// (duration, error code), for metrics. It runs on the goroutine that
	// made the request and must not block.
	Observe func(Outcome)
}

// Client sends one call's webhook requests. It keeps the cookies the
// application sets for the life of the call. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	token     string
	timeout   time.Duration
	userAgent string
	log       *slog.Logger
	onDone    func(Outcome)
}

// NewClient returns a Client for one call, with an empty cookie jar.
func NewClient(opts Options) *Client {
	transport := http.DefaultTransport
	if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
		transport = opts.HTTPClient.Transport
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &Client{
		http: &http.Client{
			Transport: transport,
			Jar:       jar,
			// Redirects are followed by do, which re-signs each hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		token:     opts.AuthToken,
		timeout:   opts.Timeout,
		userAgent: opts.UserAgent,
		log:       opts.Logger,
		onDone:    opts.Observe,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTotalTimeout
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// defaultUserAgent names the build's module version.
var defaultUserAgent = sync.OnceValue(func() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = strings.TrimPrefix(info.Main.Version, "v")
	}
	return "Voxgate/" + version + " (TwilioProxy/1.1 compatible)"
})

// Request is one webhook request.
type Request struct {
	URL    string     // absolute http(s) URL; a #fragment holds connection overrides
	Method string     // GET or POST (case-insensitive); default POST
	Params url.Values // form body for POST, appended to the query for GET
}

// Response is a fetched document.
type Response struct {
	URL         string // final URL after redirects, without fragment or GET parameters: the base for relative URLs
	StatusCode  int
	ContentType string // the Content-Type header as received
	Body        []byte
	Kind        Kind
}

// Fetch requests a document (TwiML, audio or text) and returns it. Errors
// are *Error carrying Twilio's code: 11100 invalid URL, 11200 non-2xx
// status, 11201/11202 connection timed out/refused, 11203 timeout, 11205
// other connection failure, 11210 DNS, 11215 more than 10 redirects,
// 11220–11237 TLS, 11750 TwiML body over 64 KB, 12300 Content-Type that is
// not TwiML, audio or text.
func (c *Client) Fetch(ctx context.Context, req Request) (*Response, error) {
	start := time.Now()
	res, err := c.do(ctx, req, true)
	c.observe(ctx, false, strings.ToUpper(req.Method), start, res, err)
	return res, err
}

// Notify sends a fire-and-forget callback (call progress, recording
// status…): signed like Fetch, response body ignored, any 2xx is success.
// A failure is logged with its code and returned; it is retried at most
// once, as the URL's retry policy allows.
func (c *Client) Notify(ctx context.Context, req Request) error {
	start := time.Now()
	res, err := c.do(ctx, req, false)
	c.observe(ctx, true, strings.ToUpper(req.Method), start, res, err)
	if err != nil {
		code := CodeRetrievalFailure
		var we *Error
		if errors.As(err, &we) {
			code = we.Code
		}
		c.log.Warn("webhook: callback failed", "error_code", code, "url", stripFragment(req.URL), "error", err)
	}
	return err
}

// do runs a request through its redirects. With fetch false the final
// body is discarded and the Response holds only the URL and status.
func (c *Client) do(ctx context.Context, req Request, fetch bool) (*Response, error) {
	u, fragment, err := parseTarget(req.URL)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(req.Method)
	switch method {
	case "":
		method = http.MethodPost
	case http.MethodGet, http.MethodPost:
	default:
		return nil, &Error{Code: CodeRetrievalFailure, Method: req.Method, URL: u.String(), Err: errors.New("method must be GET or POST")}
	}
	ov, problems := parseOverrides(fragment, defaultOverrides(c.timeout))
	for _, p := range problems {
		c.log.Warn("webhook: ignoring connection override", "url", u.String(), "problem", p)
	}
	if !fetch {
		ov.retries = min(ov.retries, 1)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, ov.total, errTotalTimeout)
	defer cancel()

	params := req.Params
	for redirects := 0; ; redirects++ {
		start := time.Now()
		resp, err := c.send(ctx, method, u, params, ov)
		if err != nil {
			return nil, err
		}
		c.log.Debug("webhook: response", "method", method, "url", u.String(), "status", resp.StatusCode, "elapsed", time.Since(start))
		if next, ok := redirectTarget(resp); ok {
			discard(resp)
			if redirects == maxRedirects {
				return nil, &Error{Code: CodeTooManyRedirects, Method: method, URL: u.String(), StatusCode: resp.StatusCode,
					Err: fmt.Errorf("more than %d redirects", maxRedirects)}
			}
			if next == nil {
				return nil, &Error{Code: CodeInvalidURL, Method: method, URL: u.String(), StatusCode: resp.StatusCode,
					Err: fmt.Errorf("bad Location %q", resp.Header.Get("Location"))}
			}
			if method == http.MethodGet || resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
				method, params = http.MethodGet, nil // like a browser: the form is not resent
			}
			u = next
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			discard(resp)
			return nil, &Error{Code: CodeRetrievalFailure, Method: method, URL: u.String(), StatusCode: resp.StatusCode,
				Err: fmt.Errorf("status %d", resp.StatusCode)}
		}
		if !fetch {
			discard(resp)
			return &Response{URL: u.String(), StatusCode: resp.StatusCode}, nil
		}
		return readResponse(ctx, resp, method, u)
	}
}

// send makes one request (GET parameters appended, POST parameters as the
// body), signed over the exact URL, retrying as ov allows.
func (c *Client) send(ctx context.Context, method string, u *url.URL, params url.Values, ov overrides) (*http.Response, error) {
	wire, body, signed := u, "", url.Values(nil)
	if method == http.MethodGet {
		wire = withParams(u, params)
	} else {
		body, signed = params.Encode(), params
	}
	wireURL := wire.String()
	signature := Signature(c.token, wireURL, signed)
	token := rand.Text() // the same for retries of this request
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, method, wireURL, body, signature, token, ov)
		code, status := 0, 0
		if err != nil {
			code = transportCode(err)
		} else {
			status = resp.StatusCode
		}
		if attempt < ov.retries && ctx.Err() == nil && ov.retryOn.shouldRetry(code, errors.Is(err, errReadTimeout), status) {
			c.log.Debug("webhook: retrying", "method", method, "url", u.String(), "error_code", code, "status", status, "error", err)
			if resp != nil {
				discard(resp)
			}
			continue
		}
		if err != nil {
			return nil, &Error{Code: code, Method: method, URL: u.String(), Err: err}
		}
		return resp, nil
	}
}

// redirectTarget returns where a redirect response points (nil if its
// Location is unusable), and whether resp is a redirect at all.
func redirectTarget(resp *http.Response) (*url.URL, bool) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	if resp.Header.Get("Location") == "" {
		return nil, false // a 3xx without Location is a plain failure
	}
	next, err := resp.Location() // resolved against the URL requested
	if err != nil || checkAbsolute(next) != nil {
		return nil, true
	}
	next.Fragment, next.RawFragment = "", ""
	return next, true
}

// readResponse reads a successful fetch's body and classifies it.
func readResponse(ctx context.Context, resp *http.Response, method string, u *url.URL) (*Response, error) {
	defer resp.Body.Close()
	fail := func(code int, err error) (*Response, error) {
		return nil, &Error{Code: code, Method: method, URL: u.String(), StatusCode: resp.StatusCode, Err: err}
	}
	contentType := resp.Header.Get("Content-Type")
	kind, ok := kindOf(contentType)
	if !ok {
		return fail(CodeInvalidContentType, fmt.Errorf("Content-Type %q is not TwiML, audio or text", contentType))
	}
	limit, tooLarge := int64(maxDocumentBytes), CodeResponseTooLarge
	if kind == Audio {
		limit, tooLarge = maxAudioBytes, CodeRetrievalFailure
	}
	if resp.ContentLength > limit {
		return fail(tooLarge, fmt.Errorf("body of %d bytes exceeds %d", resp.ContentLength, limit))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		err = withCause(ctx, err)
		return fail(transportCode(err), fmt.Errorf("reading body: %w", err))
	}
	if int64(len(body)) > limit {
		return fail(tooLarge, fmt.Errorf("body exceeds %d bytes", limit))
	}
	if kind == 0 {
		if kind = sniffKind(body); kind == 0 {
			return fail(CodeInvalidContentType, errors.New("no Content-Type and the body is not XML"))
		}
	}
	return &Response{URL: u.String(), StatusCode: resp.StatusCode, ContentType: contentType, Body: body, Kind: kind}, nil
}

// discard drains a little of an unwanted body, so the connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocumentBytes))
	resp.Body.Close()
}

// stripFragment returns raw without its #fragment, for logs.
func stripFragment(raw string) string {
	s, _, _ := strings.Cut(raw, "#")
	return s
}
