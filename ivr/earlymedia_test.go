package ivr

import (
	"context"
	"slices"
	"testing"
)

// earlyFakeCall is a fakeCall that can have early media (EarlyMediaCall).
type earlyFakeCall struct{ *fakeCall }

func (c earlyFakeCall) EarlyMedia(ctx context.Context) error { c.log("early-media"); return nil }

// TestDialAnswerOnBridge: with answerOnBridge the caller is not answered
// while the party rings (it used to be answered before the <Dial>); a call
// that can have early media opens it first and is asked for its party's
// early media; both are answered once the party answers.
func TestDialAnswerOnBridge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early bool
		want  []string
	}{
		{"early media", true, []string{"ringing", "early-media", "answer"}},
		{"180 only", false, []string{"ringing", "answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, d := dialHarness(t, `<Response><Dial answerOnBridge="true" action="/after"><Sip>slow</Sip></Dial></Response>`)
			var atAnswer []string
			d.answered = func(string, *fakeCall) { atAnswer = h.call.history() }
			var call Call = h.call
			if tc.early {
				call = earlyFakeCall{h.call}
			}
			go func() {
				defer close(h.done)
				h.eng.Run(context.Background(), CallInfo{SID: "CA00000000000000000000000000000001", From: "+15550001111", To: "+15550001000"}, call, App{VoiceURL: h.app.url("/voice")})
			}()
			child := d.call("slow")
			if child == nil {
				t.Fatal("never dialled")
			}
			child.leg.Close("remote-bye")
			h.wait(t)
			if slices.Contains(atAnswer, "answer") {
				t.Errorf("the caller was answered before the party: %v", atAnswer)
			}
			if got := h.call.history(); len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("caller signalling %v, want it to start %v", got, tc.want)
			}
			d.mu.Lock()
			gotEarly := d.reqs[0].OnEarlyMedia != nil
			d.mu.Unlock()
			if gotEarly != tc.early {
				t.Errorf("DialRequest.OnEarlyMedia set: %v, want %v", gotEarly, tc.early)
			}
		})
	}
}
