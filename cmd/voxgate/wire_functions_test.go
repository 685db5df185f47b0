package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/config"
)

// TestFunctionsDisabledWithoutRuntime: with no runtime installed the
// gateway still starts; /fn/ and /v1/Services say why they are off.
func TestFunctionsDisabledWithoutRuntime(t *testing.T) {
	cfg := config.Default()
	cfg.Functions.RuntimeDir = t.TempDir() // no node_modules
	cfg.Storage.Dir = t.TempDir()
	mux := http.NewServeMux()
	var logs strings.Builder
	m, err := startFunctions(context.Background(), cfg, nil, mux, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || m != nil {
		t.Fatalf("startFunctions: %v, %v", m, err)
	}
	for _, p := range []string{"/fn/x/y", "/v1/Services"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(string(body), "make deps") {
			t.Errorf("%s: %d %s", p, w.Code, body)
		}
	}
	if !strings.Contains(logs.String(), "functions: disabled") {
		t.Errorf("log: %s", logs.String())
	}
}
