package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// recSentence is what the gateway says while a call is recorded.
const recSentence = "This call is being recorded for quality and training purposes."

// minSpeechCorrelation is how well a recording must match the sentence.
// The recording holds the gateway's audio before G.711 (a perfect match
// scores 1.00), but on a loaded host the gateway's pacer may skip a few
// frames, and the caller then hears, and the recording keeps, a short gap
// in the sentence; unrelated audio scores under 0.1.
const minSpeechCorrelation = 0.8

// toneStream makes the raw A-law file a SIPp party streams: tone seconds
// of 1 kHz, then silence seconds of silence.
func toneStream(t *testing.T, tone, silence float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.alaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-t", "al", path,
		"synth", fmt.Sprint(tone), "sine", "1000", "vol", "0.5", "pad", "0", fmt.Sprint(silence)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	return path
}

// streamingParty runs the SIPp called party uas_stream.xml, which answers
// and streams stream, until the test ends; it returns its SIP port.
func streamingParty(t *testing.T, stream string) int {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uas_stream.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	scenario := filepath.Join(dir, "uas_stream.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "[stream]", stream)), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(port),
		"-m", "1", "-nostdin", "-cp", fmt.Sprint(freePort(t)), "-timeout", "60s")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(300 * time.Millisecond) // let it bind
	return port
}

