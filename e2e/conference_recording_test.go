package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestConferenceDualRecording: three SIPp callers, each sending a tone of
// its own frequency, join a room whose first participant asked for a dual
// recording (recordingChannels="dual"). twilio-node lists the live
// recording, pauses (Twilio.CURRENT) and resumes it; the room ends. The
// recording's channel 1 holds only the first caller's tone, channel 2 the
// two others' and never the first's; the recordingStatusCallback said
// in-progress then completed with RecordingChannels=2; twilio-node then
// lists and fetches it (status completed, 2 channels, the conference's
// SID), finds it in the account's recordings and deletes it.
func TestConferenceDualRecording(t *testing.T) {
	a := newApp(t)
	var mu sync.Mutex
	n := 0
	a.handle("/voice", func(r webhookRequest) (int, string, string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		attrs := ""
		if n == 1 {
			attrs = ` record="record-from-start" recordingChannels="dual" trim="do-not-trim" recordingStatusCallback="/rec" recordingStatusCallbackEvent="in-progress completed"`
		}
		return 200, "text/xml", fmt.Sprintf(`<Response><Dial action="/after"><Conference beep="false"%s>dual</Conference></Dial></Response>`, attrs)
	})
	a.twiml("/after", `<Response><Hangup/></Response>`)
	a.twiml("/rec", `<Response/>`)
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	freqs := []float64{500, 900, 1300} // channel 1's caller first
	var done []<-chan string
	for i, f := range freqs {
		peer := newRTPPeer(t)
		peer.talkTone(f, 5000, 30*time.Second)
		done = append(done, g.waitingCaller(t, peer, fmt.Sprintf("caller %d: ", i), 45*time.Second))
		g.waitParticipants(t, "dual", i+1, 15*time.Second) // in this order
	}
	confSID, _ := g.waitParticipants(t, "dual", len(freqs), 5*time.Second)
	time.Sleep(3 * time.Second)
	env := []string{"BASE=" + g.httpURL, "SID=" + testAccountSID, "TOKEN=" + testAuthToken, "CONF=" + confSID}
	var live struct {
		Listed, Channels int
		SID, Status      string
		Paused, Resumed  bool
	}
	out := runNode(t, "twilio_node_conference_recordings.js", append(env, "MODE=live", "PAUSE_MS=1500")...)
	t.Logf("twilio-node (live): %s", out)
	if err := json.Unmarshal([]byte(out), &live); err != nil {
		t.Fatalf("twilio-node output: %v", err)
	}
	if live.Listed != 1 || live.Status != "in-progress" || live.Channels != 2 || !live.Paused || !live.Resumed {
		t.Errorf("twilio-node saw the live recording as %+v", live)
	}
	time.Sleep(3 * time.Second)
	if code := g.restJSON(t, "POST", "/Conferences/"+confSID+".json", url.Values{"Status": {"completed"}}, nil); code != 200 {
		t.Fatalf("ending the conference: %d", code)
	}
	for _, d := range done {
		if msg := <-d; msg != "" {
			t.Error(msg)
		}
	}

	cbs := a.waitRequests(t, "/rec", 2, 10*time.Second)
	if cbs[0].Form.Get("RecordingStatus") != "in-progress" || cbs[1].Form.Get("RecordingStatus") != "completed" {
		t.Fatalf("recording callbacks %v then %v", cbs[0].Form, cbs[1].Form)
	}
	cb := cbs[1].Form
	if cb.Get("ConferenceSid") != confSID || cb.Get("RecordingChannels") != "2" || cb.Get("RecordingSid") != live.SID {
		t.Errorf("recording callback %v", cb)
	}
	ch1, ch2 := fetchStereo(t, cb.Get("RecordingUrl"))
	t.Logf("recording: %.1f s", float64(len(ch1))/8000)
	one, two := bestShares(ch1, freqs), bestShares(ch2, freqs)
	t.Logf("channel 1 best shares %.3f, channel 2 %.3f", one, two)
	if one[0] < 0.5 || one[1] > 0.01 || one[2] > 0.01 {
		t.Errorf("channel 1 should hold the first caller's %.0f Hz only: shares %.3f", freqs[0], one)
	}
	if two[1] < 0.1 || two[2] < 0.1 || two[0] > 0.01 {
		t.Errorf("channel 2 should hold the others (%.0f, %.0f Hz) and not the first caller: shares %.3f", freqs[1], freqs[2], two)
	}
	if sil := longestSilence(ch1); sil < time.Second {
		t.Errorf("the 1.5 s pause (silence) is not in the recording: longest silence %v", sil)
	}

	var after struct {
		Listed, Channels                   int
		SID, Status, Source, ConferenceSID string
		Duration                           int
		InAccount, Removed                 bool
		GoneAfterRemove                    bool
	}
	out = runNode(t, "twilio_node_conference_recordings.js", append(env, "MODE=done")...)
	t.Logf("twilio-node (done): %s", out)
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatalf("twilio-node output: %v", err)
	}
	if after.Listed != 1 || after.SID != live.SID || after.Status != "completed" || after.Channels != 2 || after.Source != "Conference" ||
		after.ConferenceSID != confSID || after.Duration < 5 || !after.InAccount || !after.Removed || !after.GoneAfterRemove {
		t.Errorf("twilio-node saw the finished recording as %+v", after)
	}
}

// fetchStereo downloads a 2-channel 16-bit WAV and returns its channels
// as floats in [-1, 1).
func fetchStereo(t *testing.T, mediaURL string) (left, right []float64) {
	t.Helper()
	res, err := http.Get(mediaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || len(body) < 44 || string(body[:4]) != "RIFF" {
		t.Fatalf("recording media: %d, %d bytes, %v", res.StatusCode, len(body), err)
	}
	if ch := binary.LittleEndian.Uint16(body[22:]); ch != 2 {
		t.Fatalf("the recording has %d channels, want 2", ch)
	}
	data := body[44:]
	for i := 0; i+4 <= len(data); i += 4 {
		left = append(left, float64(int16(binary.LittleEndian.Uint16(data[i:])))/32768)
		right = append(right, float64(int16(binary.LittleEndian.Uint16(data[i+2:])))/32768)
	}
	return left, right
}

// bestShares is, for each of freqs, its largest share of the energy of a
// 0.5 s window of x with sound.
func bestShares(x []float64, freqs []float64) []float64 {
	best := make([]float64, len(freqs))
	for i := 0; i+4000 <= len(x); i += 2000 {
		w := x[i : i+4000]
		if rms(w) < 0.005 {
			continue // silence has no share (NaN)
		}
		for k, f := range freqs {
			best[k] = math.Max(best[k], goertzelFraction(w, f))
		}
	}
	return best
}
