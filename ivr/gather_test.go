package ivr

import (
	"fmt"
	"github.com/voxgate/voxgate/media/mediatest"
	"slices"
	"testing"
	"time"

	"github.com/voxgate/voxgate/clock/clocktest"
)

// gatherDoc is a menu whose prompt blocks (the caller is listening) until
// a key arrives.
const gatherDoc = `<Response><Gather %s><Say>menu</Say><Say>more</Say></Gather><Say>nothing</Say></Response>`

func startGather(t *testing.T, attrs string, blockPrompt bool) (*harness, *clocktest.Fake) {
	t.Helper()
	clock := newFakeClock()
	h := newHarness(t, clock)
	if blockPrompt {
		h.call.leg.BlockPlay(0)
	}
	h.app.set("/voice", fmt.Sprintf(gatherDoc, attrs))
	h.app.set("/action", `<Response><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	return h, clock
}

func waitPlays(t *testing.T, l *mediatest.Leg, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(l.Plays()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d plays started, want %d", len(l.Plays()), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestGatherBargeInNumDigits(t *testing.T) {
	h, _ := startGather(t, `numDigits="2" action="/action"`, true)
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Press("42")
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("Digits") != "42" || a[0].form.Get("FinishedOnKey") != "" {
		t.Fatalf("action requests %v, want Digits=42 FinishedOnKey=''", a)
	}
	if got := h.call.leg.Plays(); len(got) != 1 {
		t.Errorf("plays %v: barge-in must stop all remaining prompts", got)
	}
}

func TestGatherFinishOnKey(t *testing.T) {
	h, _ := startGather(t, `action="/action"`, true)
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Press("12#")
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("Digits") != "12" || a[0].form.Get("FinishedOnKey") != "#" {
		t.Fatalf("action requests %v, want Digits=12 FinishedOnKey=#", a)
	}
}

func TestGatherEmptyFinishOnKeyKeepsHash(t *testing.T) {
	h, clock := startGather(t, `finishOnKey="" timeout="3" action="/action"`, true)
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Press("1#*")
	clock.WaitTimer(t, 3*time.Second)
	// One timer per key; wait until the last key has been taken.
	time.Sleep(20 * time.Millisecond)
	clock.Advance(3 * time.Second)
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("Digits") != "1#*" {
		t.Fatalf("action requests %v, want Digits=1#*", a)
	}
}

func TestGatherTimeoutStartsAfterPromptsThenNextVerb(t *testing.T) {
	h, clock := startGather(t, `timeout="4" action="/action"`, false)
	// Prompts finish instantly; then the 4 s timeout runs.
	clock.WaitTimer(t, 4*time.Second)
	if got := h.call.leg.Plays(); len(got) != 2 {
		t.Fatalf("timeout started before the prompts ended: plays %v", got)
	}
	clock.Advance(4 * time.Second)
	h.wait(t)
	if n := len(h.app.requests("/action")); n != 0 {
		t.Errorf("action requested %d times on empty input", n)
	}
	if got := h.call.leg.Plays(); len(got) != 3 {
		t.Errorf("plays %v: empty input must fall through to the next verb", got)
	}
}

func TestGatherInterDigitTimeoutRestarts(t *testing.T) {
	h, clock := startGather(t, `timeout="5" action="/action"`, false)
	clock.WaitTimer(t, 5*time.Second)
	clock.Advance(4 * time.Second)
	h.call.leg.Press("7")
	clock.WaitTimer(t, 5*time.Second) // restarted by the key
	clock.Advance(4 * time.Second)
	if n := len(h.app.requests("/action")); n != 0 {
		t.Fatalf("gather ended 4 s after a key with timeout 5")
	}
	clock.Advance(time.Second)
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("Digits") != "7" {
		t.Fatalf("action requests %v, want Digits=7", a)
	}
}

func TestGatherActionOnEmptyResult(t *testing.T) {
	h, clock := startGather(t, `timeout="2" action="/action" actionOnEmptyResult="true"`, false)
	clock.WaitTimer(t, 2*time.Second)
	clock.Advance(2 * time.Second)
	h.wait(t)
	a := h.app.requests("/action")
	if len(a) != 1 || a[0].form.Get("Digits") != "" {
		t.Fatalf("action requests %v, want one with empty Digits", a)
	}
}

func TestGatherFirstKeyFinishIsEmpty(t *testing.T) {
	h, _ := startGather(t, `action="/action"`, true)
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Press("#")
	h.wait(t)
	if n := len(h.app.requests("/action")); n != 0 {
		t.Errorf("action requested on an empty (finish key only) input")
	}
}

func TestGatherNoTypeAhead(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, clock)
	h.call.leg.SetOnPlay(func(n int) {
		if n == 0 {
			h.call.leg.Press("9") // pressed during the Say before the Gather
		}
	})
	h.app.set("/voice", `<Response><Say>intro</Say><Gather timeout="3" action="/action"/><Say>nothing</Say></Response>`)
	h.app.set("/action", `<Response/>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	clock.WaitTimer(t, 3*time.Second)
	clock.Advance(3 * time.Second)
	h.wait(t)
	if n := len(h.app.requests("/action")); n != 0 {
		t.Errorf("a key pressed before the Gather was counted")
	}
}

func TestGatherActionDefaultsToCurrentDocument(t *testing.T) {
	h, _ := startGather(t, `numDigits="1"`, true)
	waitPlays(t, h.call.leg, 1)
	h.call.leg.Press("3")
	// The document loops back to itself: hang up the second time round.
	waitPlays(t, h.call.leg, 2)
	h.call.leg.Close("remote-bye")
	h.wait(t)
	r := h.app.requests("/voice")
	if len(r) < 2 || r[1].form.Get("Digits") != "3" {
		t.Fatalf("requests to the document %v, want the second with Digits=3", r)
	}
	if !slices.Contains(h.call.history(), "answer") {
		t.Errorf("never answered")
	}
}
