package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConferenceBrowserParticipant: a WebRTC leg and a SIP leg in one
// conference. A SIP caller (1 kHz tone) waits in a room; the
// Participants API adds client:alice, the agent page in headless Chromium
// (web/e2e/agent_call.js) accepts, and each side hears the other through
// the mixer: the page's loudest frequency is the caller's 1 kHz, the
// caller hears the agent's speech and never its own tone.
func TestConferenceBrowserParticipant(t *testing.T) {
	if _, err := os.Stat("../web/e2e/node_modules/playwright-core/package.json"); err != nil {
		t.Fatal("playwright-core is not installed in web/e2e: run make deps-test")
	}
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
	a.twiml("/voice", `<Response><Dial action="/after"><Conference beep="false">web</Conference></Dial></Response>`)
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices + agentYAML})

	waitLine, stopPage := agentPage(t, g, mic)
	waitLine("READY")

	peer := newRTPPeer(t)
	peer.talk(t, 25*time.Second)
	done := g.waitingCaller(t, peer, "", 40*time.Second)
	confSID, _ := g.waitParticipants(t, "web", 1, 15*time.Second)
	var p struct{ Status string }
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+"/Participants.json",
		url.Values{"To": {"client:alice"}, "From": {"+15550001111"}, "Label": {"alice"}, "Beep": {"false"}}, &p); code != 201 {
		t.Fatalf("adding the browser agent: %d %+v", code, p)
	}
	waitLine("CONNECTED")
	connectedAt := len(peer.packets())
	resLine := waitLine("RESULT ")
	waitLine("ENDED")
	stopPage()
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+".json", url.Values{"Status": {"completed"}}, nil); code != 200 {
		t.Fatalf("ending: %d", code)
	}
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	var res struct{ PeakHz float64 }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(resLine, "RESULT ")), &res); err != nil {
		t.Fatalf("RESULT: %v", err)
	}
	if math.Abs(res.PeakHz-1000) > 30 {
		t.Errorf("the page's loudest frequency is %.0f Hz, want the SIP caller's 1 kHz through the conference", res.PeakHz)
	}
	heard := decode(peer.packets()[connectedAt:], 0)
	ec, _ := xcorrPeak(envelope(heard), envelope(ref))
	own := 0.0
	for i := 0; i+4000 <= len(heard); i += 2000 {
		if w := heard[i : i+4000]; rms(w) > 0.005 { // windows with sound
			own = math.Max(own, goertzelFraction(w, 1000))
		}
	}
	t.Logf("the SIP caller heard %.1f s; envelope correlation with the agent's speech %.2f; own tone share up to %.3f", float64(len(heard))/8000, ec, own)
	if ec < 0.6 {
		t.Errorf("what the SIP caller heard does not follow the agent's speech (envelope correlation %.2f, want >= 0.6)", ec)
	}
	if own > 0.05 {
		t.Errorf("the SIP caller heard its own tone (share %.3f)", own)
	}
}

// agentPage runs web/e2e/agent_call.js (alice's agent page in headless
// Chromium, mic playing the WAV mic) and returns a function that waits
// for the line starting with prefix and one that waits for the script.
func agentPage(t *testing.T, g *gateway, mic string) (waitLine func(prefix string) string, wait func()) {
	t.Helper()
	return pageScript(t, "agent_call.js", "AGENT_URL="+g.httpURL+"/agent", "AGENT_ID=alice", "AGENT_SECRET=alice-secret-1",
		"MIC_WAV="+mic, "LISTEN_MS=9000")
}

// pageScript runs a web/e2e script (node, headless Chromium) with env
// added, for at most 90 s, and returns a function that waits (45 s at
// most) for its next line starting with prefix and one that waits for
// the script to end.
func pageScript(t *testing.T, script string, env ...string) (waitLine func(prefix string) string, wait func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = "../web/e2e"
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr syncBuilder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine = func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("%s ended before %q\n%s", script, prefix, stderr.String())
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-time.After(45 * time.Second):
				t.Fatalf("no %q from %s\n%s", prefix, script, stderr.String())
			}
		}
	}
	return waitLine, func() { _ = cmd.Wait() }
}
