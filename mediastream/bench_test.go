package mediastream

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/voxgate/voxgate/media"
)

// sinkServer accepts streams and reads (and discards) every message,
// counting media frames.
func sinkServer(b *testing.B, frames *atomic.Int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		buf := make([]byte, 1<<16)
		ctx := context.Background()
		for {
			_, r, err := c.Reader(ctx)
			if err != nil {
				return
			}
			n, _ := io.ReadFull(r, buf)
			if bytes.Contains(buf[:min(n, 20)], []byte(`"media"`)) {
				frames.Add(1)
			}
		}
	}))
	b.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// BenchmarkWriteInbound is the tap on the call's media path: encode one
// 20 ms frame to μ-law and queue it for the writer.
func BenchmarkWriteInbound(b *testing.B) {
	var frames atomic.Int64
	s, err := Start(context.Background(), Config{URL: sinkServer(b, &frames), CallSID: testCall, QueueFrames: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	pcm := tone(1)[0]
	b.ReportAllocs()
	for b.Loop() {
		s.WriteInbound(pcm)
	}
}

// BenchmarkFrameToServer is one frame's whole way: the tap, the writer's
// JSON and base64, and the WebSocket write to a real server on loopback.
// allocs/op counts everything the gateway allocates per frame.
func BenchmarkFrameToServer(b *testing.B) {
	var frames atomic.Int64
	stats := &Stats{}
	s, err := Start(context.Background(), Config{URL: sinkServer(b, &frames), CallSID: testCall, QueueFrames: 64, Stats: stats})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	pcm := tone(1)[0]
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		s.WriteInbound(pcm)
		for stats.FramesSent.Load()+stats.FramesDropped.Load() < uint64(n) {
			// wait for the writer: one frame in flight at a time
		}
	}
	b.ReportMetric(float64(stats.FramesDropped.Load()), "dropped")
}

// BenchmarkAppendMedia is the writer's encoding of one media message.
func BenchmarkAppendMedia(b *testing.B) {
	buf := make([]byte, 0, 512)
	audio := make([]byte, frameBytes)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendMedia(buf[:0], 12345, "MZ0123456789abcdef0123456789abcdef", trackInbound, 999, 19980, audio)
	}
}

// BenchmarkReadFrame is the playout of a bidirectional stream: one frame
// of the server's audio decoded for the pacer.
func BenchmarkReadFrame(b *testing.B) {
	var frames atomic.Int64
	s, err := Start(context.Background(), Config{URL: sinkServer(b, &frames), CallSID: testCall, Bidirectional: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	chunk := make([]byte, 8000)
	pcm := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		if s.play.queued() < frameBytes {
			b.StopTimer()
			s.play.push(chunk)
			b.StartTimer()
		}
		if _, err := s.ReadFrame(pcm); err != nil {
			b.Fatal(err)
		}
	}
}
