package webhook

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestObserve checks Options.Observe hears every Fetch and Notify once,
// with its duration, HTTP status and Twilio error code.
func TestObserve(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			time.Sleep(30 * time.Millisecond)
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte("<Response/>"))
		case "/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow":
			sleepy(r, 2*time.Second)
		case "/gif":
			w.Header().Set("Content-Type", "image/gif")
		}
	}))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		path   string
		notify bool
		method string
		want   Outcome // Duration is checked against minDuration
		minDur time.Duration
	}{
		{"fetch ok", context.Background(), "/ok", false, "", Outcome{Method: "POST", StatusCode: 200}, 30 * time.Millisecond},
		{"fetch GET 500", context.Background(), "/broken", false, "get", Outcome{Method: "GET", StatusCode: 500, Code: CodeRetrievalFailure}, 0},
		{"fetch bad content type", context.Background(), "/gif", false, "POST", Outcome{Method: "POST", StatusCode: 200, Code: CodeInvalidContentType}, 0},
		{"notify ok", context.Background(), "/ok", true, "POST", Outcome{Notify: true, Method: "POST", StatusCode: 200}, 30 * time.Millisecond},
		{"notify 500", context.Background(), "/broken", true, "POST", Outcome{Notify: true, Method: "POST", StatusCode: 500, Code: CodeRetrievalFailure}, 0},
		{"fetch timeout", context.Background(), "/slow#tt=100", false, "POST", Outcome{Method: "POST", Code: CodeTotalTimeout}, 100 * time.Millisecond},
		{"fetch canceled by the caller", canceled, "/ok", false, "POST", Outcome{Method: "POST", Code: CodeRetrievalFailure, Canceled: true}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []Outcome
			c := newClient(Options{Observe: func(o Outcome) { mu.Lock(); got = append(got, o); mu.Unlock() }})
			req := Request{URL: srv.URL + tc.path, Method: tc.method}
			if tc.notify {
				_ = c.Notify(tc.ctx, req)
			} else {
				_, _ = c.Fetch(tc.ctx, req)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("Observe called %d times, want 1: %+v", len(got), got)
			}
			o := got[0]
			if o.Duration < tc.minDur || o.Duration > 5*time.Second {
				t.Errorf("Duration = %v, want at least %v", o.Duration, tc.minDur)
			}
			o.Duration = 0
			if o != tc.want {
				t.Errorf("Outcome = %+v, want %+v", o, tc.want)
			}
		})
	}
}
