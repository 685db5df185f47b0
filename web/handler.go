package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/voxgate/voxgate/queue"
)

// AgentAccount is an agent allowed to sign in on the page.
type AgentAccount struct {
	ID     string   // identity (what Ring and <Client> name)
	Name   string   // display name
	Secret string   // password typed on the page
	Queues []string // queue names the agent serves
}

// Options configures the handler.
type Options struct {
	// Manager routes callers to the agents; required.
	Manager *queue.Manager
	// Agents are the accounts that may sign in.
	Agents []AgentAccount
	// PublicIP, when valid, is advertised as an extra ICE host candidate
	// for browsers reaching the gateway through a 1:1 NAT.
	PublicIP netip.Addr
	// Logger receives the handler's logs; nil means slog.Default().
	Logger *slog.Logger
	// SignInThrottled, when set, hears of each sign-in attempt refused
	// without checking the secret because of earlier failures (metrics).
	SignInThrottled func()
	// Now is the clock of the sign-in throttle; nil means time.Now.
	Now func() time.Time
	// Desk, when set, adds the TaskRouter desktop to the page: the
	// agent's reservations on every channel, chat conversations and
	// activity (see "desk" and "task" in the protocol).
	Desk TaskDesk
}

// TaskDesk opens agents' TaskRouter desktops (package desk, adapted).
type TaskDesk interface {
	Open(agentID string) (DeskSession, error)
}

// DeskSession is one agent's open desktop.
type DeskSession interface {
	// Changed fires when Snapshot may show something new.
	Changed() <-chan struct{}
	// Snapshot is the desktop's state, sent to the page as is (a JSON
	// object with "type":"desk").
	Snapshot() (any, error)
	// Do carries out an action: accept, reject, wrap, complete, say
	// (body), activity (activity name).
	Do(action, reservationSID, body, activity string) error
	// Call carries out a call action on the live call of taskSID: hold,
	// unhold, mute, unmute, transfer, consult (target), leave, kick
	// (target: a party's label), and a supervisor's monitor, coach,
	// barge, unmonitor.
	Call(action, taskSID, target string) error
	// Close ends the session.
	Close()
}

//go:embed assets
var assets embed.FS

// handler serves the page and its WebSocket.
type handler struct {
	mgr         *queue.Manager
	accounts    map[string]account
	publicIP    netip.Addr
	log         *slog.Logger
	mux         *http.ServeMux
	guard       *signInGuard
	onThrottled func()
	desk        TaskDesk
}

// account is an AgentAccount with its secret's digest, so that secrets of
// any length compare in constant time.
type account struct {
	AgentAccount
	digest [sha256.Size]byte
}

// NewHandler returns the softphone's HTTP handler (see the package
// documentation for its routes and protocol). It panics if opts.Manager
// is nil.
func NewHandler(opts Options) http.Handler {
	if opts.Manager == nil {
		panic("web: NewHandler: nil Manager")
	}
	h := &handler{
		mgr:         opts.Manager,
		accounts:    make(map[string]account, len(opts.Agents)),
		publicIP:    opts.PublicIP,
		log:         opts.Logger,
		mux:         http.NewServeMux(),
		guard:       newSignInGuard(opts.Now),
		onThrottled: opts.SignInThrottled,
		desk:        opts.Desk,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, a := range opts.Agents {
		a.Queues = slices.Clone(a.Queues)
		h.accounts[a.ID] = account{AgentAccount: a, digest: sha256.Sum256([]byte(a.Secret))}
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("web: embedded assets missing: " + err.Error()) // cannot happen: embedded at build time
	}
	h.mux.Handle("GET /agent", servePage(static))
	h.mux.Handle("GET /agent/{$}", http.RedirectHandler("../agent", http.StatusMovedPermanently))
	h.mux.Handle("GET /agent/agent.js", serveAsset(static, "agent.js"))
	h.mux.Handle("GET /agent/agent.css", serveAsset(static, "agent.css"))
	h.mux.Handle("GET /agent/agent-tasks.js", serveAsset(static, "agent-tasks.js"))
	h.mux.HandleFunc("GET /agent/ws", h.serveWebSocket)
	return h
}

// ServeHTTP routes the request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// servePage serves agent.html, with headers that keep the page from being
// framed or running anything but its own script.
func servePage(static fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		serveFile(w, r, static, "agent.html")
	})
}

// serveAsset serves the named embedded file.
func serveAsset(static fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, static, name)
	})
}

// serveFile serves an embedded file, revalidated on every load so a new
// gateway version is picked up at once.
func serveFile(w http.ResponseWriter, r *http.Request, static fs.FS, name string) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, static, name)
}

// authenticate returns the account with that ID and secret. The secret
// is compared in constant time, also for unknown IDs.
func (h *handler) authenticate(id, secret string) (account, bool) {
	got := sha256.Sum256([]byte(secret))
	a, known := h.accounts[id]
	want := a.digest // zero digest for unknown IDs: compared all the same
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return a, known && match
}
