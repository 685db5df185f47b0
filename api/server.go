// Package api is Voxgate's HTTP surface: health checks, the demo
// application the gateway serves itself, and the Twilio-compatible REST API.
//
// # REST API
//
// Under /2010-04-01/Accounts/{AccountSid}/ with the .json suffix, HTTP Basic
// auth (Options.AccountSID and Options.AuthToken), form-encoded requests and
// Twilio's JSON responses (snake_case, RFC 2822 dates, durations as
// strings, list envelopes with next_page_uri):
//
//	Calls.json                     GET list, POST create (via CallControl)
//	Calls/{CA}.json                GET, POST update (redirect / hang up), DELETE
//	Calls/{CA}/Recordings.json     GET, POST start recording the live call (via CallControl)
//	Calls/{CA}/Recordings/{RE|Twilio.CURRENT}.json  GET, POST Status=paused|in-progress|stopped, DELETE
//	Recordings.json                GET
//	Recordings/{RE}.json           GET, DELETE (removes the audio file)
//	Recordings/{RE}[.wav]          GET media (no credentials unless RecordingsRequireAuth)
//	Queues.json                    GET, POST
//	Queues/{QU}.json               GET, POST update, DELETE
//	Queues/{QU}/Members.json       GET (via QueueControl)
//	Queues/{QU}/Members/{CA|Front}.json  GET, POST dequeue (via QueueControl)
//	Conferences/{CF}/Recordings.json  GET, POST start recording the live conference (Voxgate extension)
//	Conferences/{CF}/Recordings/{RE|Twilio.CURRENT}.json  GET, POST Status=paused|in-progress|stopped, DELETE
//
// The Studio API lives under /v2/ (same credentials; ISO 8601 dates; list
// envelopes {<key>: [...], meta: {page, page_size, first_page_url,
// previous_page_url, next_page_url, url, key}}) when Options.Flows is set:
//
//	Flows                          GET list, POST create
//	Flows/Validate                 POST (400 details.errors[].property_path)
//	Flows/{FW}                     GET, POST (new revision), DELETE
//	Flows/{FW}/Revisions[/{n|LatestPublished|LatestDraft|LatestRevision}]  GET
//	Flows/{FW}/Executions          GET (Status, DateCreatedFrom/To), POST (To, From, Parameters)
//	Flows/{FW}/Executions/{FN}     GET, POST Status=ended, DELETE
//	Flows/{FW}/Executions/{FN}/Context, /Steps, /Steps/{FT}, /Steps/{FT}/Context  GET
//
// TaskRouter v1 (/v1/Workspaces…, package taskrouter) is mounted when
// Options.TaskRouter is set, behind the same credentials.
//
// Records come from Options.Store. Live actions go through the controllers
// the gateway wires in (CallControl, QueueControl); without one, those
// endpoints answer HTTP 501 with code 20503. Errors are Twilio's error JSON
// {code, message, more_info, status}: 401/20003 for bad credentials (with
// WWW-Authenticate), 403/20003 for another account's path, 404/20404 for
// unknown resources, 405/20004 for unsupported methods. Documented Twilio
// parameters the gateway does not implement (MachineDetection, TimeLimit,
// ApplicationSid, …) are refused with 400/20001, never ignored.
package api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"github.com/voxgate/voxgate/conference"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime"
	"runtime/metrics"
	"strings"
	"text/template"
	"time"

	"github.com/voxgate/voxgate/store"
)

// Options configures the HTTP handler.
type Options struct {
	// Demo holds the demo TwiML documents (configs.Demo), served under /demo/.
	Demo fs.FS
	// ActiveCalls reports the number of calls in progress, for /healthz.
	ActiveCalls func() int
	// Version is reported by /healthz.
	Version string
	// Logger receives request failures (500s); nil means slog.Default().
	Logger *slog.Logger
	// AccountSID is the account whose resources are served.
	AccountSID string
	// RecordingsDir holds recording WAV files (RE….wav), served as
	// recording media when the store has no path for a recording.
	RecordingsDir string
	// AuthToken is the REST API password (the user is AccountSID). Empty
	// means no request authenticates.
	AuthToken string
	// Store holds calls, recordings and queues for the REST API. Nil
	// leaves the REST API answering 501 (recording media still works from
	// RecordingsDir).
	Store store.Store
	// Calls places and steers calls; nil makes creating and updating calls
	// answer 501.
	Calls CallControl
	// Queues reports and changes who waits in queues; nil makes the member
	// endpoints answer 501 and current_size/average_wait_time read 0.
	Queues QueueControl
	// PublicURL is the gateway's externally reachable base URL
	// ("https://voice.example.com"), used for absolute links such as a
	// recording's media_url. Empty: the scheme and Host of each request.
	PublicURL string
	// RecordingsRequireAuth makes recording media need the same Basic
	// credentials as the rest of the API. Off by default, as on Twilio,
	// where the unguessable recording SID is the secret.
	RecordingsRequireAuth bool
	// Flows serves the Studio API under /v2/ (flows, revisions,
	// executions, steps) with the same credentials; nil makes it answer
	// 501.
	Flows *FlowControl
	// Messages serves the Messages resource; nil makes it answer 501.
	Messages MessageControl
	// TaskRouter serves TaskRouter v1 (/v1/Workspaces…, package
	// taskrouter) behind the same Basic credentials; nil: not served.
	TaskRouter http.Handler
	// Streams starts and stops media streams on live calls
	// (Calls/{Sid}/Streams); nil makes those endpoints answer 501.
	Streams StreamControl
	// Conferences are the live conference rooms, for the Conferences and
	// Participants API; nil makes those endpoints answer 501.
	Conferences *conference.Manager
}

