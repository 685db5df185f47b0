package ivr

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"

	"github.com/voxgate/voxgate/clock"

	"github.com/voxgate/voxgate/recording"
)

func frames(n int, amplitude int16) [][]int16 {
	out := make([][]int16, n)
	for i := range out {
		f := make([]int16, media.FrameSamples)
		for j := range f {
			if j%2 == 0 {
				f[j] = amplitude
			} else {
				f[j] = -amplitude
			}
		}
		out[i] = f
	}
	return out
}

func recordHarness(t *testing.T, clk clock.Clock, doc string, rec [][]int16) (*harness, string) {
	t.Helper()
	dir := t.TempDir()
	h := newHarness(t, clk)
	h.recordTo(dir, nil)
	h.call.leg.SetRecordFrames(rec)
	h.app.set("/voice", doc)
	h.app.set("/rec", `<Response><Hangup/></Response>`)
	return h, dir
}

func TestRecordSilenceEndsAndTrims(t *testing.T) {
	// 0.4 s silence, 1 s sound, then silence: timeout=1 ends it after 1 s of quiet.
	rec := append(append(frames(20, 0), frames(50, 8000)...), frames(60, 0)...)
	h, dir := recordHarness(t, nil, `<Response><Record action="/rec" timeout="1" playBeep="false"/></Response>`, rec)
	var saved []recording.Recording
	h.recordTo(dir, func(r recording.Recording) { saved = append(saved, r) })
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	a := h.app.requests("/rec")
	if len(a) != 1 {
		t.Fatalf("action requested %d times", len(a))
	}
	f := a[0].form
	sid := f.Get("RecordingSid")
	if f.Get("RecordingUrl") != "http://gw.example/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/"+sid {
		t.Errorf("RecordingUrl %q", f.Get("RecordingUrl"))
	}
	if d, _ := strconv.Atoi(f.Get("RecordingDuration")); d != 2 {
		t.Errorf("RecordingDuration %q, want 2 (0.4 + 1 + 1 s, before trimming)", f.Get("RecordingDuration"))
	}
	data, err := os.ReadFile(filepath.Join(dir, sid+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := audio.DecodeWAV(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != 50*media.FrameSamples {
		t.Errorf("trimmed recording has %d samples, want %d (the sound only)", len(pcm), 50*media.FrameSamples)
	}
	if len(saved) != 1 || saved[0].Duration != time.Second {
		t.Errorf("RecordingSaved got %+v, want one of 1 s", saved)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".rec-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestRecordFinishKeyAndDoNotTrim(t *testing.T) {
	h, dir := recordHarness(t, nil, `<Response><Record action="/rec" timeout="0" finishOnKey="*" trim="do-not-trim"/></Response>`, frames(30, 0))
	h.call.leg.SetOnPlay(func(n int) {
		if n == 0 { // the beep
			go func() {
				time.Sleep(50 * time.Millisecond)
				h.call.leg.Press("1*")
			}()
		}
	})
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	a := h.app.requests("/rec")
	if len(a) != 1 || a[0].form.Get("Digits") != "*" {
		t.Fatalf("action %v, want Digits=* (1 is not a finish key)", a)
	}
	if got := h.call.leg.Plays(); len(got) != 1 || got[0] != 3200 {
		t.Errorf("plays %v, want one 400 ms beep before recording", got)
	}
	data, _ := os.ReadFile(filepath.Join(dir, a[0].form.Get("RecordingSid")+".wav"))
	if pcm, err := audio.DecodeWAV(data); err != nil || len(pcm) != 30*media.FrameSamples {
		t.Errorf("untrimmed recording: %d samples, err %v; want all 30 silent frames", len(pcm), err)
	}
}

func TestRecordNothingReceivedFallsThrough(t *testing.T) {
	clock := newFakeClock()
	h, _ := recordHarness(t, clock, `<Response><Record action="/rec" maxLength="5" playBeep="false"/><Say>none</Say></Response>`, nil)
	h.start(App{VoiceURL: h.app.url("/voice")})
	clock.WaitTimer(t, 5*time.Second)
	clock.Advance(5 * time.Second)
	h.wait(t)
	if n := len(h.app.requests("/rec")); n != 0 {
		t.Errorf("action requested with no audio received")
	}
	if got := h.call.leg.Plays(); len(got) != 1 {
		t.Errorf("plays %v: want the <Say> after <Record>", got)
	}
}

func TestRecordHangupStillRequestsAction(t *testing.T) {
	h, _ := recordHarness(t, nil, `<Response><Record playBeep="false" timeout="0"/></Response>`, frames(20, 5000))
	go func() {
		time.Sleep(100 * time.Millisecond)
		h.call.leg.Close("remote-bye")
	}()
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	// No action: the current document is requested again, as Twilio does.
	r := h.app.requests("/voice")
	if len(r) != 2 {
		t.Fatalf("document requested %d times, want 2 (initial + Record action)", len(r))
	}
	if f := r[1].form; f.Get("Digits") != "hangup" || f.Get("CallStatus") != "completed" || f.Get("RecordingSid") == "" {
		t.Errorf("action params Digits=%q CallStatus=%q RecordingSid=%q", f.Get("Digits"), f.Get("CallStatus"), f.Get("RecordingSid"))
	}
}
