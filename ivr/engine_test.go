package ivr

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/voxgate/voxgate/clock/clocktest"

	"github.com/voxgate/voxgate/clock"
)

type harness struct {
	app   *testApp
	call  *fakeCall
	clock *clocktest.Fake
	audio *fakeAudio
	eng   *Engine
	done  chan struct{}
}

func newHarness(t *testing.T, clk clock.Clock) *harness {
	h := &harness{app: newTestApp(t), call: newFakeCall(), audio: &fakeAudio{}, done: make(chan struct{})}
	if fc, ok := clk.(*clocktest.Fake); ok {
		h.clock = fc
	}
	h.eng = NewEngine(Config{
		AccountSID:     "AC00000000000000000000000000000000",
		AuthToken:      "00000000000000000000000000000000",
		Speaker:        fakeSpeaker{},
		Audio:          h.audio,
		Clock:          clk,
		WebhookTimeout: 2 * time.Second,
	})
	t.Cleanup(h.eng.Close)
	return h
}

func (h *harness) start(app App) {
	info := CallInfo{SID: "CA00000000000000000000000000000001", From: "+15550001111", To: "+15550001000"}
	go func() {
		defer close(h.done)
		h.eng.Run(context.Background(), info, h.call, app)
	}()
}

func (h *harness) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("engine did not finish; call events %v", h.call.history())
	}
}

func TestSayPlayPauseHangup(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/voice", `<Response><Say>hello</Say><Play loop="2">/a.wav</Play><Pause length="1"/><Hangup/><Say>never</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	if got, want := h.call.history(), []string{"ringing", "answer", "hangup"}; !slices.Equal(got, want) {
		t.Errorf("call events %v, want %v", got, want)
	}
	if got, want := h.call.leg.Plays(), []int{400, 16000}; !slices.Equal(got, want) {
		t.Errorf("played %v samples per Play, want %v (Say 'hello', then 2 loops of 1 s)", got, want)
	}
	if len(h.audio.urls) != 1 || h.audio.urls[0] != h.app.url("/a.wav") {
		t.Errorf("media fetched %v, want the relative URL resolved once", h.audio.urls)
	}
	r := h.app.requests("/voice")
	if len(r) != 1 || r[0].form.Get("CallStatus") != "ringing" || r[0].form.Get("Direction") != "inbound" {
		t.Errorf("initial request %v", r)
	}
}

func TestEndOfDocumentHangsUp(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/voice", `<Response/>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	if got, want := h.call.history(), []string{"ringing", "answer", "hangup"}; !slices.Equal(got, want) {
		t.Errorf("call events %v, want %v (an empty Response answers and hangs up)", got, want)
	}
}

func TestRejectFirstIsNeverAnswered(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`<Response><Reject reason="busy"/></Response>`, "reject-busy"},
		{`<Response><Reject/></Response>`, "reject"},
	} {
		h := newHarness(t, nil)
		h.app.set("/voice", c.doc)
		h.start(App{VoiceURL: h.app.url("/voice")})
		h.wait(t)
		if got := h.call.history(); !slices.Equal(got, []string{"ringing", c.want}) {
			t.Errorf("%s: call events %v", c.doc, got)
		}
	}
}

func TestRejectLaterJustHangsUp(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/voice", `<Response><Say>hi</Say><Reject reason="busy"/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	h.wait(t)
	if got := h.call.history(); !slices.Equal(got, []string{"ringing", "answer", "hangup"}) {
		t.Errorf("call events %v", got)
	}
}

func TestPauseFirstDelaysAnswer(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, clock)
	h.app.set("/voice", `<Response><Pause length="3"/><Say>hi</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	clock.WaitTimer(t, 3*time.Second)
	if slices.Contains(h.call.history(), "answer") {
		t.Fatalf("answered before the leading Pause ended")
	}
	clock.Advance(3 * time.Second)
	h.wait(t)
	if got := h.call.history(); !slices.Equal(got, []string{"ringing", "answer", "hangup"}) {
		t.Errorf("call events %v", got)
	}
}

func TestRedirectAndRelativeURLs(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/app/voice", `<Response><Redirect method="GET">next</Redirect><Say>never</Say></Response>`)
	h.app.set("/app/next", `<Response><Say>second</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/app/voice")})
	h.wait(t)
	if n := len(h.app.requests("/app/next")); n != 1 {
		t.Fatalf("redirect target requested %d times", n)
	}
	if got := h.call.leg.Plays(); !slices.Equal(got, []int{480}) {
		t.Errorf("played %v, want only the second document's Say", got)
	}
}

func TestFallbackOnBadDocument(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/voice", `<Response><Say>unclosed</Response>`)
	h.app.set("/fallback", `<Response><Say>fallback</Say></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice"), FallbackURL: h.app.url("/fallback")})
	h.wait(t)
	fb := h.app.requests("/fallback")
	if len(fb) != 1 {
		t.Fatalf("fallback requested %d times", len(fb))
	}
	if fb[0].form.Get("ErrorCode") != "12100" || fb[0].form.Get("ErrorUrl") != h.app.url("/voice") {
		t.Errorf("fallback params ErrorCode=%q ErrorUrl=%q", fb[0].form.Get("ErrorCode"), fb[0].form.Get("ErrorUrl"))
	}
	if got := h.call.leg.Plays(); !slices.Equal(got, []int{640}) {
		t.Errorf("played %v, want the fallback's Say", got)
	}
}

func TestApplicationErrorWithoutFallback(t *testing.T) {
	for _, doc := range []string{`<Response><Say>unclosed</Response>`, `<Response><Bogus/></Response>`, `<response/>`} {
		h := newHarness(t, nil)
		h.app.set("/voice", doc)
		h.start(App{VoiceURL: h.app.url("/voice")})
		h.wait(t)
		if got := h.call.history(); !slices.Equal(got, []string{"ringing", "answer", "hangup"}) {
			t.Errorf("%s: call events %v", doc, got)
		}
		if got := h.call.leg.Plays(); len(got) != 1 || got[0] != 80*len(DefaultErrorMessage) {
			t.Errorf("%s: played %v, want the application-error message", doc, got)
		}
	}
}

func TestWebhookErrorStatusUsesFallback(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/voice", `<Response/>`)
	h.app.status["/voice"] = 500
	h.app.set("/fallback", `<Response><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice"), FallbackURL: h.app.url("/fallback")})
	h.wait(t)
	fb := h.app.requests("/fallback")
	if len(fb) != 1 || fb[0].form.Get("ErrorCode") != "11200" {
		t.Fatalf("fallback requests %v, want one with ErrorCode 11200", fb)
	}
}

func TestCallerHangsUpMidDocument(t *testing.T) {
	h := newHarness(t, nil)
	h.call.leg.BlockPlay(0)
	h.call.leg.SetOnPlay(func(n int) {
		if n == 0 {
			go func() { time.Sleep(20 * time.Millisecond); h.call.leg.Close("remote-bye") }()
		}
	})
	h.app.set("/voice", `<Response><Say>long</Say><Say>never</Say></Response>`)
	h.app.set("/status", `<Response/>`)
	h.start(App{VoiceURL: h.app.url("/voice"), StatusCallback: h.app.url("/status")})
	h.wait(t)
	if got := h.call.leg.Plays(); len(got) != 1 {
		t.Errorf("plays %v: the document went on after the caller hung up", got)
	}
	h.eng.Close()
	st := h.app.requests("/status")
	if len(st) != 1 || st[0].form.Get("CallStatus") != "completed" {
		t.Errorf("status callbacks %v, want one completed", st)
	}
}
