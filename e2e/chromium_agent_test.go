package e2e

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envelope is the 20 ms RMS envelope of x, mean removed.
func envelope(x []float64) []float64 {
	var out []float64
	for i := 0; i+160 <= len(x); i += 160 {
		var e float64
		for _, v := range x[i : i+160] {
			e += v * v
		}
		out = append(out, math.Sqrt(e/160))
	}
	var mean float64
	for _, v := range out {
		mean += v
	}
	if len(out) > 0 {
		mean /= float64(len(out))
	}
	for i := range out {
		out[i] -= mean
	}
	return out
}

// TestChromiumAgentAnswersSIPCaller: the real /agent page in headless
// Chromium (fake microphone: a spoken sentence) signs in and accepts a SIPp
// caller's queued call on the real gateway; getStats shows audio both ways
// and what the SIP caller hears follows the agent's speech (envelope
// correlation), as judged in testing-with-real-peers.md §3.3 and §6.
func TestChromiumAgentAnswersSIPCaller(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium is not installed: run make deps-test")
	}
	// The agent's microphone: speech, 48 kHz (Chromium loops the file).
	dir := t.TempDir()
	speech22 := filepath.Join(dir, "agent.wav")
	const sentence = "Hello, this is Alice from support. How can I help you today? Let me look that up for you."
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "150", "-w", speech22, sentence).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	mic := filepath.Join(dir, "agent48k.wav")
	if out, err := exec.Command("sox", speech22, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", mic, "pad", "0", "2").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	ref := reference(t, "en-us", sentence)

	a := newApp(t)
	a.twiml("/voice", `<Response><Enqueue action="/after">support</Enqueue></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML})

	waitLine, wait := pageScript(t, "agent_call.js", "AGENT_URL="+g.httpURL+"/agent", "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1",
		"MIC_WAV="+mic, "LISTEN_MS=9000")
	waitLine("READY")

	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second)
	sippDone := g.waitingCaller(t, peer, "", 60*time.Second)
	waitLine("CONNECTED")
	connectedAt := len(peer.packets())
	resLine := waitLine("RESULT ")
	waitLine("ENDED")
	wait()
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	var res struct {
		Stats struct {
			Inbound struct {
				PacketsReceived  int
				TotalAudioEnergy float64
			}
			Outbound     struct{ PacketsSent int }
			InboundCodec string
		}
		PeakHz float64
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(resLine, "RESULT ")), &res); err != nil {
		t.Fatalf("RESULT: %v", err)
	}
	t.Logf("page: %+v", res)
	if res.Stats.Inbound.PacketsReceived < 100 || res.Stats.Outbound.PacketsSent < 100 || res.Stats.Inbound.TotalAudioEnergy <= 0 {
		t.Errorf("getStats does not show audio both ways: %+v", res.Stats)
	}
	if !strings.Contains(strings.ToLower(res.Stats.InboundCodec), "pcmu") {
		t.Errorf("inbound codec %q, want PCMU end to end", res.Stats.InboundCodec)
	}
	if math.Abs(res.PeakHz-1000) > 30 {
		t.Errorf("the page's loudest frequency is %.0f Hz, want the caller's 1 kHz", res.PeakHz)
	}
	heard := decode(peer.packets()[connectedAt:], 0)
	ec, _ := xcorrPeak(envelope(heard), envelope(ref))
	t.Logf("SIP caller heard %.1f s after the agent connected; envelope correlation with the agent's speech %.2f", float64(len(heard))/8000, ec)
	if ec < 0.6 {
		t.Errorf("what the SIP caller heard does not follow the agent's speech (envelope correlation %.2f, want >= 0.6)", ec)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("QueueResult") != "bridged" {
		t.Errorf("QueueResult %q, want bridged", f.Get("QueueResult"))
	}
}
