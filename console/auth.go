package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// sessionCookie names the console's session cookie.
const sessionCookie = "voxgate_console"

// session is one signed-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// sessions holds the signed-in browsers. Sessions live in memory: a
// restart signs everyone out.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]session
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// start makes a session and returns its id.
func (s *sessions) start() (id string, sess session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // forget expired sessions
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	id = randomToken()
	sess = session{csrf: randomToken(), expires: now.Add(s.ttl)}
	s.m[id] = sess
	return id, sess
}

// get returns the live session of id.
func (s *sessions) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || s.now().After(v.expires) {
		delete(s.m, id)
		return session{}, false
	}
	return v, true
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// caller says how a request is authenticated.
type caller struct {
	ok      bool
	basic   bool   // HTTP Basic (scripts, tests)
	session string // the session id, for a browser
	csrf    string
}

// authenticate checks the session cookie, then HTTP Basic.
func (h *Handler) authenticate(r *http.Request) caller {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s, ok := h.sessions.get(c.Value); ok {
			return caller{ok: true, session: c.Value, csrf: s.csrf}
		}
	}
	if user, pass, ok := r.BasicAuth(); ok && h.credentialsOK(user, pass) {
		return caller{ok: true, basic: true}
	}
	return caller{}
}

func (h *Handler) credentialsOK(sid, token string) bool {
	return h.opts.AccountSID != "" && h.opts.AuthToken != "" &&
		subtle.ConstantTimeCompare([]byte(sid), []byte(h.opts.AccountSID))&
			subtle.ConstantTimeCompare([]byte(token), []byte(h.opts.AuthToken)) == 1
}

// sameOrigin reports whether r comes from a page of this gateway: its
// Origin header (sent by browsers on every cross-site request, and on
// WebSocket, EventSource and non-GET fetches) names r's own host, or is
// absent (a script).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// unsafe reports whether the method changes something.
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// csrfOK checks a change: a browser session must send its CSRF token in
// X-CSRF-Token (a page of another site cannot read it); every change
// must come from this gateway's own pages or from a script.
func (c caller) csrfOK(r *http.Request) bool {
	if !sameOrigin(r) {
		return false
	}
	if c.basic {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("X-CSRF-Token")), []byte(c.csrf)) == 1
}

// signIn handles POST /console/login (form AccountSid, AuthToken).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !sameOrigin(r) {
		http.Error(w, "cross-origin sign-in refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || !h.credentialsOK(r.PostForm.Get("AccountSid"), r.PostForm.Get("AuthToken")) {
		h.log.Warn("console: sign-in failed", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Wrong account SID or auth token"})
		return
	}
	id, s := h.sessions.start()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || h.secure,
		Expires: s.expires, MaxAge: int(h.sessions.ttl.Seconds()),
	})
	h.log.Info("console: signed in", "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{"account_sid": h.opts.AccountSID, "csrf_token": s.csrf})
}

// signOut handles POST /console/logout.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, c caller) {
	if c.session != "" {
		h.sessions.end(c.session)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
