package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/voxgate/voxgate/ivr/webhook"
)

// maxBody is the largest request body a function receives (as Twilio's
// runtime emulator).
const maxBody = 6 << 20

// Error codes Twilio's debugger uses for functions.
const (
	codeFunctionError = 82002 // error on the function's response: 5xx, timeout, crash
	codeErrorLog      = 82005 // the function logged an error
)

// Handler serves deployed functions and assets at
// /fn/{service}/{path}, {service} being the service's unique name or SID
// (its production environment, else its most recently deployed one), or
// {unique_name}-{domain_suffix} for another environment.
func (m *Manager) Handler() http.Handler { return http.HandlerFunc(m.serve) }

// restrictedHeaders are dropped from event.request.headers, as Twilio does.
var restrictedHeaders = map[string]bool{"via": true, "referer": true, "transfer-encoding": true, "proxy-authorization": true,
	"proxy-authenticate": true, "x-real-ip": true, "connection": true, "proxy-connection": true, "expect": true, "trailer": true, "upgrade": true}
var restrictedPrefixes = []string{"i-twilio-", "i-t-", "ot-", "x-amz", "x-forwarded-", "x-accel-"}

func (m *Manager) serve(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/fn/")
	key, p, _ := strings.Cut(rest, "/")
	p = "/" + p
	l := m.lookup(key)
	if l == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	f, ok := l.files[p]
	if !ok && p == "/" {
		p = "/index.html"
		f, ok = l.files[p]
	}
	if !ok || f.Visibility == Private {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodOptions {
		preflight(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if f.Visibility == Protected && !m.signed(r, body) {
		m.log.Warn("functions: protected function called without a valid X-Twilio-Signature", "path", p, "service_sid", l.svc.SID)
		http.Error(w, "Unauthorized: a valid X-Twilio-Signature is required", http.StatusUnauthorized)
		return
	}
	if l.kinds[p] == kindAsset {
		serveAsset(w, r, f, l.since)
		return
	}
	m.runFunction(w, r, l, key, f, body)
}

// lookup finds the live deployment a /fn/{key}/ URL names: the service
// (by unique name or SID) in its production environment (no domain
// suffix), else its most recently deployed one; or {unique_name}-{suffix}.
func (m *Manager) lookup(key string) *liveEnv {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best *liveEnv
	better := func(l *liveEnv) bool {
		if best == nil {
			return true
		}
		if (l.env.DomainSuffix == "") != (best.env.DomainSuffix == "") {
			return l.env.DomainSuffix == ""
		}
		return l.since.After(best.since)
	}
	for _, l := range m.live {
		if (l.svc.SID == key || l.svc.UniqueName == key) && better(l) {
			best = l
		}
	}
	if best != nil {
		return best
	}
	for _, l := range m.live {
		if l.env.DomainSuffix != "" && l.svc.UniqueName+"-"+l.env.DomainSuffix == key {
			return l
		}
	}
	return nil
}

// preflight answers a CORS OPTIONS request as Twilio's runtime does.
func preflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, User-Agent")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Expose-Headers", "ETag")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// signed reports whether r carries a valid X-Twilio-Signature: over the
// URL as the gateway publishes it, or as the request addressed it.
func (m *Manager) signed(r *http.Request, body []byte) bool {
	got := r.Header.Get("X-Twilio-Signature")
	if got == "" || m.opts.AuthToken == "" {
		return false
	}
	var params url.Values
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		params, _ = url.ParseQuery(string(body))
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	for _, base := range []string{m.opts.PublicURL, scheme + "://" + r.Host} {
		if webhook.Signature(m.opts.AuthToken, base+r.URL.RequestURI(), params) == got {
			return true
		}
	}
	return false
}

// assetTypes complete the system's MIME table for what calls play.
var assetTypes = map[string]string{".wav": "audio/wav", ".mp3": "audio/mpeg", ".ulaw": "audio/basic", ".ul": "audio/basic",
	".au": "audio/basic", ".aiff": "audio/aiff", ".ogg": "audio/ogg", ".txt": "text/plain; charset=utf-8",
	".json": "application/json", ".xml": "text/xml; charset=utf-8", ".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

// serveAsset sends an asset with its content type, an ETag (the version
// SID: content never changes under it) and caching headers.
func serveAsset(w http.ResponseWriter, r *http.Request, f manifestFile, since time.Time) {
	file, err := os.Open(f.File)
	if err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	defer file.Close()
	ext := strings.ToLower(path.Ext(f.Path))
	ctype := assetTypes[ext]
	if ctype == "" {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", `"`+f.Version+`"`)
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, "", since, file)
}

// runFunction runs a function for r and writes its answer.
func (m *Manager) runFunction(w http.ResponseWriter, r *http.Request, l *liveEnv, key string, f manifestFile, body []byte) {
	event, err := buildEvent(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reqSID := newSID(prefixRequest)
	callSID, _ := event["CallSid"].(string)
	slogger := m.log.With("service_sid", l.svc.SID, "environment_sid", l.env.SID, "function_sid", f.SID, "request_sid", reqSID, "path", f.Path)
	if callSID != "" {
		slogger = slogger.With("call_sid", callSID)
	}
	entry := logEntry{EnvironmentSID: l.env.SID, ServiceSID: l.svc.SID, BuildSID: l.build.SID, FunctionSID: f.SID, RequestSID: reqSID}
	log := &requestLog{Logger: slogger, keep: func(level slog.Level, msg string) {
		e := entry
		e.Level, e.Message = level, msg
		m.keepLog(e)
	}}
	inv := invocation{ID: reqSID, Path: f.Path, Event: event, Ctx: map[string]string{
		"DOMAIN_NAME": r.Host + "/fn/" + key, "PATH": f.Path, "SERVICE_SID": l.svc.SID, "ENVIRONMENT_SID": l.env.SID}}
	start := time.Now()
	res, err := l.pool.run(r.Context(), inv, log)
	for errors.Is(err, errPoolClosed) {
		// Redeployed while this request was on its way: the new
		// deployment answers it, if it still has the function.
		nl := m.lookup(key)
		nf, ok := nl.fileFor(f.Path)
		if nl == nil || nl == l || !ok || nf.Visibility != f.Visibility || nl.kinds[f.Path] != kindFunction {
			break
		}
		l = nl
		res, err = l.pool.run(r.Context(), inv, log)
	}
	elapsed := time.Since(start)
	switch {
	case err == nil:
	case errors.Is(err, errTimeout):
		log.note(slog.LevelError, "functions: runtime application timed out", "code", codeFunctionError, "limit", m.opts.Timeout, "elapsed_ms", elapsed.Milliseconds())
		http.Error(w, "Runtime Application Timed Out", http.StatusGatewayTimeout)
		return
	case errors.Is(err, context.Canceled):
		return // the caller went away
	default:
		log.Error("functions: the function's worker failed", "code", codeFunctionError, "error", err, "elapsed_ms", elapsed.Milliseconds())
		log.keep(slog.LevelError, "the function's worker failed: "+err.Error())
		http.Error(w, "Function execution failed: its worker ended (crash, exit or memory limit)", http.StatusBadGateway)
		return
	}
	level := slog.LevelDebug
	if res.Status >= 500 {
		level = slog.LevelError
	}
	log.Log(r.Context(), level, "functions: executed", "status", res.Status, "elapsed_ms", elapsed.Milliseconds(), codeAttr(res.Status))
	for k, vs := range res.Headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

func codeAttr(status int) slog.Attr {
	if status >= 500 {
		return slog.Int("code", codeFunctionError)
	}
	return slog.Attr{}
}

// buildEvent is Twilio's event: query, then body (which wins), and
// request.headers and request.cookies.
func buildEvent(r *http.Request, body []byte) (map[string]any, error) {
	event := map[string]any{}
	addValues(event, r.URL.Query())
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case len(body) == 0:
	case ctype == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("bad form body: %w", err)
		}
		addValues(event, form)
	case ctype == "application/json":
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("bad JSON body: %w", err)
		}
		for k, v := range obj {
			event[k] = v
		}
	}
	headers := map[string]any{}
	for name, vs := range r.Header {
		n := strings.ToLower(name)
		if restricted(n) {
			continue
		}
		if len(vs) == 1 {
			headers[n] = vs[0]
		} else {
			headers[n] = vs
		}
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	cookies := map[string]string{}
	for _, c := range r.Cookies() {
		cookies[c.Name] = c.Value
	}
	event["request"] = map[string]any{"headers": headers, "cookies": cookies}
	return event, nil
}

func restricted(name string) bool {
	if restrictedHeaders[name] {
		return true
	}
	for _, p := range restrictedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// addValues merges form values: one value is a string, several an array.
func addValues(event map[string]any, v url.Values) {
	for k, vs := range v {
		if len(vs) == 1 {
			event[k] = vs[0]
		} else {
			event[k] = vs
		}
	}
}

// fileFor is the function or asset at path (nil-safe).
func (l *liveEnv) fileFor(path string) (manifestFile, bool) {
	if l == nil {
		return manifestFile{}, false
	}
	f, ok := l.files[path]
	return f, ok
}
