package api

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// apiVersion is the REST API's version path segment.
const apiVersion = "2010-04-01"

// restHandler is one endpoint: ids are the path's captured SIDs, in order.
// An error is written as Twilio error JSON (see writeError).
type restHandler func(w http.ResponseWriter, r *http.Request, ids []string) error

// route maps a path under /2010-04-01/Accounts/{AccountSid}/ to handlers by
// method. Pattern segments are literals, "{}" (any one segment) or
// "{}.json" (a segment ending in .json, captured without it).
type route struct {
	pattern []string
	methods map[string]restHandler
	// media marks the recording media route, served without credentials
	// unless Options.RecordingsRequireAuth.
	media bool
}

// restAPI serves the Twilio-compatible REST API under /2010-04-01/.
type restAPI struct {
	opts   Options
	log    *slog.Logger
	routes []route
}

func newRestAPI(opts Options) *restAPI {
	a := &restAPI{opts: opts, log: opts.Logger}
	mediaHandlers := map[string]restHandler{http.MethodGet: a.recordingMedia, http.MethodHead: a.recordingMedia}
	a.routes = []route{
		{pattern: split("Calls.json"), methods: map[string]restHandler{http.MethodGet: a.listCalls, http.MethodPost: a.createCall}},
		{pattern: split("Calls/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchCall, http.MethodPost: a.updateCall, http.MethodDelete: a.deleteCall}},
		{pattern: split("Calls/{}/Recordings.json"), methods: map[string]restHandler{http.MethodGet: a.listCallRecordings, http.MethodPost: a.startCallRecording}},
		{pattern: split("Calls/{}/Recordings/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchCallRecording,
			http.MethodPost: a.updateCallRecording, http.MethodDelete: a.deleteCallRecording}},
		{pattern: split("Calls/{}/Streams.json"), methods: map[string]restHandler{http.MethodPost: a.createStream}},
		{pattern: split("Calls/{}/Streams/{}.json"), methods: map[string]restHandler{http.MethodPost: a.updateStream}},
		{pattern: split("Recordings.json"), methods: map[string]restHandler{http.MethodGet: a.listRecordings}},
		{pattern: split("Recordings/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchRecording, http.MethodDelete: a.deleteRecording}},
		{pattern: split("Recordings/{}"), methods: mediaHandlers, media: true},
		{pattern: split("Queues.json"), methods: map[string]restHandler{http.MethodGet: a.listQueues, http.MethodPost: a.createQueue}},
		{pattern: split("Queues/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchQueue, http.MethodPost: a.updateQueue, http.MethodDelete: a.deleteQueue}},
		{pattern: split("Queues/{}/Members.json"), methods: map[string]restHandler{http.MethodGet: a.listMembers}},
		{pattern: split("Queues/{}/Members/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchMember, http.MethodPost: a.dequeueMember}},
	}
	a.routes = append(a.routes, a.messageRoutes()...)
	return a
}

func split(p string) []string { return strings.Split(p, "/") }

// match reports whether segs fit the pattern and returns the captured ids.
func (rt route) match(segs []string) ([]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var ids []string
	for i, p := range rt.pattern {
		s := segs[i]
		switch {
		case p == "{}":
			if s == "" {
				return nil, false
			}
			ids = append(ids, s)
		case p == "{}.json":
			id, ok := strings.CutSuffix(s, ".json")
			if !ok || id == "" {
				return nil, false
			}
			ids = append(ids, id)
		case p != s:
			return nil, false
		}
	}
	return ids, true
}

// ServeHTTP finds the route, checks credentials and the account, and runs
// the handler. Order: the media route (public by default) first; then
// 401 for bad credentials, 403 for another account, 404 for no route, 405
// for a method the route lacks.
func (a *restAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	account, rest, ok := splitAccountPath(r.URL.Path)
	var (
		matched *route
		ids     []string
	)
	if ok {
		for i := range a.routes {
			if got, ok := a.routes[i].match(rest); ok {
				matched, ids = &a.routes[i], got
				break
			}
		}
	}
	if matched != nil && matched.media && !a.opts.RecordingsRequireAuth {
		if account != a.opts.AccountSID {
			writeError(w, a.log, notFound(r))
			return
		}
		a.dispatch(w, r, matched, ids)
		return
	}
	if !a.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, a.log, &Error{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
		return
	}
	if ok && account != a.opts.AccountSID {
		writeError(w, a.log, &Error{Status: http.StatusForbidden, Code: 20003,
			Message: "Authenticate: the credentials do not give access to account " + account})
		return
	}
	if matched == nil {
		writeError(w, a.log, notFound(r))
		return
	}
	a.dispatch(w, r, matched, ids)
}

// dispatch runs the route's handler for r.Method, or answers 405.
func (a *restAPI) dispatch(w http.ResponseWriter, r *http.Request, rt *route, ids []string) {
	h, ok := rt.methods[r.Method]
	if !ok {
		allowed := make([]string, 0, len(rt.methods))
		for m := range rt.methods {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, a.log, &Error{Status: http.StatusMethodNotAllowed, Code: 20004, Message: "Method not allowed"})
		return
	}
	if err := h(w, r, ids); err != nil {
		writeError(w, a.log, err)
	}
}

// splitAccountPath splits "/2010-04-01/Accounts/{AccountSid}/rest…" into the
// account SID and the remaining segments.
func splitAccountPath(p string) (account string, rest []string, ok bool) {
	tail, ok := strings.CutPrefix(p, "/"+apiVersion+"/Accounts/")
	if !ok {
		return "", nil, false
	}
	account, tail, ok = strings.Cut(tail, "/")
	if !ok || account == "" || tail == "" {
		return "", nil, false
	}
	return account, strings.Split(tail, "/"), true
}

// authenticated checks HTTP Basic credentials against the account SID and
// auth token in constant time. With no auth token configured nothing
// authenticates.
func (a *restAPI) authenticated(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || a.opts.AuthToken == "" || a.opts.AccountSID == "" {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.opts.AccountSID))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(a.opts.AuthToken))
	return userOK&passOK == 1
}

// guard serves h to requests with the account's Basic credentials and
// answers others 401 with Twilio's error JSON.
func (a *restAPI) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.authenticated(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, a.log, &Error{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// notFound is Twilio's 404 for the request's path.
func notFound(r *http.Request) *Error {
	return &Error{Status: http.StatusNotFound, Code: 20404,
		Message: "The requested resource " + r.URL.Path + " was not found"}
}

// errUnavailable is the answer when a feature's controller is not wired.
// Twilio has no code for "not implemented"; 20503 (Service unavailable) is
// the documented code closest in meaning, and HTTP 501 tells clients that
// retrying will not help.
func errUnavailable(what string) *Error {
	return &Error{Status: http.StatusNotImplemented, Code: 20503,
		Message: "Service unavailable: " + what + " is not available on this gateway"}
}
