// Package console is the gateway's web console at /console: sign-in with
// the account's credentials, calls with their timelines and recordings,
// the Studio canvas (flows, revisions, editing, executions) and a live
// board of queues and agents. The front end (console/ui, React and React
// Flow) is built into console/dist and embedded in the binary; its data
// comes from the REST API (reached through the console with the
// session's rights) and from the few endpoints here.
package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/store"
)

// DefaultSessionTTL is how long a console sign-in lasts.
const DefaultSessionTTL = 8 * time.Hour

// Store is what the console reads itself (the rest comes through the REST
// API).
type Store interface {
	store.CallEventStore
	ListQueueMembers(ctx context.Context, f store.QueueMemberFilter, p store.Page) ([]store.QueueMember, store.PageToken, error)
}

// Queues is the live state of queues and agents (queue.Manager).
type Queues interface {
	Queues() []queue.QueueInfo
	Members(queueSID string) []queue.MemberInfo
	Agents() []queue.AgentInfo
}

// Options configures a Handler.
type Options struct {
	AccountSID, AuthToken string
	// API is the REST API handler (/2010-04-01/…, /v2/…), called in process
	// with the account's credentials for a signed-in browser.
	API    http.Handler
	Store  Store
	Queues Queues
	// PublicURL is the gateway's base URL; an https one makes the session
	// cookie Secure.
	PublicURL string
	// SessionTTL is how long a sign-in lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// ServiceLevel is the wait within which an answered caller counts
	// towards a queue's service level (default 20 s).
	ServiceLevel time.Duration
	Logger       *slog.Logger
}

// Handler serves /console and /console/….
type Handler struct {
	opts     Options
	log      *slog.Logger
	sessions *sessions
	secure   bool
	mux      *http.ServeMux
}

// NewHandler returns the console's handler.
func NewHandler(opts Options) *Handler {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.ServiceLevel <= 0 {
		opts.ServiceLevel = 20 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{
		opts: opts, log: opts.Logger,
		sessions: &sessions{ttl: opts.SessionTTL, now: time.Now, m: map[string]session{}},
		secure:   strings.HasPrefix(opts.PublicURL, "https://"),
		mux:      http.NewServeMux(),
	}
	h.mux.HandleFunc("/console/login", h.signIn)
	h.mux.Handle("/console/api/", h.guard(h.api()))
	h.mux.Handle("/console/assets/", assetsHandler())
	h.mux.HandleFunc("/console", h.page)
	h.mux.HandleFunc("/console/", h.page)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// guard admits signed-in browsers and Basic-authenticated scripts; a
// change also needs the CSRF token (browsers) and this gateway's origin.
func (h *Handler) guard(next func(http.ResponseWriter, *http.Request, caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c := h.authenticate(r)
		if !c.ok {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Sign in first", "status": 401})
			return
		}
		if !sameOrigin(r) || (unsafe(r.Method) && !c.csrfOK(r)) {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "Missing or wrong CSRF token, or another site's request", "status": 403})
			return
		}
		next(w, r, c)
	})
}

// page serves the single-page app's index for every console path.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; media-src 'self'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-cache")
	serveIndex(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
