package ivr

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestLiveRedirectInterruptsCurrentVerb(t *testing.T) {
	h := newHarness(t, nil)
	h.call.leg.BlockPlay(0) // the first Say plays until interrupted
	h.app.set("/voice", `<Response><Say>long story</Say><Say>never</Say></Response>`)
	h.app.set("/new", `<Response><Say>new</Say><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	if err := h.eng.Redirect("CA00000000000000000000000000000001", h.app.url("/new"), "POST"); err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	r := h.app.requests("/new")
	if len(r) != 1 || r[0].form.Get("CallStatus") != "in-progress" {
		t.Fatalf("redirect target requests %v", r)
	}
	if got := h.call.leg.Plays(); !slices.Equal(got, []int{0, 240}) {
		t.Errorf("plays %v: want the interrupted Say, then only the new document", got)
	}
}

func TestLiveRedirectTwiMLAndHangup(t *testing.T) {
	h := newHarness(t, nil)
	h.call.leg.BlockPlay(0)
	h.app.set("/voice", `<Response><Gather><Say>menu</Say></Gather></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	waitPlays(t, h.call.leg, 1)
	if err := h.eng.RedirectTwiML("CA00000000000000000000000000000001", `<Response><Pause length="30"/></Response>`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := h.eng.Hangup("CA00000000000000000000000000000001"); err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	if got := h.call.history(); !slices.Equal(got, []string{"ringing", "answer", "hangup"}) {
		t.Errorf("call events %v", got)
	}
	if n := len(h.app.requests("/voice")); n != 1 {
		t.Errorf("the interrupted Gather requested its action (%d requests)", n)
	}
	if err := h.eng.Hangup("CA00000000000000000000000000000001"); !errors.Is(err, ErrNoSuchCall) {
		t.Errorf("Hangup of an ended call: %v, want ErrNoSuchCall", err)
	}
}

func TestInlineTwiMLApp(t *testing.T) {
	h := newHarness(t, nil)
	h.start(App{Twiml: `<Response><Say>inline</Say></Response>`})
	h.wait(t)
	if got := h.call.leg.Plays(); !slices.Equal(got, []int{480}) {
		t.Errorf("plays %v", got)
	}
}