// recordingChannels downloads recording media and returns each channel's
// samples (16-bit PCM WAV, channels interleaved).
func recordingChannels(t *testing.T, mediaURL string) [][]float64 {
	t.Helper()
	res, err := http.Get(mediaURL + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "audio/x-wav" {
		t.Fatalf("GET %s.wav: %d %s", mediaURL, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if len(data) < 44 || string(data[:4]) != "RIFF" || string(data[36:40]) != "data" {
		t.Fatalf("recording is not a canonical WAV file (%d bytes)", len(data))
	}
	le := binary.LittleEndian
	ch := int(le.Uint16(data[22:]))
	if ch < 1 || le.Uint16(data[34:]) != 16 || le.Uint32(data[24:]) != 8000 {
		t.Fatalf("WAV format: %d channels, %d bits, %d Hz", ch, le.Uint16(data[34:]), le.Uint32(data[24:]))
	}
	body := data[44:]
	out := make([][]float64, ch)
	for i := 0; i+2*ch <= len(body); i += 2 * ch {
		for c := range ch {
			out[c] = append(out[c], float64(int16(le.Uint16(body[i+2*c:])))/32768)
		}
	}
	return out
}

// toneShare is the best share of 1 kHz in half-second windows of x that
// are not silent (0 when all are).
func toneShare(x []float64) float64 {
	best := 0.0
	for i := 0; i+4000 <= len(x); i += 2000 {
		if w := x[i : i+4000]; rms(w) > 0.02 {
			best = math.Max(best, goertzelFraction(w, 1000))
		}
	}
	return best
}

// longestSilence is the longest run of 20 ms frames of x with no sound.
func longestSilence(x []float64) time.Duration {
	best, run := 0, 0
	for i := 0; i+160 <= len(x); i += 160 {
		if rms(x[i:i+160]) < 0.002 {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return time.Duration(best) * 20 * time.Millisecond
}

// logLevels logs what the checks measure on each channel of a recording.
func logLevels(t *testing.T, channels [][]float64, speech []float64) {
	t.Helper()
	for i, x := range channels {
		c, _ := xcorrPeak(x, speech)
		t.Logf("channel %d: %.2f s, 1 kHz share %.2f, speech correlation %.3f, longest silence %v",
			i, float64(len(x))/8000, toneShare(x), c, longestSilence(x))
	}
}

// waitCallback waits for a callback to path about callSID with
// RecordingStatus status.
func waitCallback(t *testing.T, a *app, path, callSID, status string, within time.Duration) url.Values {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, r := range a.requests(path) {
			if r.Form.Get("CallSid") == callSID && r.Form.Get("RecordingStatus") == status {
				return r.Form
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s callback with RecordingStatus=%s for %s (got %d requests)", path, status, callSID, len(a.requests(path)))
	return nil
}

// restPost POSTs form to the account path and returns the status and the
// decoded JSON.
func restPost(t *testing.T, g *gateway, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/"+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testAccountSID, testAuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestCallRecordingOutboundRecordTrue: Calls.create Record=true (through
// twilio-go) to a SIPp party that sends a 1 kHz tone for 1.5 s while the app
// pauses, then <Say>s: the stored recording holds both the party's tone
// and the gateway's speech — mixed in mono, on separate channels in dual —
// and the recording and call status callbacks name it.
func TestCallRecordingOutboundRecordTrue(t *testing.T) {
	a := newApp(t)
	a.twiml("/outbound", `<Response><Pause length="3"/><Say>`+recSentence+`</Say><Pause length="1"/><Hangup/></Response>`)
	a.twiml("/rs", "")
	a.twiml("/status", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/unused"), extraYAML: ttsVoices})
	rc := twilioGo(t, g.httpURL)
	speech := reference(t, "en-us", recSentence)
	stream := toneStream(t, 1.5, 12)
	for _, channels := range []string{"mono", "dual"} {
		t.Run(channels, func(t *testing.T) {
			uas := streamingParty(t, stream)
			p := &openapi.CreateCallParams{}
			p.SetTo(fmt.Sprintf("sip:bob@127.0.0.1:%d", uas)).SetFrom("+15550001111").SetUrl(a.url("/outbound")).
				SetStatusCallback(a.url("/status")).
				SetRecord(true).SetRecordingChannels(channels).SetRecordingStatusCallback(a.url("/rs")).
				SetRecordingStatusCallbackEvent([]string{"in-progress", "completed"})
			created, err := rc.Api.CreateCall(p)
			if err != nil {
				t.Fatalf("CreateCall Record=true: %v", err)
			}
			callSID := *created.Sid
			waitCallback(t, a, "/rs", callSID, "in-progress", 15*time.Second)
			cb := waitCallback(t, a, "/rs", callSID, "completed", 30*time.Second)
			wantCh := map[string]string{"mono": "1", "dual": "2"}[channels]
			recSID := cb.Get("RecordingSid")
			if cb.Get("RecordingSource") != "OutboundAPI" || cb.Get("RecordingChannels") != wantCh || cb.Get("AccountSid") != testAccountSID ||
				!strings.HasPrefix(recSID, "RE") || cb.Get("RecordingStartTime") == "" ||
				cb.Get("RecordingUrl") != g.httpURL+"/2010-04-01/Accounts/"+testAccountSID+"/Recordings/"+recSID {
				t.Errorf("recording status callback %v", cb)
			}
			if d, _ := strconv.Atoi(cb.Get("RecordingDuration")); d < 5 || d > 10 {
				t.Errorf("RecordingDuration %q, want the tone, the pause and the sentence (5..10 s)", cb.Get("RecordingDuration"))
			}
			got := recordingChannels(t, cb.Get("RecordingUrl"))
			logLevels(t, got, speech)
			if channels == "mono" {
				if len(got) != 1 {
					t.Fatalf("%d channels, want 1", len(got))
				}
				if s := toneShare(got[0]); s < 0.8 {
					t.Errorf("the called party's tone is not in the recording (best 1 kHz share %.2f)", s)
				}
				if c, _ := xcorrPeak(got[0], speech); c < minSpeechCorrelation {
					t.Errorf("the gateway's speech is not in the recording (correlation %.3f)", c)
				}
			} else {
				if len(got) != 2 {
					t.Fatalf("%d channels, want 2", len(got))
				}
				if s := toneShare(got[0]); s < 0.8 {
					t.Errorf("the called party's tone is not on the left channel (best 1 kHz share %.2f)", s)
				}
				if c, _ := xcorrPeak(got[1], speech); c < minSpeechCorrelation {
					t.Errorf("the gateway's speech is not on the right channel (correlation %.3f)", c)
				}
				if s := toneShare(got[1]); s > 0.5 {
					t.Errorf("the tone leaked onto the gateway's channel (1 kHz share %.2f)", s)
				}
				if c, _ := xcorrPeak(got[0], speech); c > 0.5 {
					t.Errorf("the speech leaked onto the called party's channel (correlation %.3f)", c)
				}
			}
			recs, err := rc.Api.ListCallRecording(callSID, &openapi.ListCallRecordingParams{})
			if err != nil || len(recs) != 1 || *recs[0].Sid != recSID || *recs[0].Status != "completed" ||
				*recs[0].Source != "OutboundAPI" || strconv.Itoa(recs[0].Channels) != wantCh {
				t.Errorf("ListCallRecording: %v %+v", err, recs)
			}
			st := waitStatus(t, a, callSID)
			if st.Get("RecordingSid") != recSID || st.Get("RecordingUrl") != cb.Get("RecordingUrl") {
				t.Errorf("the call's completed status callback does not name the recording: %v", st)
			}
		})
	}
}

// waitStatus waits for the completed call status callback of callSID.
func waitStatus(t *testing.T, a *app, callSID string) url.Values {
	t.Helper()
	for range 100 {
		for _, r := range a.requests("/status") {
			if r.Form.Get("CallSid") == callSID && r.Form.Get("CallStatus") == "completed" {
				return r.Form
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no completed status callback for %s", callSID)
	return nil
}

// TestCallRecordingStartStopLiveCall: an inbound call (SIPp, the caller
// sending a 1 kHz tone) is recorded from the middle of the call through
// REST: started dual (201 in-progress), paused (the paused time is
// silence), resumed and stopped by Twilio.CURRENT. The caller is on the
// left channel, the gateway's speech on the right; a stopped recording
// cannot be stopped again, and an ended call cannot be recorded.
func TestCallRecordingStartStopLiveCall(t *testing.T) {
	a := newApp(t)
	a.twiml("/voice", `<Response><Say>Hello.</Say><Pause length="2"/><Say>`+recSentence+`</Say><Redirect>/after</Redirect></Response>`)
	a.twiml("/after", `<Response><Pause length="30"/></Response>`)
	a.twiml("/rs", "")
	g := startGateway(t, gatewayOpts{voiceURL: a.url("/voice"), extraYAML: ttsVoices})
	rc := twilioGo(t, g.httpURL)
	speech := reference(t, "en-us", recSentence)
	peer := newRTPPeer(t)
	peer.talk(t, 30*time.Second)
	sippDone := g.waitingCaller(t, peer, "", 45*time.Second)
	callSID := a.waitRequests(t, "/voice", 1, 10*time.Second)[0].Form.Get("CallSid")
	time.Sleep(800 * time.Millisecond) // answered, in the Pause before the sentence

	cp := &openapi.CreateCallRecordingParams{}
	cp.SetRecordingChannels("dual").SetRecordingStatusCallback(a.url("/rs")).SetRecordingStatusCallbackEvent([]string{"in-progress", "completed"})
	rec, err := rc.Api.CreateCallRecording(callSID, cp)
	if err != nil {
		t.Fatalf("CreateCallRecording: %v", err)
	}
	if *rec.Status != "in-progress" || *rec.Source != "StartCallRecordingAPI" || rec.Channels != 2 || *rec.CallSid != callSID {
		t.Errorf("created recording %+v", rec)
	}
	recSID := *rec.Sid
	in := waitCallback(t, a, "/rs", callSID, "in-progress", 5*time.Second)
	if in.Get("RecordingSid") != recSID || in.Get("RecordingSource") != "StartCallRecordingAPI" {
		t.Errorf("in-progress callback %v", in)
	}
	list, err := rc.Api.ListCallRecording(callSID, &openapi.ListCallRecordingParams{})
	if err != nil || len(list) != 1 || *list[0].Status != "in-progress" {
		t.Errorf("ListCallRecording while recording: %v %+v", err, list)
	}

	a.waitRequests(t, "/after", 1, 20*time.Second) // the sentence has been said
	pause := &openapi.UpdateCallRecordingParams{}
	pause.SetStatus("paused")
	if r, err := rc.Api.UpdateCallRecording(callSID, "Twilio.CURRENT", pause); err != nil || *r.Status != "paused" {
		t.Fatalf("pause: %v %+v", err, r)
	}
	time.Sleep(1500 * time.Millisecond)
	resume := &openapi.UpdateCallRecordingParams{}
	resume.SetStatus("in-progress")
	if r, err := rc.Api.UpdateCallRecording(callSID, recSID, resume); err != nil || *r.Status != "in-progress" {
		t.Fatalf("resume: %v %+v", err, r)
	}
	time.Sleep(time.Second)
	stop := &openapi.UpdateCallRecordingParams{}
	stop.SetStatus("stopped")
	if r, err := rc.Api.UpdateCallRecording(callSID, "Twilio.CURRENT", stop); err != nil || *r.Status != "stopped" {
		t.Fatalf("stop: %v %+v", err, r)
	}
	if code, body := restPost(t, g, "Calls/"+callSID+"/Recordings/"+recSID+".json", url.Values{"Status": {"stopped"}}); code != 400 || body["code"] != float64(21220) {
		t.Errorf("stopping again: %d %v, want 400 21220", code, body)
	}
	done := waitCallback(t, a, "/rs", callSID, "completed", 5*time.Second)
	fetched, err := rc.Api.FetchRecording(recSID, &openapi.FetchRecordingParams{})
	if err != nil || *fetched.Status != "completed" || fetched.Duration == nil {
		t.Fatalf("FetchRecording: %v %+v", err, fetched)
	}
	if d, _ := strconv.Atoi(*fetched.Duration); d < 7 || d > 13 || *fetched.Duration != done.Get("RecordingDuration") {
		t.Errorf("duration %s (callback %s), want about 10 s", *fetched.Duration, done.Get("RecordingDuration"))
	}

	got := recordingChannels(t, done.Get("RecordingUrl"))
	if len(got) != 2 {
		t.Fatalf("%d channels, want 2", len(got))
	}
	logLevels(t, got, speech)
	if s := toneShare(got[0]); s < 0.8 {
		t.Errorf("the caller's tone is not on the left channel (best 1 kHz share %.2f)", s)
	}
	if c, _ := xcorrPeak(got[1], speech); c < minSpeechCorrelation {
		t.Errorf("the gateway's speech is not on the right channel (correlation %.3f)", c)
	}
	if s := longestSilence(got[0]); s < 1200*time.Millisecond || s > 2500*time.Millisecond {
		t.Errorf("the caller's channel has %v of silence at most, want the paused 1.5 s", s)
	}

	end := &openapi.UpdateCallParams{}
	end.SetStatus("completed")
	if _, err := rc.Api.UpdateCall(callSID, end); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	if msg := <-sippDone; msg != "" {
		t.Fatal(msg)
	}
	waitCallStatus(t, rc, callSID, "completed", 10*time.Second)
	if code, body := restPost(t, g, "Calls/"+callSID+"/Recordings.json", nil); code != 400 || body["code"] != float64(21220) {
		t.Errorf("recording an ended call: %d %v, want 400 21220", code, body)
	}
	if n := len(a.requests("/rs")); n != 2 {
		t.Errorf("%d recording status callbacks, want 2 (the call's end must not report the stopped recording again)", n)
	}
}

// recordCallFlow: record-call starts a dual recording before anything is
// said, the sentence is said, record-call stops it, and the goodbye (not
// recorded) speaks the stop widget's status.
const recordCallFlow = `{
  "description": "record-call e2e", "initial_state": "Trigger", "flags": {"allow_concurrent_calls": true},
  "states": [
    {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingCall", "next": "startRec"}]},
    {"name": "startRec", "type": "record-call",
     "properties": {"record_call": true, "recording_channels": "dual", "recording_status_callback": "APP/rs",
                    "recording_status_callback_events": "in-progress completed", "trim": "do-not-trim"},
     "transitions": [{"event": "success", "next": "speak"}, {"event": "failed", "next": "failed"}]},
    {"name": "speak", "type": "say-play", "properties": {"say": "SENTENCE"},
     "transitions": [{"event": "audioComplete", "next": "stopRec"}]},
    {"name": "stopRec", "type": "record-call", "properties": {"record_call": false},
     "transitions": [{"event": "success", "next": "bye"}, {"event": "failed", "next": "failed"}]},
    {"name": "bye", "type": "say-play", "properties": {"say": "Recording {{widgets.stopRec.Status}}. Goodbye."},
     "transitions": [{"event": "audioComplete"}]},
    {"name": "failed", "type": "say-play", "properties": {"say": "The recording failed."},
     "transitions": [{"event": "audioComplete"}]}
  ]
}`

// TestCallRecordingStudioWidget: a Studio flow records the call with
// record-call (start, say, stop): the recording exists for the call, its
// status callbacks came, it holds the sentence (and the caller's tone on
// the left), and the flow took the success transitions.
func TestCallRecordingStudioWidget(t *testing.T) {
	a := newApp(t)
	a.twiml("/rs", "")
	flow := filepath.Join(t.TempDir(), "record.json")
	doc := strings.NewReplacer("APP", a.url(""), "SENTENCE", recSentence).Replace(recordCallFlow)
	if err := os.WriteFile(flow, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, gatewayOpts{flow: flow, extraYAML: ttsVoices})
	speech := reference(t, "en-us", recSentence)
	peer := newRTPPeer(t)
	peer.talk(t, 20*time.Second)
	code, out := g.sipp(t, "udp", "uac_wait_bye.xml", map[string]string{"service": "+15550001000", "mport": fmt.Sprint(peer.port()), "pts": "0"}, 40*time.Second)
	if code != 0 {
		t.Fatalf("sipp exit %d\n%s", code, out)
	}
	rx := decode(peer.packets(), 0)
	if c, _ := xcorrPeak(rx, reference(t, "en-us", "Recording stopped. Goodbye.")); c < 0.9 {
		t.Errorf("the caller did not hear the success branch's goodbye (correlation %.2f)", c)
	}
	reqs := a.waitRequests(t, "/rs", 2, 10*time.Second)
	callSID := reqs[0].Form.Get("CallSid")
	done := waitCallback(t, a, "/rs", callSID, "completed", 5*time.Second)
	if done.Get("RecordingSource") != "StartCallRecordingAPI" || done.Get("RecordingChannels") != "2" {
		t.Errorf("completed callback %v", done)
	}
	rc := twilioGo(t, g.httpURL)
	recs, err := rc.Api.ListCallRecording(callSID, &openapi.ListCallRecordingParams{})
	if err != nil || len(recs) != 1 || *recs[0].Sid != done.Get("RecordingSid") || *recs[0].Status != "completed" {
		t.Fatalf("ListCallRecording: %v %+v", err, recs)
	}
	got := recordingChannels(t, done.Get("RecordingUrl"))
	if len(got) != 2 {
		t.Fatalf("%d channels, want 2", len(got))
	}
	logLevels(t, got, speech)
	if c, _ := xcorrPeak(got[1], speech); c < minSpeechCorrelation {
		t.Errorf("the sentence is not in the recording (correlation %.3f)", c)
	}
	if s := toneShare(got[0]); s < 0.8 {
		t.Errorf("the caller's tone is not on the left channel (best 1 kHz share %.2f)", s)
	}
	if secs := float64(len(got[1])) / 8000; secs > float64(len(speech))/8000+3 {
		t.Errorf("the recording lasts %.1f s: more than the sentence (%.1f s), so the stop came late", secs, float64(len(speech))/8000)
	}
}
