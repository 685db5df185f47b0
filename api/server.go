// Package api is Voxgate's HTTP surface: health checks, the demo
// application the gateway serves itself and (later) the Twilio-compatible
// REST API.
package api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"text/template"
	"time"
)

// Options configures the HTTP handler.
type Options struct {
	// Demo holds the demo TwiML documents (configs.Demo), served under /demo/.
	Demo fs.FS
	// ActiveCalls reports the number of calls in progress, for /healthz.
	ActiveCalls func() int
	Version     string
	Logger      *slog.Logger
	// AccountSID is the account whose resources are served.
	AccountSID string
	// RecordingsDir holds recording WAV files, served as recording media.
	RecordingsDir string
}

type handler struct {
	opts Options
}

// NewHandler returns the gateway's HTTP handler.
func NewHandler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	started := time.Now()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		active := 0
		if opts.ActiveCalls != nil {
			active = opts.ActiveCalls()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status":       "ok",
			"version":      opts.Version,
			"active_calls": active,
			"uptime_s":     int(time.Since(started).Seconds()),
		})
	})
	if opts.Demo != nil {
		mux.Handle("/demo/", &demoApp{files: opts.Demo, log: opts.Logger})
	}
	h := &handler{opts: opts}
	if opts.RecordingsDir != "" {
		mux.HandleFunc("GET /2010-04-01/Accounts/{account}/Recordings/{file}", h.recordingMedia)
	}
	return mux
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
