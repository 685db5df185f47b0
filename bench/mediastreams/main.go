// Command mediastreams holds many concurrent bidirectional media streams
// against a local WebSocket server and prints loss and latency figures.
//
// By default (-rtp) every stream is a <Connect><Stream> on a real RTP leg
// (media.RTPLeg on its own loopback UDP socket, paced by a shared
// media.Scheduler as in the gateway): a peer socket sends each leg one
// PCMU packet every 20 ms and receives what the legs send back. The
// server (in this process, on loopback) checks that every stream's chunks
// arrive complete and in order, measures the time from the RTP packet
// being sent to its media frame arriving, sends each stream a second of
// audio and a mark every second, and counts the mark echoes; the peer
// counts the packets carrying that audio.
//
// With -rtp=false one driver goroutine feeds the streams directly
// (WriteInbound, ReadFrame), measuring the streams alone.
//
//	go run ./bench/mediastreams -streams 1000 -duration 30s
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/mediastream"
	"github.com/voxgate/voxgate/twiml"
)

// ring is how many frames of send times are kept per stream.
const ring = 512

type bench struct {
	sentAt    [][ring]atomic.Int64 // unix ns of WriteInbound, by stream and chunk
	lat       latencies
	lost      atomic.Int64 // chunks missing or out of order at the server
	got       atomic.Int64 // media frames received
	marks     atomic.Int64 // mark echoes received
	played    atomic.Int64 // frames of server audio the driver took
	audio     atomic.Int64 // frames of server audio sent
	connected atomic.Int64 // streams whose start arrived
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func main() {
	streams := flag.Int("streams", 1000, "concurrent bidirectional streams")
	duration := flag.Duration("duration", 30*time.Second, "how long to hold them")
	useRTP := flag.Bool("rtp", true, "run each stream as a <Connect> on a real RTP leg fed over loopback UDP")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the held period to this file")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	b := &bench{sentAt: make([][ring]atomic.Int64, *streams)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(b.serve)}
	go srv.Serve(ln)
	defer srv.Close()

	stats := &mediastream.Stats{}
	ctx, hangUp := context.WithCancel(context.Background())
	cfgs := make([]mediastream.Config, *streams)
	for i := range cfgs {
		cfgs[i] = mediastream.Config{
			URL: "ws://" + ln.Addr().String() + "/", Bidirectional: true, Stats: stats,
			CallSID: fmt.Sprintf("CA%032x", i), AccountSID: "AC00000000000000000000000000000001",
			Parameters: []twiml.Parameter{{Name: "i", Value: strconv.Itoa(i)}},
		}
	}
	began := time.Now()
	var (
		all   []*mediastream.Stream
		calls *rtpCalls
		wg    *sync.WaitGroup
	)
	if *useRTP {
		calls = newRTPCalls(*streams)
		var started []chan *mediastream.Stream
		wg, started = calls.connect(ctx, cfgs)
		waitConnected(&b.connected, *streams)
		_ = started
	} else {
		for i := range cfgs {
			s, err := mediastream.Start(ctx, cfgs[i])
			if err != nil {
				log.Fatalf("stream %d: %v", i, err)
			}
			all = append(all, s)
		}
	}
	fmt.Printf("%d streams connected in %v (rtp legs: %v)\n", *streams, time.Since(began).Round(time.Millisecond), *useRTP)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var frames int
	if *useRTP {
		frames = calls.drive(b, *duration)
	} else {
		frames = b.drive(all, *duration)
	}
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	pprof.StopCPUProfile()
	goroutines := runtime.NumGoroutine()
	time.Sleep(500 * time.Millisecond) // the last frames in flight
	hangUp()
	for _, s := range all {
		<-s.Done()
	}
	if *useRTP {
		wg.Wait()
		fmt.Printf("RTP legs sent the peer %d packets, %d of them carrying the server's audio\n", calls.packets.Load(), calls.heard.Load())
		calls.close()
	}
	b.report(*streams, frames, stats, cpu(ru1)-cpu(ru0), *duration, goroutines)
}

// waitConnected waits until n streams have sent start.
func waitConnected(c *atomic.Int64, n int) {
	for c.Load() < int64(n) {
		time.Sleep(10 * time.Millisecond)
	}
}

func cpu(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drive is the calls' media: one tick per 20 ms for every stream.
func (b *bench) drive(all []*mediastream.Stream, d time.Duration) int {
	caller := make([]int16, media.FrameSamples)
	for i := range caller {
		caller[i] = int16(i * 50)
	}
	out := make([]int16, media.FrameSamples)
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	end := time.After(d)
	chunk := 0
	for {
		select {
		case <-end:
			return chunk
		case <-tick.C:
		}
		chunk++
		for i, s := range all {
			b.sentAt[i][chunk%ring].Store(time.Now().UnixNano())
			s.WriteInbound(caller)
			if _, err := s.ReadFrame(out); err == nil && out[0] != out[1] {
				b.played.Add(1) // the server's audio (a ramp), not silence
			}
		}
	}
}

type startMsg struct {
	StreamSid string `json:"streamSid"`
	Start     struct {
		CustomParameters map[string]string `json:"customParameters"`
	} `json:"start"`
}

// serve is the app's WebSocket server for one stream.
func (b *bench) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ctx := r.Context()
	var idx int
	var sid string
	next := uint64(1)
	buf := make([]byte, 1<<16)
	lastSend := time.Time{}
	second := serverAudio()
	for {
		_, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		n, _ := rd.Read(buf)
		for n < len(buf) {
			k, err := rd.Read(buf[n:])
			n += k
			if err != nil {
				break
			}
		}
		now := time.Now()
		msg := buf[:n]
		switch {
		case bytes.HasPrefix(msg, []byte(`{"event":"media"`)):
			b.got.Add(1)
			chunk := field(msg, `"chunk":"`)
			if chunk != next {
				b.lost.Add(int64(chunk) - int64(next))
			}
			next = chunk + 1
			if at := b.sentAt[idx][chunk%ring].Load(); at != 0 {
				b.lat.add(now.Sub(time.Unix(0, at)))
			}
			if now.Sub(lastSend) >= time.Second {
				lastSend = now
				b.audio.Add(50)
				c.Write(ctx, websocket.MessageText, []byte(`{"event":"media","streamSid":"`+sid+`","media":{"payload":"`+second+`"}}`))
				c.Write(ctx, websocket.MessageText, []byte(`{"event":"mark","streamSid":"`+sid+`","mark":{"name":"s"}}`))
			}
		case bytes.HasPrefix(msg, []byte(`{"event":"mark"`)):
			b.marks.Add(1)
		case bytes.HasPrefix(msg, []byte(`{"event":"start"`)):
			var m startMsg
			if err := json.Unmarshal(msg, &m); err != nil {
				log.Fatalf("start: %v", err)
			}
			sid = m.StreamSid
			idx, _ = strconv.Atoi(m.Start.CustomParameters["i"])
			b.connected.Add(1)
		}
	}
}

// serverAudio is one second of a μ-law ramp, base64.
func serverAudio() string {
	pcm := make([]int16, media.SampleRate)
	for i := range pcm {
		pcm[i] = int16((i%160)*100 + 100)
	}
	return base64.StdEncoding.EncodeToString(media.PCMU.Encode(nil, pcm))
}

// field reads the number in the string value after key.
func field(msg []byte, key string) uint64 {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0
	}
	var v uint64
	for _, c := range msg[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
	}
	return v
}

func (b *bench) report(streams, ticks int, stats *mediastream.Stats, cpuUsed, d time.Duration, goroutines int) {
	b.lat.mu.Lock()
	lat := b.lat.d
	b.lat.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("streams %d, %v, %d ticks of 20 ms\n", streams, d, ticks)
	fmt.Printf("caller frames: sent %d, received %d, dropped by the gateway %d, missing at the server %d\n",
		streams*ticks, b.got.Load(), stats.FramesDropped.Load(), b.lost.Load())
	fmt.Printf("latency (RTP packet sent, or WriteInbound with -rtp=false) → media frame at the server: p50 %v  p99 %v  p99.9 %v  max %v (%d frames)\n",
		pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(0.999).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond), len(lat))
	fmt.Printf("server audio: %d frames sent, %d played by the driver (-rtp=false); marks echoed %d\n", b.audio.Load(), b.played.Load(), b.marks.Load())
	fmt.Printf("CPU %.0f%% of one core (gateway side and server side together); goroutines %d\n",
		100*cpuUsed.Seconds()/d.Seconds(), goroutines)
}
