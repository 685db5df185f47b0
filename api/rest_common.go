package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/voxgate/voxgate/store"
)

// Twilio error codes the API answers with. Where Twilio documents no code
// for a case, the closest documented one is used and the message says
// exactly what was wrong.
const (
	codeUnsupportedParam = 20001 // "Unknown parameters": documented Twilio parameters this gateway does not implement, and other bad values with no specific code
	codeInvalidName      = 20002 // Invalid FriendlyName
	codeConflict         = 20409 // the resource is not in a state that allows this (queue with members)
	codeInternal         = 20500
	codeCallsResource    = 21200 // Calls resource: bad value with no more specific code
	codeNoTo             = 21201
	codeInvalidURL       = 21205
	codeInvalidDigits    = 21206 // SendDigits
	codeInvalidTimeout   = 21208
	codeInvalidMethod    = 21209
	codeNotInProgress    = 21220
	codeTwiMLTooLong     = 32018
	codeNoFrom           = 21213
)

// maxTwiMLChars is Twilio's limit on the Twiml parameter.
const maxTwiMLChars = 4000

// maxFormBytes bounds a request body.
const maxFormBytes = 1 << 20

// writeError writes err as Twilio's error JSON: an *Error (possibly
// wrapped) as it says, anything else as a logged 500.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	var te *Error
	if !errors.As(err, &te) {
		log.Error("api: request failed", "error", err)
		te = &Error{Status: http.StatusInternalServerError, Code: codeInternal, Message: "Internal Server Error"}
	}
	twilioError(w, te.Status, te.Code, te.Message)
}

// twilioError writes Twilio's error JSON.
func twilioError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

// writeJSON writes v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// badRequest is a 400 with code and message.
func badRequest(code int, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// storeError maps a store error: not found becomes r's 404, invalid
// arguments a 400, anything else stays an error (a 500).
func storeError(r *http.Request, op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(r)
	case errors.Is(err, store.ErrInvalid):
		return badRequest(codeUnsupportedParam, "Invalid request: %v", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// rfc2822 formats t as Twilio's dates ("Tue, 31 Aug 2010 20:36:28 +0000"),
// nil (JSON null) for the zero time.
func rfc2822(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC1123Z)
	return &s
}

// nullable is s, or nil (JSON null) when s is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// parseForm parses r's query and, for POST, its urlencoded body, bounded
// in size. Repeated keys keep all their values.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest(codeUnsupportedParam, "Invalid request body: %v", err)
	}
	return r.Form, nil
}

// rejectUnsupported answers 400/20001 naming the first of names given a
// non-empty value in form: Twilio parameters this gateway does not
// implement are refused rather than ignored.
func rejectUnsupported(form url.Values, names []string) error {
	for _, n := range names {
		if form.Get(n) != "" {
			return badRequest(codeUnsupportedParam, "Parameter '%s' is not supported by this gateway", n)
		}
	}
	return nil
}

// absoluteURL checks that param's value is an absolute http(s) URL.
func absoluteURL(param, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badRequest(codeInvalidURL, "%s is not a valid URL: %s", param, v)
	}
	return nil
}

// httpMethod returns v as GET or POST (default POST when empty).
func httpMethod(param, v string) (string, error) {
	switch strings.ToUpper(v) {
	case "":
		return http.MethodPost, nil
	case http.MethodGet, http.MethodPost:
		return strings.ToUpper(v), nil
	}
	return "", badRequest(codeInvalidMethod, "%s must be GET or POST, not %q", param, v)
}

// parseBool parses Twilio's "true"/"false"; empty is def.
func parseBool(param, v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest(codeUnsupportedParam, "%s must be true or false, not %q", param, v)
}

// parseInt parses a decimal integer parameter; empty is def.
func parseInt(param, v string, def, code int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest(code, "%s must be an integer, not %q", param, v)
	}
	return n, nil
}

// timeFilter reads the date filters name, name<, name<=, name>, name>= from
// q into a store.TimeRange. A value is a day (YYYY-MM-DD, UTC) or an
// instant (RFC 3339, as twilio-go sends, or RFC 2822). For a day, "=" is
// that day, "<"/"<=" that day and earlier, ">"/">=" that day and later, as
// Twilio documents; for an instant, "=" is the instant's UTC day, "<"/"<="
// is on or before it and ">"/">=" on or after it.
func timeFilter(q url.Values, name string) (store.TimeRange, error) {
	var tr store.TimeRange
	for _, op := range []string{"", "<", "<=", ">", ">="} {
		v := q.Get(name + op)
		if v == "" {
			continue
		}
		t, isDay, err := parseFilterTime(v)
		if err != nil {
			return store.TimeRange{}, badRequest(codeUnsupportedParam,
				"%s%s must be a date (YYYY-MM-DD) or an RFC 3339 time, not %q", name, op, v)
		}
		var r store.TimeRange
		switch {
		case op == "":
			r = store.OnDay(t)
		case op[0] == '<' && isDay:
			r = store.OnOrBeforeDay(t)
		case op[0] == '<':
			r = store.TimeRange{Before: t.Add(time.Nanosecond)}
		case isDay:
			r = store.OnOrAfterDay(t)
		default:
			r = store.TimeRange{From: t}
		}
		tr = tr.And(r)
	}
	return tr, nil
}

// parseFilterTime parses a date filter value and reports whether it named a
// whole day.
func parseFilterTime(v string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), false, nil
	}
	t, err := time.Parse(time.RFC1123Z, v)
	if err != nil {
		return time.Time{}, false, err
	}
	return t.UTC(), false, nil
}

// baseURL is the absolute URL of the gateway for links in responses:
// Options.PublicURL, else the scheme and host r came to.
func (a *restAPI) baseURL(r *http.Request) string {
	if a.opts.PublicURL != "" {
		return strings.TrimSuffix(a.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// accountPath is "/2010-04-01/Accounts/{AccountSid}".
func (a *restAPI) accountPath() string {
	return "/" + apiVersion + "/Accounts/" + a.opts.AccountSID
}

// requireStore answers 501 when no store is configured.
func (a *restAPI) requireStore() error {
	if a.opts.Store == nil {
		return errUnavailable("the REST API (no store configured)")
	}
	return nil
}
