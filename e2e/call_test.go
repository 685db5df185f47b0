package e2e

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media/audio"
)

// ttsVoices pins every Say to one espeak-ng voice so tests can render the
// same speech as a reference.
const ttsVoices = `tts:
  voices: {en-us: en-us, en-us/m: en-us, en-us/f: en-us}
`

// reference renders text the way the judge expects the caller to hear it:
// espeak-ng at 150 wpm, resampled to 8 kHz by sox.
func reference(t *testing.T, voice, text string) []float64 {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "ref.wav")
	ref8k := filepath.Join(dir, "ref8k.wav")
	if out, err := exec.Command("espeak-ng", "-v", voice, "-s", "150", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	if out, err := exec.Command("sox", raw, "-r", "8000", "-c", "1", "-b", "16", ref8k).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return loadWAV(t, ref8k)
}

func loadWAV(t *testing.T, path string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := audio.DecodeWAV(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]float64, len(pcm))
	for i, s := range pcm {
		out[i] = float64(s) / 32768
	}
	return out
}

// toneWAV is a 1 kHz tone served as <Play> media.
func toneWAV(t *testing.T, seconds float64, rate int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	if out, err := exec.Command("sox", "-n", "-r", fmt.Sprint(rate), "-c", "2", "-b", "16", path, "synth", fmt.Sprint(seconds), "sine", "1000", "vol", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const greeting = "Hello from the end to end test. This is Voxgate speaking."

// TestCallSayPlayPauseHangup is the call path: SIPp calls, the webhook
// returns Say + Play + Pause + Hangup, and the caller gets the right RTP for
// the right time, then a BYE.
func TestCallSayPlayPauseHangup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport string
		pts       string // offered payload types, in preference order
		wantPT    uint8
	}{
		{"PCMU over UDP", "udp", "0 8 101", 0},
		{"PCMA over UDP", "udp", "8 0 101", 8},
		{"PCMU over TCP", "tcp", "0 101", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t)
			tone := toneWAV(t, 1.5, 44100)
			a.handle("/tone.wav", func(webhookRequest) (int, string, string) { return 200, "audio/wav", string(tone) })
			a.twiml("/voice", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say>`+greeting+`</Say>
  <Play>tone.wav</Play>
  <Pause length="1"/>
  <Hangup/>
</Response>`)
			g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), voiceMethod: "POST", extraYAML: ttsVoices})
			peer := newRTPPeer(t)
			start := time.Now()
			code, out := g.sipp(t, tc.transport, "uac_wait_bye.xml", map[string]string{
				"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": tc.pts,
				"expect_pt": fmt.Sprint(tc.wantPT), "wait_ms": "30000",
			}, 40*time.Second)
			if code != 0 {
				t.Fatalf("sipp exit %d (want 0: answered with PT %d, then BYE from the gateway)\n%s", code, tc.wantPT, out)
			}
			elapsed := time.Since(start)

			// The webhook got Twilio's parameters, signed.
			reqs := a.waitRequests(t, "/voice", 1, time.Second)
			r := reqs[0]
			for k, want := range map[string]string{
				"AccountSid": testAccountSID, "From": "+15550001111", "To": "+15550001000",
				"Caller": "+15550001111", "Called": "+15550001000", "CallStatus": "ringing",
				"Direction": "inbound", "ApiVersion": "2010-04-01", "SipHeader_x-test-header": "e2e",
			} {
				if got := r.Form.Get(k); got != want {
					t.Errorf("webhook param %s = %q, want %q", k, got, want)
				}
			}
			if sid := r.Form.Get("CallSid"); len(sid) != 34 || !strings.HasPrefix(sid, "CA") {
				t.Errorf("CallSid = %q, want CA + 32 hex", sid)
			}
			if want := expectedSignature(testAuthToken, r.URL, r.Form, true); r.Signature != want {
				t.Errorf("X-Twilio-Signature = %q, want %q (url %s)", r.Signature, want, r.URL)
			}
			if len(a.requests("/tone.wav")) == 0 {
				t.Errorf("the <Play> media was never fetched")
			}

			// RTP: the right payload type, 50 packets a second, for the
			// length of speech + tone + pause.
			pkts := peer.packets()
			if len(pkts) == 0 {
				t.Fatal("no RTP reached the caller")
			}
			for _, p := range pkts {
				if p.Header.PayloadType != tc.wantPT {
					t.Fatalf("RTP payload type %d, want %d", p.Header.PayloadType, tc.wantPT)
				}
			}
			speech := reference(t, "en-us", greeting)
			wantDur := time.Duration(float64(len(speech))/8000*float64(time.Second)) + 1500*time.Millisecond + time.Second
			gotDur := time.Duration(len(pkts)) * 20 * time.Millisecond
			if gotDur < wantDur-time.Second || gotDur > wantDur+1500*time.Millisecond {
				t.Errorf("received %v of RTP (%d packets), want about %v", gotDur, len(pkts), wantDur)
			}
			span := pkts[len(pkts)-1].At.Sub(pkts[0].At)
			if math.Abs(span.Seconds()-gotDur.Seconds()) > 0.5 {
				t.Errorf("%d packets took %v to arrive, want real-time pacing (about %v)", len(pkts), span, gotDur)
			}
			if elapsed > wantDur+5*time.Second {
				t.Errorf("call took %v, want about %v", elapsed, wantDur)
			}
			checkSequence(t, pkts)

			// Content: the speech is the TTS rendering, then the tone.
			rx := decode(pkts, tc.wantPT)
			corr, lag := xcorrPeak(rx, speech)
			if corr < 0.9 {
				t.Errorf("received speech correlates %.3f with espeak-ng's rendering, want >= 0.9", corr)
			}
			toneStart := lag + len(speech) + 800
			if toneStart+8000 <= len(rx) {
				if f := goertzelFraction(rx[toneStart:toneStart+8000], 1000); f < 0.8 {
					t.Errorf("the played tone: %.2f of its energy at 1 kHz, want >= 0.8", f)
				}
			} else {
				t.Errorf("received audio ends before the tone (lag %d, %d samples)", lag, len(rx))
			}
			if !strings.Contains(g.Logs(), "call_sid="+r.Form.Get("CallSid")) {
				t.Errorf("gateway logs do not name the call SID")
			}
		})
	}
}

// checkSequence checks RTP sequence numbers and timestamps advance by one
// packet and 160 samples, and that one SSRC is used.
func checkSequence(t *testing.T, pkts []rtpPacket) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		prev, cur := pkts[i-1].Header, pkts[i].Header
		if cur.SSRC != prev.SSRC {
			t.Errorf("SSRC changed mid-call at packet %d", i)
			return
		}
		if cur.SequenceNumber != prev.SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, cur.SequenceNumber, prev.SequenceNumber)
			return
		}
		if cur.Timestamp-prev.Timestamp != 160 {
			t.Errorf("packet %d: timestamp step %d, want 160", i, cur.Timestamp-prev.Timestamp)
			return
		}
	}
	if !pkts[0].Header.Marker {
		t.Errorf("first RTP packet has no marker bit")
	}
}
