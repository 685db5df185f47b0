package ivr

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
)

// TestDialRecordChannels: <Dial record> mixes both parties into one
// channel; the -dual values keep the caller (the parent call) on channel
// 0 and the called party on channel 1. The stored recording and the
// recordingStatusCallback say how many channels the file has, and
// trim-silence cuts whole two-channel frames.
func TestDialRecordChannels(t *testing.T) {
	for _, c := range []struct {
		record, trim string
		channels     int
	}{
		{"record-from-answer", "", 1},
		{"record-from-answer-dual", "", 2},
		{"record-from-ringing-dual", "trim-silence", 2},
	} {
		t.Run(strings.TrimSpace(c.record+" "+c.trim), func(t *testing.T) {
			h, saved, dir := callRecHarness(t, `<Response><Dial action="/after" record="`+c.record+`" trim="`+c.trim+
				`" recordingStatusCallback="/rs">+15551230000</Dial></Response>`)
			h.app.set("/after", `<Response><Hangup/></Response>`)
			// The caller says three frames of 1000, the called party three of 3000.
			h.call.leg.SetRecordFrames([][]int16{constFrame(1000), constFrame(1000), constFrame(1000)})
			d := &fakeDialer{answered: func(_ string, call *fakeCall) {
				call.leg.SetRecordFrames([][]int16{constFrame(3000), constFrame(3000), constFrame(3000)})
			}}
			h.eng.cfg.Dialer = d
			h.start(App{VoiceURL: h.app.url("/voice")})
			child := d.call("+15551230000")
			if child == nil {
				t.Fatal("never dialled")
			}
			time.Sleep(300 * time.Millisecond)
			child.leg.Close("remote-bye")
			h.wait(t)
			h.eng.Close() // the recording status callback has been sent

			rec := saved.last()
			if rec.Source != "DialVerb" || rec.Channels != c.channels {
				t.Errorf("stored recording %+v, want %d channels", rec, c.channels)
			}
			ch, pcm := readWAV(t, rec.Path)
			if ch != c.channels {
				t.Fatalf("WAV has %d channels, want %d", ch, c.channels)
			}
			caller, called := 3*media.FrameSamples*1000, 3*media.FrameSamples*3000
			if ch == 1 {
				if got := sum(pcm); got != caller+called {
					t.Errorf("mixed sample sum %d, want caller %d + called party %d", got, caller, called)
				}
			} else {
				left, right := channel(pcm, 0), channel(pcm, 1)
				if got := sum(left); got != caller || slices.Contains(left, 3000) {
					t.Errorf("channel 0 sum %d (has the called party: %v), want only the caller's %d", got, slices.Contains(left, 3000), caller)
				}
				if got := sum(right); got != called || slices.Contains(right, 1000) {
					t.Errorf("channel 1 sum %d (has the caller: %v), want only the called party's %d", got, slices.Contains(right, 1000), called)
				}
			}
			frame := ch * media.FrameSamples
			if len(pcm)%frame != 0 || len(pcm) == 0 {
				t.Fatalf("%d samples: not whole %d-channel frames", len(pcm), ch)
			}
			if n := len(pcm) / frame; rec.Duration != time.Duration(n)*media.FrameDuration {
				t.Errorf("duration %v for %d frames", rec.Duration, n)
			}
			silent := func(f []int16) bool { return !slices.ContainsFunc(f, func(v int16) bool { return v != 0 }) }
			if c.trim != "" && (silent(pcm[:frame]) || silent(pcm[len(pcm)-frame:])) {
				t.Errorf("trimmed recording still starts or ends with silence")
			}
			cbs := h.app.requests("/rs")
			if len(cbs) != 1 {
				t.Fatalf("%d recording status callbacks, want 1", len(cbs))
			}
			if f := cbs[0].form; f.Get("RecordingChannels") != strconv.Itoa(c.channels) || f.Get("RecordingSid") != rec.SID ||
				f.Get("RecordingSource") != "DialVerb" || f.Get("RecordingStatus") != "completed" {
				t.Errorf("recording status callback %v", f)
			}
			if f := h.app.requests("/after")[0].form; f.Get("RecordingSid") != rec.SID {
				t.Errorf("Dial action RecordingSid %q, want %s", f.Get("RecordingSid"), rec.SID)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".rec-*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}