// NewHandler returns the gateway's HTTP handler.
func NewHandler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	started := time.Now()
	// /healthz: status, version, active_calls, uptime_s, and the runtime
	// figures a load test watches for leaks: goroutines, heap_bytes (heap
	// objects now), heap_live_bytes (live after the last collection) and
	// gc_cycles (collections so far).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		active := 0
		if opts.ActiveCalls != nil {
			active = opts.ActiveCalls()
		}
		heap := readHeap()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status":          "ok",
			"version":         opts.Version,
			"active_calls":    active,
			"uptime_s":        int(time.Since(started).Seconds()),
			"goroutines":      runtime.NumGoroutine(),
			"heap_bytes":      heap.objects,
			"heap_live_bytes": heap.live,
			"gc_cycles":       heap.cycles,
		})
	})
	if opts.Demo != nil {
		mux.Handle("/demo/", &demoApp{files: opts.Demo, log: opts.Logger})
	}
	mux.Handle("/"+apiVersion+"/", newRestAPI(opts))
	mux.Handle("/"+v2Version+"/", newV2API(opts))
	if opts.TaskRouter != nil {
		guarded := (&restAPI{opts: opts, log: opts.Logger}).guard(opts.TaskRouter)
		mux.Handle("/v1/Workspaces", guarded)
		mux.Handle("/v1/Workspaces/", guarded)
	}
	return mux
}

// heapStats are the heap figures /healthz reports, read from
// runtime/metrics without stopping the world.
type heapStats struct {
	objects uint64 // bytes in heap objects, live or not yet swept (MemStats.HeapAlloc)
	live    uint64 // bytes the last garbage collection found live: what a leak makes grow
	cycles  uint64 // garbage collections completed
}

func readHeap() heapStats {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(samples)
	u := func(s metrics.Sample) uint64 {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s.Value.Uint64()
	}
	return heapStats{objects: u(samples[0]), live: u(samples[1]), cycles: u(samples[2])}
}

// demoApp serves the demo IVR. A request for NAME.xml with a Digits
// parameter D is answered with NAME-D.xml when that file exists, so a menu
// needs no code: menu-1.xml is the page for key 1. Documents are Go
// templates over the request's parameters ({{.Digits}}, {{.RecordingUrl}}),
// XML-escaped.
type demoApp struct {
	files fs.FS
	log   *slog.Logger
}

func (d *demoApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/demo/")
	if name == "tone.wav" {
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(demoTone())
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	candidates := []string{"demo/" + name}
	if digits := r.Form.Get("Digits"); digits != "" && strings.HasSuffix(name, ".xml") {
		candidates = append([]string{"demo/" + strings.TrimSuffix(name, ".xml") + "-" + digits + ".xml"}, candidates...)
	}
	params := map[string]string{}
	for k, v := range r.Form {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(v[0]))
		params[k] = b.String()
	}
	for _, c := range candidates {
		data, err := fs.ReadFile(d.files, c)
		if err != nil {
			continue
		}
		tmpl, err := template.New(c).Option("missingkey=zero").Parse(string(data))
		if err != nil {
			d.log.Error("demo: bad template", "file", c, "error", err)
			http.Error(w, "bad demo document", http.StatusInternalServerError)
			return
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, params); err != nil {
			d.log.Error("demo: template", "file", c, "error", err)
			http.Error(w, "bad demo document", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(out.Bytes())
		return
	}
	http.NotFound(w, r)
}
