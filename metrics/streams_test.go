package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/mediastream"
)

func TestStreamMetrics(t *testing.T) {
	m := New(Options{})
	s := &mediastream.Stats{}
	m.RegisterStreams(s)
	// A stream to a closed port fails with 31902 and is counted.
	_, err := mediastream.Start(context.Background(), mediastream.Config{URL: "ws://127.0.0.1:1/x", Stats: s})
	if err == nil {
		t.Fatal("a stream to port 1 started")
	}
	s.FramesDropped.Add(3)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`voxgate_media_stream_failures_total{code="31902"} 1`,
		`voxgate_media_stream_frames_dropped_total 3`,
		`voxgate_media_streams_active 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
