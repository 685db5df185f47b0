package ivr

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"

	"github.com/voxgate/voxgate/recording"
)

// levelSpeaker renders the text "N" as 10 frames of the constant sample N,
// so a test can tell what each <Say> contributed to a recording.
type levelSpeaker struct{}

func (levelSpeaker) Render(ctx context.Context, text, voice, language string) ([]int16, string, error) {
	v, err := strconv.Atoi(text)
	if err != nil {
		return nil, "", err
	}
	pcm := make([]int16, 10*media.FrameSamples)
	for i := range pcm {
		pcm[i] = int16(v)
	}
	return pcm, "", nil
}

// savedLog collects RecordingSaved reports.
type savedLog struct {
	mu   sync.Mutex
	recs []recording.Recording
}

func (l *savedLog) add(r recording.Recording) {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
}

func (l *savedLog) statuses() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		out = append(out, r.Status)
	}
	return out
}

func (l *savedLog) last() recording.Recording {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recs[len(l.recs)-1]
}

// callRecHarness is a harness with a recordings directory, the level
// speaker and a fake clock.
func callRecHarness(t *testing.T, doc string) (*harness, *savedLog, string) {
	t.Helper()
	h := newHarness(t, newFakeClock())
	dir := t.TempDir()
	saved := &savedLog{}
	h.recordTo(dir, saved.add)
	h.eng.cfg.Speaker = levelSpeaker{}
	h.app.set("/voice", doc)
	h.app.set("/rs", "")
	return h, saved, dir
}

// readWAV returns the channel count and samples of a 16-bit WAV file.
func readWAV(t *testing.T, path string) (int, []int16) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 44 || string(data[:4]) != "RIFF" || string(data[36:40]) != "data" {
		t.Fatalf("%s: not a canonical WAV file", path)
	}
	le := binary.LittleEndian
	ch := int(le.Uint16(data[22:]))
	if got, want := le.Uint16(data[32:]), uint16(2*ch); got != want {
		t.Errorf("block align %d, want %d", got, want)
	}
	if got, want := le.Uint32(data[28:]), uint32(8000*2*ch); got != want {
		t.Errorf("byte rate %d, want %d", got, want)
	}
	body := data[44:]
	if n := le.Uint32(data[40:]); int(n) != len(body) {
		t.Errorf("data size %d, file has %d bytes of samples", n, len(body))
	}
	pcm := make([]int16, len(body)/2)
	for i := range pcm {
		pcm[i] = int16(le.Uint16(body[2*i:]))
	}
	return ch, pcm
}

func sum(pcm []int16) int {
	total := 0
	for _, v := range pcm {
		total += int(v)
	}
	return total
}

// channel returns channel c of interleaved stereo samples.
func channel(pcm []int16, c int) []int16 {
	out := make([]int16, 0, len(pcm)/2)
	for i := c; i < len(pcm); i += 2 {
		out = append(out, pcm[i])
	}
	return out
}

const testCallSID = "CA00000000000000000000000000000001"

