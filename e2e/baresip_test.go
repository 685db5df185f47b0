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

// TestBaresipCallsDemo: a real softphone calls the demo IVR the gateway
// serves itself, and what it hears is the greeting as espeak-ng renders it.
func TestBaresipCallsDemo(t *testing.T) {
	welcome, err := os.ReadFile("../configs/demo/welcome.xml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<Say[^>]*>([^<]+)</Say>`).FindSubmatch(welcome)
	if m == nil {
		t.Fatal("no <Say> in configs/demo/welcome.xml")
	}
	greetingText := string(m[1])

	g := startGateway(t, gatewayOpts{voiceURL: "/demo/welcome.xml", voiceMethod: "POST", extraYAML: ttsVoices})

	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", silence, "trim", "0", "40").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rec := filepath.Join(dir, "rec")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	rtpLo := 41000
	config := baresipConfig(sipPort, silence, rtpLo, rtpLo+100, rec, "call_local_timeout 120\n")
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(fmt.Sprintf("<sip:judge@127.0.0.1:%d>;regint=0;audio_codecs=PCMU\n", sipPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-e", fmt.Sprintf("/dial sip:+15550001000@127.0.0.1:%d", g.sipPort), "-t", "35")
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("baresip did not finish: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Call established") && !strings.Contains(string(out), "established") {
		t.Fatalf("baresip's call was not established\n%s", out)
	}
	dumps, _ := filepath.Glob(filepath.Join(rec, "*-dec.wav"))
	if len(dumps) == 0 {
		t.Fatalf("baresip wrote no decoded-audio dump\n%s", out)
	}
	rx := loadWAV(t, dumps[0])
	ref := reference(t, "en-us", greetingText)
	corr, lag := xcorrPeak(rx, ref)
	t.Logf("baresip heard %.1f s; greeting correlation %.3f at %.2f s", float64(len(rx))/8000, corr, float64(lag)/8000)
	if corr < 0.9 {
		t.Errorf("the audio baresip received correlates %.3f with the greeting rendered by espeak-ng, want >= 0.9", corr)
	}
	if !strings.Contains(string(out), "closed") && !strings.Contains(strings.ToLower(string(out)), "terminated") {
		t.Logf("baresip output:\n%s", out)
	}
}

// baresipConfig is a baresip config for tests: SIP on 127.0.0.1:sipPort,
// PCMU at 8 kHz mono, the audio it sends read from the WAV file source,
// what it hears recorded (sndfile) under recDir, RTP on rtpLo-rtpHi; extra
// lines are added as they are.
func baresipConfig(sipPort int, source string, rtpLo, rtpHi int, recDir, extra string) string {
	return fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
%saudio_source aufile,%s
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
snd_path %s
`, sipPort, extra, source, rtpLo, rtpHi, recDir)
}
