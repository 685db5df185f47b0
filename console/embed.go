package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// dist is the built front end (make console-ui rebuilds it from console/ui).
//
//go:embed dist
var dist embed.FS

// assetsHandler serves the bundle's files under /console/assets/. Their
// names carry a content hash, so they are cached for good.
func assetsHandler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist
	}
	files := http.StripPrefix("/console", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}

// serveIndex writes the app's index.html.
func serveIndex(w http.ResponseWriter, r *http.Request) {
	b, err := dist.ReadFile("dist/index.html")
	if err != nil {
		http.Error(w, "console bundle missing: run make console-ui", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}
