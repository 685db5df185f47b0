package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
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
	cfg := baresipConfig(port, src, rtpLo, rtpLo+19, rec, "")
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

// bestShare is the best share of hz in half-second windows of x that are
// not silent (0 when all are).
func bestShare(x []float64, hz float64) float64 {
	best := 0.0
	for i := 0; i+4000 <= len(x); i += 2000 {
		if w := x[i : i+4000]; rms(w) > 0.02 {
			best = math.Max(best, goertzelFraction(w, hz))
		}
	}
	return best
}

// TestDialRecord: <Dial record> to baresip (sending 600 Hz) while the
// caller sends 1 kHz. record-from-answer mixes both into one channel;
// record-from-answer-dual keeps the caller on channel 1 and the called
// party on channel 2, each without the other, and says so in the
// recording status callback and the stored recording.
func TestDialRecord(t *testing.T) {
	for _, tc := range []struct {
		record   string
		channels int
	}{
		{"record-from-answer", 1},
		{"record-from-answer-dual", 2},
	} {
		t.Run(tc.record, func(t *testing.T) {
			port, _ := baresipCallee(t, 600)
			a := newApp(t)
			a.twiml("/voice", fmt.Sprintf(`<Response><Dial action="/after" timeLimit="5" record="%s" recordingStatusCallback="/rs"><Sip>sip:judge@127.0.0.1:%d</Sip></Dial></Response>`, tc.record, port))
			a.twiml("/after", `<Response><Hangup/></Response>`)
			a.twiml("/rs", "")
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice")})
			peer := newRTPPeer(t)
			peer.talk(t, 12*time.Second) // 1 kHz from the caller
			code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d\n%s", code, out)
			}
			f := a.waitRequests(t, "/after", 1, 5*time.Second)[0].Form
			callSID, recSID := f.Get("CallSid"), f.Get("RecordingSid")
			if f.Get("DialCallStatus") != "completed" || !strings.HasPrefix(recSID, "RE") || f.Get("RecordingUrl") == "" {
				t.Fatalf("Dial action %v", f)
			}
			cb := waitCallback(t, a, "/rs", callSID, "completed", 10*time.Second)
			if cb.Get("RecordingSid") != recSID || cb.Get("RecordingSource") != "DialVerb" || cb.Get("RecordingChannels") != strconv.Itoa(tc.channels) {
				t.Errorf("recording status callback %v", cb)
			}
			got := recordingChannels(t, f.Get("RecordingUrl"))
			if len(got) != tc.channels {
				t.Fatalf("%d channels, want %d", len(got), tc.channels)
			}
			for i, x := range got {
				t.Logf("channel %d: %.2f s, 1 kHz share %.2f, 600 Hz share %.2f", i+1, float64(len(x))/8000, bestShare(x, 1000), bestShare(x, 600))
			}
			if tc.channels == 1 {
				if s := bestShare(got[0], 1000); s < 0.2 {
					t.Errorf("the caller's 1 kHz is not in the recording (best share %.2f)", s)
				}
				if s := bestShare(got[0], 600); s < 0.2 {
					t.Errorf("the called party's 600 Hz is not in the recording (best share %.2f)", s)
				}
			} else {
				if s := bestShare(got[0], 1000); s < 0.8 {
					t.Errorf("the caller's 1 kHz is not on channel 1 (best share %.2f)", s)
				}
				if s := bestShare(got[1], 600); s < 0.8 {
					t.Errorf("the called party's 600 Hz is not on channel 2 (best share %.2f)", s)
				}
				if s := bestShare(got[0], 600); s > 0.1 {
					t.Errorf("the called party leaked onto the caller's channel (600 Hz share %.2f)", s)
				}
				if s := bestShare(got[1], 1000); s > 0.1 {
					t.Errorf("the caller leaked onto the called party's channel (1 kHz share %.2f)", s)
				}
			}
			recs, err := twilioGo(t, g.httpURL).Api.ListCallRecording(callSID, &openapi.ListCallRecordingParams{})
			if err != nil || len(recs) != 1 || *recs[0].Sid != recSID || *recs[0].Source != "DialVerb" || recs[0].Channels != tc.channels {
				t.Errorf("ListCallRecording: %v %+v", err, recs)
			}
		})
	}
}