// TestCallRecordingBothDirections: a recording started on a live call
// hears the caller (the leg's Record) and the gateway's <Say> (the tee);
// mono sums them, dual keeps the caller left and the gateway right. It
// ends when the caller hangs up: saved, stored and reported.
func TestCallRecordingBothDirections(t *testing.T) {
	for _, channels := range []int{1, 2} {
		t.Run(strconv.Itoa(channels), func(t *testing.T) {
			h, saved, dir := callRecHarness(t, `<Response><Say>1000</Say><Pause length="30"/></Response>`)
			said := frames(10, 0)
			for i := range said {
				said[i] = constFrame(100)
			}
			h.call.leg.SetRecordFrames(said)
			started := make(chan recording.State, 1)
			h.call.leg.SetOnPlay(func(n int) {
				if n != 0 {
					return
				}
				rec, err := h.eng.StartCallRecording(testCallSID, recording.Options{
					Channels: channels, StatusCallback: h.app.url("/rs"),
					StatusCallbackEvents: []string{"in-progress", "completed"},
				})
				if err != nil {
					t.Errorf("StartCallRecording: %v", err)
				}
				started <- rec
			})
			h.start(App{VoiceURL: h.app.url("/voice")})
			rec := <-started
			if rec.Status != recording.StatusInProgress || rec.Source != recording.SourceStartCallRecordingAPI || rec.Channels != channels || len(rec.SID) != 34 {
				t.Errorf("started %+v", rec)
			}
			h.clock.WaitTimer(t, 30*time.Second)
			waitReceived(t, h, 10, 10)
			h.call.leg.Close("remote-bye") // the caller hangs up in the Pause
			h.wait(t)
			h.eng.Close()

			if got := saved.statuses(); !slices.Equal(got, []string{"in-progress", "completed"}) {
				t.Fatalf("RecordingSaved statuses %v", got)
			}
			final := saved.last()
			if final.Path != filepath.Join(dir, rec.SID+".wav") || final.CallSID != testCallSID || final.Channels != channels {
				t.Errorf("saved %+v", final)
			}
			ch, pcm := readWAV(t, final.Path)
			if ch != channels {
				t.Fatalf("%d channels, want %d", ch, channels)
			}
			caller, gateway := 10*media.FrameSamples*100, 10*media.FrameSamples*1000
			frameCount := len(pcm) / ch / media.FrameSamples
			if frameCount < 10 || frameCount > 20 || final.Duration != time.Duration(frameCount)*media.FrameDuration {
				t.Errorf("%d frames (duration %v), want 10..20", frameCount, final.Duration)
			}
			if channels == 1 {
				if got := sum(pcm); got != caller+gateway {
					t.Errorf("mixed sample sum %d, want caller %d + gateway %d", got, caller, gateway)
				}
			} else {
				if got := sum(channel(pcm, 0)); got != caller {
					t.Errorf("left (caller) sum %d, want %d", got, caller)
				}
				if got := sum(channel(pcm, 1)); got != gateway {
					t.Errorf("right (gateway) sum %d, want %d", got, gateway)
				}
			}
			cbs := h.app.requests("/rs")
			if len(cbs) != 2 {
				t.Fatalf("%d recording status callbacks, want 2", len(cbs))
			}
			for i, want := range []string{"in-progress", "completed"} {
				f := cbs[i].form
				if f.Get("RecordingStatus") != want || f.Get("RecordingSid") != rec.SID || f.Get("CallSid") != testCallSID ||
					f.Get("RecordingSource") != "StartCallRecordingAPI" || f.Get("RecordingChannels") != strconv.Itoa(channels) ||
					f.Get("AccountSid") == "" || f.Get("RecordingStartTime") == "" ||
					f.Get("RecordingUrl") != "http://gw.example/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/"+rec.SID {
					t.Errorf("callback %d: %v", i, f)
				}
			}
			if d, _ := strconv.Atoi(cbs[1].form.Get("RecordingDuration")); time.Duration(d)*time.Second != final.Duration.Round(time.Second) {
				t.Errorf("RecordingDuration %q for %v", cbs[1].form.Get("RecordingDuration"), final.Duration)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".rec-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// waitReceived waits until the call's first recording has received a
// frames from the caller and b from the gateway.
func waitReceived(t *testing.T, h *harness, a, b int) {
	t.Helper()
	s, err := h.eng.live.get(testCallSID)
	if err != nil {
		t.Fatal(err)
	}
	recs := s.callRecordings()
	for range 1000 {
		if ga, gb, _ := recs.Received(recording.Current); ga >= a && gb >= b {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	ga, gb, _ := recs.Received(recording.Current)
	t.Fatalf("the recording received %d caller and %d gateway frames, want %d and %d", ga, gb, a, b)
}

// TestCallRecordingPauseResumeStop: a paused recording skips what is sent
// meanwhile; Twilio.CURRENT names the running recording; a stopped one
// is saved at once and cannot change any more.
func TestCallRecordingPauseResumeStop(t *testing.T) {
	h, saved, _ := callRecHarness(t, `<Response><Say>100</Say><Say>2000</Say><Say>300</Say><Say>4000</Say><Pause length="30"/></Response>`)
	var recSID string
	var stopped recording.State
	h.call.leg.SetOnPlay(func(n int) {
		var err error
		switch n {
		case 0:
			var rec recording.State
			rec, err = h.eng.StartCallRecording(testCallSID, recording.Options{Track: recording.TrackOutbound})
			recSID = rec.SID
		case 1:
			_, err = h.eng.UpdateCallRecording(testCallSID, recording.Current, recording.StatusPaused, false)
		case 2:
			var rec recording.State
			rec, err = h.eng.UpdateCallRecording(testCallSID, recSID, recording.StatusInProgress, false)
			if rec.Status != recording.StatusInProgress {
				t.Errorf("resumed: %+v", rec)
			}
		case 3:
			stopped, err = h.eng.UpdateCallRecording(testCallSID, recording.Current, recording.StatusStopped, false)
			if err == nil {
				_, err2 := h.eng.UpdateCallRecording(testCallSID, recSID, recording.StatusPaused, false)
				if !errors.Is(err2, recording.ErrEnded) {
					t.Errorf("pausing a stopped recording: %v, want recording.ErrEnded", err2)
				}
				_, err2 = h.eng.UpdateCallRecording(testCallSID, recording.Current, recording.StatusStopped, false)
				if !errors.Is(err2, recording.ErrNoSuchRecording) {
					t.Errorf("Twilio.CURRENT with none running: %v, want recording.ErrNoSuchRecording", err2)
				}
			}
		}
		if err != nil {
			t.Errorf("Play %d: %v", n, err)
		}
	})
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.clock.WaitTimer(t, 30*time.Second)
	if stopped.Status != recording.StatusStopped || stopped.SID != recSID || stopped.Duration != 20*media.FrameDuration {
		t.Errorf("stopped: %+v, want status stopped and 20 frames", stopped)
	}
	if got := saved.statuses(); !slices.Equal(got, []string{"in-progress", "paused", "in-progress", "completed"}) {
		t.Errorf("RecordingSaved statuses %v", got)
	}
	_, pcm := readWAV(t, saved.last().Path)
	if got, want := sum(pcm), 10*media.FrameSamples*(100+300); got != want || len(pcm) != 20*media.FrameSamples {
		t.Errorf("recording: %d samples summing to %d, want the first and third Say only (%d)", len(pcm), got, want)
	}
	h.call.leg.Close("remote-bye")
	h.wait(t)
	if n := len(saved.statuses()); n != 4 {
		t.Errorf("the call's end reported the stopped recording again (%d reports)", n)
	}
}

// TestCallRecordingPauseSilence: with PauseBehavior=silence the paused
// time is kept as silence, and a gap where neither side sent anything is
// filled with silence too (the recording keeps real time).
func TestCallRecordingPauseSilence(t *testing.T) {
	h, saved, _ := callRecHarness(t, `<Response><Say>100</Say><Say>2000</Say><Say>300</Say><Pause length="30"/></Response>`)
	h.call.leg.SetOnPlay(func(n int) {
		var err error
		switch n {
		case 0:
			_, err = h.eng.StartCallRecording(testCallSID, recording.Options{})
		case 1:
			_, err = h.eng.UpdateCallRecording(testCallSID, recording.Current, recording.StatusPaused, true)
			h.clock.Advance(time.Second)
		case 2:
			_, err = h.eng.UpdateCallRecording(testCallSID, recording.Current, recording.StatusInProgress, false)
		}
		if err != nil {
			t.Errorf("Play %d: %v", n, err)
		}
	})
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.clock.WaitTimer(t, 30*time.Second)
	h.clock.Advance(2 * time.Second) // the caller hangs up 2 s into the Pause
	h.call.leg.Close("remote-bye")
	h.wait(t)
	_, pcm := readWAV(t, saved.last().Path)
	// 1 s (50 frames: the first Say, then silence while paused), the
	// third Say (10 frames), then 2 s of silence to the hang-up: up to
	// frame 150 counted from the start.
	if got := len(pcm) / media.FrameSamples; got != 150 {
		t.Errorf("%d frames, want 150", got)
	}
	if got, want := sum(pcm), 10*media.FrameSamples*(100+300); got != want {
		t.Errorf("sample sum %d, want %d", got, want)
	}
	if got := sum(pcm[50*media.FrameSamples : 60*media.FrameSamples]); got != 10*media.FrameSamples*300 {
		t.Errorf("the third Say is not at 1 s (sum there %d)", got)
	}
}

// TestCallRecordingNotInProgress: a call that is not running, or not yet
// answered, cannot be recorded; unknown recordings are not found.
func TestCallRecordingNotInProgress(t *testing.T) {
	h, _, _ := callRecHarness(t, `<Response><Pause length="5"/><Say>100</Say><Hangup/></Response>`)
	if _, err := h.eng.StartCallRecording(testCallSID, recording.Options{}); !errors.Is(err, ErrNoSuchCall) {
		t.Errorf("no call: %v, want ErrNoSuchCall", err)
	}
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.clock.WaitTimer(t, 5*time.Second) // a leading Pause: still ringing
	if _, err := h.eng.StartCallRecording(testCallSID, recording.Options{}); !errors.Is(err, recording.ErrNotInProgress) {
		t.Errorf("ringing call: %v, want recording.ErrNotInProgress", err)
	}
	if _, err := h.eng.UpdateCallRecording(testCallSID, "RE00000000000000000000000000000000", recording.StatusStopped, false); !errors.Is(err, recording.ErrNoSuchRecording) {
		t.Errorf("unknown recording: %v, want recording.ErrNoSuchRecording", err)
	}
	if _, err := h.eng.StartCallRecording(testCallSID, recording.Options{Channels: 3}); err == nil {
		t.Errorf("3 channels accepted")
	}
	h.clock.Advance(5 * time.Second)
	h.wait(t)
}

// TestCallRecordingOnAnswer: with OnAnswer a recording may be started
// while the call rings (Studio's record-call before any TwiML); it begins
// when the call is answered.
func TestCallRecordingOnAnswer(t *testing.T) {
	h, saved, _ := callRecHarness(t, `<Response><Pause length="5"/><Say>500</Say><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.clock.WaitTimer(t, 5*time.Second)
	rec, err := h.eng.StartCallRecording(testCallSID, recording.Options{OnAnswer: true})
	if err != nil || rec.Status != recording.StatusInProgress {
		t.Fatalf("StartCallRecording while ringing: %+v %v", rec, err)
	}
	h.clock.Advance(5 * time.Second)
	h.wait(t)
	if got := saved.statuses(); !slices.Equal(got, []string{"in-progress", "completed"}) {
		t.Fatalf("RecordingSaved statuses %v", got)
	}
	_, pcm := readWAV(t, saved.last().Path)
	if got, want := sum(pcm), 10*media.FrameSamples*500; got != want || len(pcm) != 10*media.FrameSamples {
		t.Errorf("recording of %d samples summing to %d, want the Say after the answer only (%d)", len(pcm), got, want)
	}
}

// TestOutboundRecordFromAnswer: Calls.create Record=true records the call
// from the answer (source OutboundAPI, trimmed), and the call's completed
// status callback names the recording.
func TestOutboundRecordFromAnswer(t *testing.T) {
	h, saved, _ := callRecHarness(t, `<Response><Say>1000</Say><Hangup/></Response>`)
	d := &fakeDialer{}
	h.eng.cfg.Dialer = d
	h.app.set("/status", "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.eng.RunOutbound(context.Background(), OutboundCall{
			Info: CallInfo{SID: "CA00000000000000000000000000000002", From: "+15550001111", To: "+15551230000"},
			App:  App{VoiceURL: h.app.url("/voice"), StatusCallback: h.app.url("/status")},
			Record: &recording.Options{Trim: true, StatusCallback: h.app.url("/rs"),
				StatusCallbackEvents: []string{"completed"}},
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbound call did not end")
	}
	h.eng.Close()
	if got := saved.statuses(); !slices.Equal(got, []string{"in-progress", "completed"}) {
		t.Fatalf("RecordingSaved statuses %v", got)
	}
	rec := saved.last()
	if rec.Source != recording.SourceOutboundAPI || rec.CallSID != "CA00000000000000000000000000000002" || rec.Duration != 10*media.FrameDuration {
		t.Errorf("recording %+v, want OutboundAPI with the 10 frames of the Say", rec)
	}
	cbs := h.app.requests("/rs")
	if len(cbs) != 1 || cbs[0].form.Get("RecordingSource") != "OutboundAPI" || cbs[0].form.Get("RecordingStatus") != "completed" {
		t.Errorf("recording status callbacks %v", cbs)
	}
	st := h.app.requests("/status")
	if len(st) != 1 || st[0].form.Get("RecordingSid") != rec.SID || st[0].form.Get("RecordingUrl") == "" || st[0].form.Get("RecordingDuration") != "0" {
		t.Errorf("call status callbacks %v, want the completed one to name the recording", st)
	}
}

// TestCallRecordingHearsTheBridge: the other party of a <Dial> is played
// to the caller through the same tapped leg, so a dual recording has it
// on the gateway's channel.
func TestCallRecordingHearsTheBridge(t *testing.T) {
	h, saved, _ := callRecHarness(t, `<Response><Say>100</Say><Dial>+15551230000</Dial><Hangup/></Response>`)
	// The called party says three frames of 300 as soon as it answers.
	d := &fakeDialer{answered: func(_ string, c *fakeCall) {
		c.leg.SetRecordFrames([][]int16{constFrame(300), constFrame(300), constFrame(300)})
	}}
	h.eng.cfg.Dialer = d
	h.call.leg.SetOnPlay(func(n int) {
		if n == 0 {
			if _, err := h.eng.StartCallRecording(testCallSID, recording.Options{Channels: 2}); err != nil {
				t.Errorf("StartCallRecording: %v", err)
			}
		}
	})
	h.start(App{VoiceURL: h.app.url("/voice")})
	child := d.call("+15551230000")
	if child == nil {
		t.Fatal("never dialled")
	}
	time.Sleep(300 * time.Millisecond)
	child.leg.Close("remote-bye")
	h.wait(t)
	_, pcm := readWAV(t, saved.last().Path)
	if !slices.Contains(channel(pcm, 1), 300) {
		t.Errorf("the called party's audio is not on the gateway channel")
	}
	if slices.Contains(channel(pcm, 0), 300) {
		t.Errorf("the called party's audio is on the caller's channel")
	}
}
