package ivr

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/speech"
)

// fakeRecognizer hears whatever it is given and answers text, with one
// interim result.
type fakeRecognizer struct {
	text string
	mu   sync.Mutex
	opts speech.Options
	got  int // samples written
}

func (r *fakeRecognizer) Start(ctx context.Context, opts speech.Options) (speech.Session, error) {
	r.mu.Lock()
	r.opts = opts
	r.mu.Unlock()
	p := make(chan speech.Partial, 1)
	p <- speech.Partial{Text: r.text[:1], Stability: 0.5}
	close(p)
	return &fakeSession{r: r, partials: p}, nil
}

type fakeSession struct {
	r        *fakeRecognizer
	partials chan speech.Partial
}

func (s *fakeSession) Write(pcm []int16) {
	s.r.mu.Lock()
	s.r.got += len(pcm)
	s.r.mu.Unlock()
}
func (s *fakeSession) Partials() <-chan speech.Partial { return s.partials }
func (s *fakeSession) Finish(ctx context.Context) (speech.Result, error) {
	return speech.Result{Text: s.r.text, Confidence: 0.9, HasConfidence: true}, nil
}
func (s *fakeSession) Close() {}

// speechHarness is the engine harness with a recognizer service.
func speechHarness(t *testing.T, rec speech.Recognizer) *harness {
	h := &harness{app: newTestApp(t), call: newFakeCall(), audio: &fakeAudio{}, done: make(chan struct{}), clock: newFakeClock()}
	h.eng = NewEngine(Config{
		AccountSID: "AC00000000000000000000000000000000", AuthToken: "00000000000000000000000000000000",
		Speaker: fakeSpeaker{}, Audio: h.audio, Clock: h.clock, WebhookTimeout: 2 * time.Second,
		Services: []any{rec},
	})
	t.Cleanup(h.eng.Close)
	return h
}

// spoken is 0.4 s of a loud tone (speech to the endpointer), then 1 s of
// silence.
func spoken() [][]int16 {
	var frames [][]int16
	for i := range 70 {
		f := make([]int16, media.FrameSamples)
		if i < 20 {
			for j := range f {
				f[j] = int16(8000 * math.Sin(2*math.Pi*300*float64(i*media.FrameSamples+j)/media.SampleRate))
			}
		}
		frames = append(frames, f)
	}
	return frames
}

func TestGatherSpeechBargesInAndPostsTheResult(t *testing.T) {
	rec := &fakeRecognizer{text: "sales"}
	h := speechHarness(t, rec)
	h.call.leg.BlockPlay(0) // the prompt plays until speech stops it
	h.call.leg.SetRecordFrames(spoken())
	h.app.set("/voice", `<Response><Gather input="speech" speechTimeout="auto" hints="sales, support" language="en-GB" action="/action" partialResultCallback="/partial"><Say>menu</Say><Say>more</Say></Gather><Say>nothing</Say></Response>`)
	h.app.set("/action", `<Response><Hangup/></Response>`)
	h.app.set("/partial", `<Response/>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("SpeechResult") != "sales" || a[0].form.Get("Confidence") != "0.9" || a[0].form.Has("Digits") {
		t.Fatalf("action requests %v, want SpeechResult=sales Confidence=0.9", a)
	}
	// The speech arrives at once: it stops the prompts before the second
	// (and maybe the first) begins.
	if got := h.call.leg.Plays(); len(got) > 1 {
		t.Errorf("plays %v: speech must stop the remaining prompts", got)
	}
	rec.mu.Lock()
	if rec.opts.Language != "en-GB" || len(rec.opts.Hints) != 2 || rec.opts.Hints[1] != "support" || rec.got == 0 {
		t.Errorf("recognizer got %+v and %d samples", rec.opts, rec.got)
	}
	rec.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.app.requests("/partial")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p := h.app.requests("/partial"); len(p) != 1 || p[0].form.Get("UnstableSpeechResult") != "s" || p[0].form.Get("SequenceNumber") != "1" {
		t.Errorf("partial callbacks %v", p)
	}
}

func TestGatherSpeechSilenceTimesOut(t *testing.T) {
	h := speechHarness(t, &fakeRecognizer{text: "sales"})
	h.app.set("/voice", `<Response><Gather input="speech" timeout="3" action="/action"><Say>menu</Say></Gather><Say>nothing</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.clock.WaitTimer(t, 3*time.Second)
	h.clock.Advance(3 * time.Second)
	h.wait(t)
	if a := h.app.requests("/action"); len(a) != 0 {
		t.Errorf("action requested with no speech: %v", a)
	}
	if got := h.call.leg.Plays(); len(got) != 2 {
		t.Errorf("plays %v, want the prompt and the next <Say>", got)
	}
}
