package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// baresipG722 runs baresip with only its g722 module (the account offers
// G722 alone), sending source (a WAV file) and dialling target; it
// returns what baresip decoded and its output.
func baresipG722(t *testing.T, source, target string, rtpLo int, seconds int) ([]float64, string) {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	config := baresipConfig(sipPort, source, rtpLo, rtpLo+100, rec, "call_local_timeout 120\n")
	// G.722 instead of G.711; the audio device side stays 8 kHz, so
	// baresip resamples to and from the codec's 16 kHz itself.
	config = strings.Replace(config, "module g711.so\n", "module g722.so\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("<sip:judge@127.0.0.1:%d>;regint=0;audio_codecs=G722\n", sipPort)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-e", "/dial "+target, "-t", fmt.Sprint(seconds))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("baresip did not finish: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "established") {
		t.Fatalf("baresip's call was not established\n%s", out)
	}
	if !strings.Contains(string(out), "G722") {
		t.Errorf("baresip's output does not name G722 as the call's codec\n%s", out)
	}
	dumps, _ := filepath.Glob(filepath.Join(rec, "*-dec.wav"))
	if len(dumps) == 0 {
		t.Fatalf("baresip wrote no decoded-audio dump\n%s", out)
	}
	return loadWAV(t, dumps[0]), string(out)
}

// TestBaresipG722CallsDemo: baresip with G.722 only calls the demo IVR;
// the gateway answers G.722 (payload type 9) and what baresip hears is
// the greeting as espeak-ng renders it.
func TestBaresipG722CallsDemo(t *testing.T) {
	welcome, err := os.ReadFile("../configs/demo/welcome.xml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<Say[^>]*>([^<]+)</Say>`).FindSubmatch(welcome)
	if m == nil {
		t.Fatal("no <Say> in configs/demo/welcome.xml")
	}
	g := startGateway(t, gatewayOpts{voiceURL: "/demo/welcome.xml", voiceMethod: "POST", extraYAML: ttsVoices})
	silence := filepath.Join(t.TempDir(), "silence.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", silence, "trim", "0", "40").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rx, out := baresipG722(t, silence, fmt.Sprintf("sip:+15550001000@127.0.0.1:%d", g.sipPort), 41400, 35)
	if !strings.Contains(g.Logs(), "codec=G722") {
		t.Errorf("the gateway did not log the call's codec as G722\n%s", g.Logs())
	}
	ref := reference(t, "en-us", string(m[1]))
	corr, lag := xcorrPeak(rx, ref)
	t.Logf("baresip (G.722) heard %.1f s; greeting correlation %.3f at %.2f s", float64(len(rx))/8000, corr, float64(lag)/8000)
	if corr < 0.9 {
		t.Errorf("the audio baresip received over G.722 correlates %.3f with the greeting, want >= 0.9\n%s", corr, out)
	}
}

// TestBaresipG722BridgedToPCMU: baresip with G.722 only calls an app
// that dials a SIPp UAS speaking PCMU, which echoes the RTP it gets.
// baresip speaks a phrase; it comes back to it through the gateway's
// G.722 decoder, the 8 kHz bridge, PCMU to SIPp and back, and the G.722
// encoder: the gateway hears baresip, the PCMU party hears the G.722
// caller and baresip hears the PCMU party.
func TestBaresipG722BridgedToPCMU(t *testing.T) {
	uas := calledParty(t, "uas_echo.xml", "-rtp_echo", "-mp", fmt.Sprint(freePort(t)))
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial timeLimit="14"><Sip>sip:echo@127.0.0.1:%d</Sip></Dial></Response>`, uas))
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})

	dir := t.TempDir()
	const phrase = "The quick brown fox jumps over the lazy dog, twice."
	speech := filepath.Join(dir, "speech.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "150", "-w", speech, phrase).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	// 2 s of silence, the phrase, then silence: the call is up and the
	// bridge made before the phrase starts.
	source := filepath.Join(dir, "source.wav")
	if out, err := exec.Command("sox", speech, "-r", "8000", "-c", "1", "-b", "16", source, "pad", "3", "6").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rx, out := baresipG722(t, source, fmt.Sprintf("sip:+15550001000@127.0.0.1:%d", g.sipPort), 41600, 12)
	ref := reference(t, "en-us", phrase)
	corr, lag := xcorrPeak(rx, ref)
	t.Logf("baresip (G.722) heard %.1f s; its own phrase, echoed by the PCMU party, correlates %.3f at %.2f s", float64(len(rx))/8000, corr, float64(lag)/8000)
	if corr < 0.8 {
		t.Errorf("the echo baresip heard correlates %.3f with the phrase it spoke, want >= 0.8\n%s\ngateway log:\n%s", corr, out, g.Logs())
	}
	if !strings.Contains(g.Logs(), "codec=G722") || !strings.Contains(g.Logs(), "codec=PCMU") {
		t.Errorf("the gateway's log does not show a G722 caller and a PCMU called party\n%s", g.Logs())
	}
}
