package api

import (
	"net/http"
	"runtime"
	"testing"
)

// TestHealthzRuntime checks /healthz reports the goroutine count and the
// heap, and that both follow what the process does.
func TestHealthzRuntime(t *testing.T) {
	e := newEnv(t)
	read := func() (goroutines, heap float64) {
		t.Helper()
		var h map[string]any
		decode(t, e.request(http.MethodGet, "/healthz", nil, false), http.StatusOK, &h)
		g, ok1 := h["goroutines"].(float64)
		b, ok2 := h["heap_bytes"].(float64)
		if !ok1 || !ok2 || g < 1 || b <= 0 {
			t.Fatalf("healthz %v: want goroutines and heap_bytes", h)
		}
		return g, b
	}
	runtime.GC()
	g0, h0 := read()

	const extra = 50
	stop := make(chan struct{})
	for range extra {
		go func() { <-stop }()
	}
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = byte(i)
	}
	n0 := runtime.NumGoroutine()
	g1, h1 := read()
	n1 := runtime.NumGoroutine()
	var before map[string]any
	decode(t, e.request(http.MethodGet, "/healthz", nil, false), http.StatusOK, &before)
	runtime.GC()
	var h map[string]any
	decode(t, e.request(http.MethodGet, "/healthz", nil, false), http.StatusOK, &h)
	if live, _ := h["heap_live_bytes"].(float64); live < 64<<20 {
		t.Errorf("heap_live_bytes = %v after a collection with 64 MiB live", live)
	}
	if c0, c1 := before["gc_cycles"].(float64), h["gc_cycles"].(float64); c1 < c0+1 {
		t.Errorf("gc_cycles %v -> %v across runtime.GC()", c0, c1)
	}
	close(stop)
	runtime.KeepAlive(ballast)

	// Goroutines of earlier tests may end meanwhile: the report must match
	// the process's own count around it (and so include the extra ones).
	if lo, hi := float64(min(n0, n1)), float64(max(n0, n1)); g1 < lo-2 || g1 > hi+2 {
		t.Errorf("goroutines %v -> %v with %d more running (the runtime counted %d and %d)", g0, g1, extra, n0, n1)
	}
	if h1 < h0+60<<20 {
		t.Errorf("heap_bytes %v -> %v with 64 MiB more allocated", h0, h1)
	}
}
