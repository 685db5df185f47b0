package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// baresipCallee runs baresip auto-answering on a free port, sending a
// toneHz tone and dumping what it hears. It returns its SIP port and the
// dump directory.
func baresipCallee(t *testing.T, toneHz int) (int, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", src, "synth", "60", "sine", fmt.Sprint(toneHz), "vol", "0.4").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	rec := filepath.Join(dir, "rec")
	os.MkdirAll(rec, 0o755)
	port := freePort(t)
	rtpLo := 42000 + (port % 50 * 20)
	cfg := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
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
`, port, src, rtpLo, rtpLo+19, rec)
	os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "accounts"), []byte(fmt.Sprintf("<sip:judge@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=PCMU\n", port)), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "baresip", "-f", dir, "-t", "60")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(700 * time.Millisecond)
	return port, rec
}

// dominantFraction is the best 1-second share of energy at hz in x.
func dominantFraction(x []float64, hz float64) float64 {
	best := 0.0
	for i := 0; i+8000 <= len(x); i += 4000 {
		best = math.Max(best, goertzelFraction(x[i:i+8000], hz))
	}
	return best
}

// TestDialBaresip: <Dial><Sip> to a real softphone that auto-answers; audio
// flows both ways through the bridge.
func TestDialBaresip(t *testing.T) {
	port, rec := baresipCallee(t, 600)
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial action="/after" timeLimit="5"><Sip>sip:judge@127.0.0.1:%d</Sip></Dial></Response>`, port))
	a.twiml("/after", `<Response><Hangup/></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	peer := newRTPPeer(t)
	peer.talk(t, 12*time.Second) // 1 kHz from the caller
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("DialCallStatus") != "completed" || f.Get("DialBridged") != "true" {
		t.Errorf("Dial action %v", f)
	}
	if got := dominantFraction(decode(peer.packets(), 0), 600); got < 0.8 {
		t.Errorf("the caller did not hear baresip's 600 Hz tone (best fraction %.2f)", got)
	}
	time.Sleep(500 * time.Millisecond)
	dumps, _ := filepath.Glob(filepath.Join(rec, "*-dec.wav"))
	if len(dumps) == 0 {
		t.Fatal("baresip wrote no dump of what it heard")
	}
	if got := dominantFraction(loadWAV(t, dumps[0]), 1000); got < 0.8 {
		t.Errorf("baresip did not hear the caller's 1 kHz tone (best fraction %.2f)", got)
	}
}

// TestDialCallerHangsUpWhileRinging: the Dial is canceled (the called party
// gets CANCEL) and the action still learns the outcome.
func TestDialCallerHangsUpWhileRinging(t *testing.T) {
	uas := calledParty(t, "uas_noanswer.xml")
	a := newApp(t)
	a.twiml("/voice", fmt.Sprintf(`<Response><Dial action="/after" timeout="20">sip:bob@127.0.0.1:%d</Dial></Response>`, uas))
	a.twiml("/after", `<Response><Say>never heard</Say></Response>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
	peer := newRTPPeer(t)
	code, out := g.sipp(t, "udp", "uac_hangup.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pause_ms": "2000"}, 20*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
	if f.Get("DialCallStatus") != "canceled" || f.Get("CallStatus") != "completed" {
		t.Errorf("Dial action after the caller hung up: DialCallStatus=%q CallStatus=%q, want canceled completed", f.Get("DialCallStatus"), f.Get("CallStatus"))
	}
	if !strings.Contains(g.Logs(), "canceled") {
		t.Errorf("gateway log does not mention the canceled dial")
	}
}
