// Package e2e drives the agent softphone page in Debian's headless
// Chromium (playwright-core, installed by `make deps-test` into
// web/e2e/node_modules) against the real web handler and queue Manager.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/mediatest"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/web"
)

const (
	chromiumPath = "/usr/bin/chromium"
	callerHz     = 1000 // what the caller "says": played into the agent's leg
	agentHz      = 600  // the agent's fake microphone
)

// result is what agent_call.js measured in the page.
type result struct {
	Offer struct {
		From, Queue, Attributes string
	}
	Queues []string
	Stats  struct {
		Inbound struct {
			PacketsReceived  int
			PacketsLost      int
			TotalAudioEnergy float64
			AudioLevel       float64
		}
		Outbound struct {
			PacketsSent int
			BytesSent   int
		}
		MicLevel      float64
		InboundCodec  string
		OutboundCodec string
	}
	PeakHz float64
	PeakDb float64
}

// TestChromiumAgentTakesCall signs an agent in on the real page in
// headless Chromium, enqueues a caller, lets the page accept it, and
// checks audio both ways: the page's getStats and the loudest frequency
// it plays out (the caller's 1 kHz tone), and the 600 Hz tone of its fake
// microphone arriving on the caller's side of the bridge.
func TestChromiumAgentTakesCall(t *testing.T) {
	requireTools(t)
	mic := makeMicWAV(t)

	mgr := queue.NewManager(queue.Config{WrapUp: -1})
	defer mgr.Close()
	srv := httptest.NewServer(web.NewHandler(web.Options{
		Manager: mgr,
		Agents:  []web.AgentAccount{{ID: "alice", Name: "Alice", Secret: "pw-alice", Queues: []string{"support"}}},
		Logger:  testLogger(),
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script := startScript(t, ctx, map[string]string{
		"AGENT_URL":    srv.URL + "/agent",
		"AGENT_ID":     "alice",
		"AGENT_SECRET": "pw-alice",
		"MIC_WAV":      mic,
		"LISTEN_MS":    "3000",
		"CHROMIUM":     chromiumPath,
	})

	script.expect(t, "READY")
	entry, err := mgr.Enqueue("support", queue.Caller{
		CallSID: "CAe2e0001", From: "+15551230000", To: "+15559870000",
		Attributes: map[string]any{"topic": "billing"},
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out queue.Outcome
	select {
	case out = <-entry.Outcome():
	case <-time.After(30 * time.Second):
		t.Fatalf("the page did not take the call\n%s", script.stderr())
	}
	if out.Kind != queue.Bridged || out.AgentID != "alice" || out.Leg == nil {
		t.Fatalf("outcome %+v", out)
	}
	leg := out.Leg

	// The caller's side of the bridge: talk (1 kHz) and listen.
	callCtx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	heard := &mediatest.CollectSink{}
	var wg sync.WaitGroup
	wg.Go(func() { leg.Play(callCtx, &toneSource{freq: callerHz, amplitude: 8000}) })
	wg.Go(func() { leg.Record(callCtx, heard) })

	script.expect(t, "CONNECTED")
	var res result
	if err := json.Unmarshal([]byte(script.expect(t, "RESULT ")), &res); err != nil {
		t.Fatalf("result: %v", err)
	}
	script.expect(t, "ENDED")
	select {
	case <-leg.Done():
	case <-time.After(10 * time.Second):
		t.Error("the agent's leg is still up after the page hung up")
	}
	hangUp()
	wg.Wait()
	entry.Finished()
	if err := script.wait(); err != nil {
		t.Errorf("agent_call.js: %v\n%s", err, script.stderr())
	}
	t.Logf("page: %+v", res)

	// What the page showed.
	if res.Offer.From != "+15551230000" || res.Offer.Queue != "support" || !strings.Contains(res.Offer.Attributes, "billing") {
		t.Errorf("offer card %+v", res.Offer)
	}
	if len(res.Queues) != 1 || !strings.HasPrefix(res.Queues[0], "support") {
		t.Errorf("queue table %q", res.Queues)
	}
	// WebRTC as the page saw it: PCMU both ways, audio flowing.
	st := res.Stats
	if st.InboundCodec != "audio/PCMU" || st.OutboundCodec != "audio/PCMU" {
		t.Errorf("codecs in %q, out %q; want audio/PCMU", st.InboundCodec, st.OutboundCodec)
	}
	if st.Inbound.PacketsReceived < 100 || st.Outbound.PacketsSent < 100 {
		t.Errorf("packets received %d, sent %d; want 100+ each after 3 s", st.Inbound.PacketsReceived, st.Outbound.PacketsSent)
	}
	if st.Inbound.TotalAudioEnergy <= 0 || st.MicLevel <= 0 {
		t.Errorf("inbound audio energy %v, mic level %v; want > 0", st.Inbound.TotalAudioEnergy, st.MicLevel)
	}
	// Content, caller to agent: the page plays out the caller's tone.
	if math.Abs(res.PeakHz-callerHz) > 25 || res.PeakDb < -60 {
		t.Errorf("page played out a peak at %.0f Hz (%.0f dB), want %d Hz", res.PeakHz, res.PeakDb, callerHz)
	}
	// Content, agent to caller: the microphone's tone reached the leg.
	rec := heard.Samples()
	windows, toned := toneWindows(rec, agentHz)
	t.Logf("caller side: %d samples, %d of %d windows carry %d Hz", len(rec), toned, windows, agentHz)
	if windows < 20 || toned*2 < windows {
		t.Errorf("only %d of %d 100 ms windows on the caller's side carry the agent's %d Hz tone", toned, windows, agentHz)
	}
}

// requireTools fails (not skips) when a tool the test needs is missing.
func requireTools(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run make deps-test (Debian package chromium)", chromiumPath)
	}
	for _, tool := range []string{"node", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run make deps-test", tool)
		}
	}
}

// makeMicWAV writes the fake microphone: 48 kHz mono 16-bit, a 600 Hz
// tone (Chromium loops the file).
func makeMicWAV(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent48k.wav")
	cmd := exec.Command("sox", "-n", "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", path,
		"synth", "10", "sine", "600", "vol", "0.5")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return path
}

// script is agent_call.js running under node.
type script struct {
	cmd    *exec.Cmd
	lines  chan string
	errBuf *lockedBuffer
}

// startScript runs agent_call.js with env added to the environment.
func startScript(t *testing.T, ctx context.Context, env map[string]string) *script {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", "agent_call.js")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &script{cmd: cmd, lines: make(chan string, 16), errBuf: &lockedBuffer{}}
	cmd.Stderr = s.errBuf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return s
}

// expect waits for the next line starting with prefix and returns the
// rest of it. Other lines are logged.
func (s *script) expect(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(45 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("agent_call.js ended before %q\n%s", prefix, s.stderr())
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
			t.Logf("agent_call.js: %s", line)
		case <-timeout:
			t.Fatalf("no %q from agent_call.js within 45 s\n%s", prefix, s.stderr())
		}
	}
}

// wait waits for the script to exit.
func (s *script) wait() error {
	for range s.lines {
	}
	return s.cmd.Wait()
}

func (s *script) stderr() string { return s.errBuf.String() }

// lockedBuffer is a bytes.Buffer safe for the exec copier and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// toneSource is an endless sine.
type toneSource struct {
	freq, amplitude float64
	n               int
}

func (s *toneSource) ReadFrame(p []int16) (int, error) {
	for i := range p {
		p[i] = int16(s.amplitude * math.Sin(2*math.Pi*s.freq*float64(s.n)/media.SampleRate))
		s.n++
	}
	return len(p), nil
}

// toneWindows cuts pcm into 100 ms windows and counts those that are not
// quiet (RMS above 100) and carry most of their energy at freq.
func toneWindows(pcm []int16, freq float64) (windows, toned int) {
	const w = media.SampleRate / 10
	for i := 0; i+w <= len(pcm); i += w {
		windows++
		win := pcm[i : i+w]
		var energy float64
		for _, v := range win {
			energy += float64(v) * float64(v)
		}
		if math.Sqrt(energy/w) > 100 && goertzelShare(win, freq, energy) > 0.7 {
			toned++
		}
	}
	return windows, toned
}

// goertzelShare is the fraction of energy (the window's total) found at
// freq.
func goertzelShare(pcm []int16, freq, energy float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/media.SampleRate)
	var s1, s2 float64
	for _, v := range pcm {
		s1, s2 = float64(v)+coeff*s1-s2, s1
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(pcm)) * energy)
}

// testLogger discards logs unless VOXGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("VOXGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
