package studio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// userAgent identifies the executor's HTTP widget requests.
const userAgent = "Voxgate-Studio/1.0"

// httpRequest runs make-http-request: success on a 2xx answer within the
// HTTP timeout, failed otherwise.
func (r *runner) httpRequest(st *State) (outcome, error) {
	b := r.bindings()
	method := strings.ToUpper(strings.TrimSpace(r.text(st, "method", b)))
	if method == "" {
		method = http.MethodGet
	}
	target := strings.TrimSpace(r.text(st, "url", b))
	contentType := strings.TrimSpace(r.text(st, "content_type", b))
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded;charset=utf-8"
	}
	body := r.text(st, "body", b)
	params, err := r.keyValues(st, "parameters", b)
	if err != nil {
		return outcome{}, err
	}
	form := url.Values{}
	for _, kv := range params {
		form.Add(kv.Key, kv.Value)
	}
	var payload string
	switch {
	case method == http.MethodGet || method == http.MethodDelete:
		if len(form) > 0 {
			target = appendQuery(target, form)
		}
	case strings.HasPrefix(contentType, "application/json"):
		payload = body
		if strings.TrimSpace(payload) == "" && len(params) > 0 {
			obj := make(map[string]string, len(params))
			for _, kv := range params {
				obj[kv.Key] = kv.Value
			}
			data, _ := json.Marshal(obj)
			payload = string(data)
		}
	default:
		if len(form) > 0 {
			payload = form.Encode()
		} else {
			payload = body
		}
	}
	return r.callHTTP(st, method, target, contentType, payload, "success", "failed", false)
}

// runFunction runs run-function: a POST of the parameters (form encoded)
// to the function's URL, under Options.FunctionsURL when that is set.
func (r *runner) runFunction(st *State) (outcome, error) {
	b := r.bindings()
	params, err := r.keyValues(st, "parameters", b)
	if err != nil {
		return outcome{}, err
	}
	target, err := r.x.functionURL(strings.TrimSpace(r.text(st, "url", b)))
	if fnSID := strings.TrimSpace(r.text(st, "function_sid", b)); fnSID != "" && r.x.opts.FunctionURL != nil {
		// A function hosted by this gateway, named by its SID.
		if u, ok := r.x.opts.FunctionURL(strings.TrimSpace(r.text(st, "service_sid", b)), fnSID); ok {
			target, err = u, nil
		}
	}
	if err != nil {
		r.log.Warn("studio: run-function has no usable url", "widget", st.Name, "error", err)
		_, cx := r.top()
		setWidget(cx, st.Name, map[string]any{})
		return finished(st, "fail"), nil
	}
	form := url.Values{}
	for _, kv := range params {
		form.Add(kv.Key, kv.Value)
	}
	return r.callHTTP(st, http.MethodPost, target, "application/x-www-form-urlencoded;charset=utf-8", form.Encode(), "success", "fail", true)
}

// functionURL maps a function's URL onto Options.FunctionsURL.
func (x *Executor) functionURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("url is empty")
	}
	if x.opts.FunctionsURL == "" {
		if strings.HasPrefix(raw, "/") {
			return strings.TrimRight(x.opts.PublicURL, "/") + raw, nil // this gateway's own /fn/ path
		}
		return raw, nil
	}
	// Only the path and query matter: the host (often a placeholder such
	// as ${DOMAIN} in exported flows) is replaced.
	rest := raw
	if _, after, ok := strings.Cut(raw, "://"); ok {
		rest = after
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = "/"
		}
	}
	u, err := url.Parse(rest)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", raw, err)
	}
	target := strings.TrimRight(x.opts.FunctionsURL, "/") + "/" + strings.TrimLeft(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return target, nil
}

// appendQuery adds form to a URL's query.
func appendQuery(target string, form url.Values) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + form.Encode()
}

// callHTTP makes an HTTP widget's request and stores its outputs:
// status_code, content_type, body, parsed (JSON answers) and, for
// run-function, headers. Network failures and timeouts store nothing.
func (r *runner) callHTTP(st *State, method, target, contentType, payload, okEvent, failEvent string, withHeaders bool) (outcome, error) {
	_, cx := r.top()
	log := r.log.With("widget", st.Name, "type", st.Type, "method", method, "url", target)
	fail := func(reason string, err error) (outcome, error) {
		log.Warn("studio: HTTP widget failed", "reason", reason, "error", err)
		setWidget(cx, st.Name, map[string]any{})
		return finished(st, failEvent), nil
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("not an absolute http(s) URL", err)
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.x.limits.HTTPTimeout)
	defer cancel()
	var body io.Reader
	if payload != "" || method == http.MethodPost || method == http.MethodPut {
		body = strings.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fail("bad request", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	if withHeaders && r.x.opts.AuthToken != "" && method == http.MethodPost {
		// run-function requests are signed, so protected functions accept them.
		form, _ := url.ParseQuery(payload)
		req.Header.Set("X-Twilio-Signature", webhook.Signature(r.x.opts.AuthToken, target, form))
	}
	started := time.Now()
	resp, err := r.x.opts.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil && r.ctx.Err() == nil {
			return fail(fmt.Sprintf("no answer within %v", r.x.limits.HTTPTimeout), err)
		}
		return fail("request failed", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, r.x.limits.MaxResponseBody+1))
	if err != nil {
		return fail("reading the answer failed", err)
	}
	if int64(len(data)) > r.x.limits.MaxResponseBody {
		return fail(fmt.Sprintf("answer larger than %d bytes", r.x.limits.MaxResponseBody), nil)
	}
	respType := resp.Header.Get("Content-Type")
	out := map[string]any{
		"status_code":  json.Number(fmt.Sprint(resp.StatusCode)),
		"content_type": respType,
		"body":         string(data),
	}
	if mt, _, _ := mime.ParseMediaType(respType); mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var parsed any
		if err := decodeJSON(data, &parsed); err == nil {
			out["parsed"] = parsed
		} else {
			log.Warn("studio: HTTP widget answer is not valid JSON", "error", err)
		}
	}
	if withHeaders {
		headers := make(map[string]any, len(resp.Header))
		for k := range resp.Header {
			headers[strings.ToLower(k)] = resp.Header.Get(k)
		}
		out["headers"] = headers
	}
	setWidget(cx, st.Name, out)
	event := okEvent
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		event = failEvent
	}
	log.Info("studio: HTTP widget", "status", resp.StatusCode, "duration", time.Since(started).Round(time.Millisecond).String(), "event", event)
	return finished(st, event), nil
}
