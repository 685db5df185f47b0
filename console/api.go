package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/studio"
)

// maxDefinition bounds a flow definition sent for validation.
const maxDefinition = 1 << 20

// api routes /console/api/….
func (h *Handler) api() func(http.ResponseWriter, *http.Request, caller) {
	return func(w http.ResponseWriter, r *http.Request, c caller) {
		path := strings.TrimPrefix(r.URL.Path, "/console/api")
		switch {
		case path == "/session" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"account_sid": h.opts.AccountSID, "csrf_token": c.csrf})
		case path == "/logout" && r.Method == http.MethodPost:
			h.signOut(w, r, c)
		case strings.HasPrefix(path, "/rest/"):
			h.rest(w, r, strings.TrimPrefix(path, "/rest"))
		case strings.HasPrefix(path, "/calls/") && strings.HasSuffix(path, "/events") && r.Method == http.MethodGet:
			h.callEvents(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/calls/"), "/events"))
		case path == "/flows/validate" && r.Method == http.MethodPost:
			h.validate(w, r)
		case path == "/widgets" && r.Method == http.MethodGet:
			h.widgets(w)
		case path == "/board" && r.Method == http.MethodGet:
			h.board(w, r)
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "no such console endpoint", "status": 404})
		}
	}
}

// rest hands the request to the REST API as the account (the console's
// caller is already authenticated). Only the Twilio API paths pass.
func (h *Handler) rest(w http.ResponseWriter, r *http.Request, path string) {
	if !strings.HasPrefix(path, "/2010-04-01/Accounts/"+h.opts.AccountSID+"/") && !strings.HasPrefix(path, "/v2/") {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "not a REST API path", "status": 404})
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Cookie")
	r2.Header.Del("Authorization")
	r2.SetBasicAuth(h.opts.AccountSID, h.opts.AuthToken)
	h.opts.API.ServeHTTP(w, r2)
}

// timelineEvent is one call event as the console shows it.
type timelineEvent struct {
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Code    int             `json:"code,omitempty"`
	Meaning string          `json:"meaning,omitempty"`
	Detail  json.RawMessage `json:"detail"`
}

func (h *Handler) callEvents(w http.ResponseWriter, r *http.Request, callSID string) {
	events, err := h.opts.Store.ListCallEvents(r.Context(), callSID, 0)
	if err != nil {
		h.log.Error("console: call events", "call_sid", callSID, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "could not read the call's events", "status": 500})
		return
	}
	out := make([]timelineEvent, 0, len(events))
	for _, e := range events {
		te := timelineEvent{At: e.At, Kind: e.Kind, Code: e.Code, Detail: e.Detail}
		if e.Code != 0 {
			te.Meaning = ErrorMeaning(e.Code)
		}
		out = append(out, te)
	}
	writeJSON(w, http.StatusOK, map[string]any{"call_sid": callSID, "events": out})
}

// problemJSON is one validator finding, placed on the canvas by state.
type problemJSON struct {
	Severity string `json:"severity"`
	State    string `json:"state,omitempty"`
	Property string `json:"property,omitempty"`
	Message  string `json:"message"`
	Path     string `json:"property_path"`
}

// validate runs `voxgate flow validate`'s checks on the flow definition
// in the body (the flow JSON).
func (h *Handler) validate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDefinition))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"message": "definition too large", "status": 413})
		return
	}
	problems := []problemJSON{}
	f, err := studio.Parse(body)
	if err != nil {
		problems = append(problems, problemJSON{Severity: "error", Message: err.Error(), Path: "#/"})
	} else {
		for _, p := range studio.Validate(f) {
			sev := "error"
			if p.Severity == studio.SeverityWarning {
				sev = "warning"
			}
			problems = append(problems, problemJSON{Severity: sev, State: p.State, Property: p.Property, Message: p.String(), Path: p.Path})
		}
	}
	valid := true
	for _, p := range problems {
		if p.Severity == "error" {
			valid = false
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": valid, "problems": problems})
}

// paletteTypes are the widgets the canvas offers to add.
var paletteTypes = []string{
	"say-play", "gather-input-on-call", "split-based-on", "set-variables", "make-http-request",
	"run-function", "connect-call-to", "enqueue-call", "record-voicemail", "record-call",
	"add-twiml-redirect", "run-subflow", "make-outgoing-call-v2", "send-to-flex",
}

// widgets lists each addable widget type's transition events.
func (h *Handler) widgets(w http.ResponseWriter) {
	out := map[string][]string{"trigger": studio.WidgetEvents("trigger")}
	for _, t := range paletteTypes {
		out[t] = studio.WidgetEvents(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"palette": paletteTypes, "events": out})
}

// boardQueue is one queue on the live board.
type boardQueue struct {
	SID             string   `json:"sid"`
	Name            string   `json:"name"`
	Waiting         int      `json:"waiting"`
	MaxSize         int      `json:"max_size"`
	LongestWait     int      `json:"longest_wait"`  // seconds
	AverageWait     int      `json:"average_wait"`  // seconds
	ServiceLevel    *float64 `json:"service_level"` // 0–1, nil when nobody left today
	AnsweredToday   int      `json:"answered_today"`
	LeftToday       int      `json:"left_today"`
	ServiceLevelSec int      `json:"service_level_threshold"`
}

type boardAgent struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Queues   []string `json:"queues"`
	Activity string   `json:"activity"`
	CallSID  string   `json:"call_sid,omitempty"`
	From     string   `json:"from,omitempty"`
	Queue    string   `json:"queue,omitempty"`
}

// board is the live state of queues and agents.
func (h *Handler) board(w http.ResponseWriter, r *http.Request) {
	queues := []boardQueue{}
	agents := []boardAgent{}
	if h.opts.Queues != nil {
		for _, q := range h.opts.Queues.Queues() {
			bq := boardQueue{SID: q.SID, Name: q.Name, Waiting: q.Size, MaxSize: q.MaxSize,
				AverageWait: int(q.AverageWait.Seconds()), ServiceLevelSec: int(h.opts.ServiceLevel.Seconds())}
			for _, m := range h.opts.Queues.Members(q.SID) {
				bq.LongestWait = max(bq.LongestWait, int(m.Wait.Seconds()))
			}
			h.serviceLevel(r.Context(), &bq)
			queues = append(queues, bq)
		}
		for _, a := range h.opts.Queues.Agents() {
			agents = append(agents, boardAgent{ID: a.ID, Name: a.Name, Queues: a.Queues, Activity: a.Activity, CallSID: a.CallSID, From: a.From, Queue: a.Queue})
		}
	}
	sort.Slice(queues, func(i, j int) bool { return queues[i].Name < queues[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"queues": queues, "agents": agents, "at": time.Now().UTC()})
}

// serviceLevel fills q's share of today's callers (UTC) who were answered
// within the threshold, from the queue's member history (the last 1000).
func (h *Handler) serviceLevel(ctx context.Context, q *boardQueue) {
	if h.opts.Store == nil || q.SID == "" {
		return
	}
	members, _, err := h.opts.Store.ListQueueMembers(ctx, store.QueueMemberFilter{QueueSID: q.SID}, store.Page{Size: 1000})
	if err != nil {
		h.log.Warn("console: queue history", "queue_sid", q.SID, "error", err)
		return
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	within := 0
	for _, m := range members {
		if m.DateLeft.IsZero() || m.DateLeft.Before(day) {
			continue
		}
		q.LeftToday++
		if m.Result == "bridged" {
			q.AnsweredToday++
			if time.Duration(m.WaitTime)*time.Second <= h.opts.ServiceLevel {
				within++
			}
		}
	}
	if q.LeftToday > 0 {
		sl := float64(within) / float64(q.LeftToday)
		q.ServiceLevel = &sl
	}
}
