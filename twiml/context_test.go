package twiml

import "testing"

func TestAllowed(t *testing.T) {
	verbs := []string{"Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Hangup", "Redirect",
		"Reject", "Refer", "Connect", "Start", "Stop", "Pay", "Echo"}
	tests := []struct {
		ctx     Context
		allowed []string
		code    int
	}{
		{Main, verbs, 0},
		{EnqueueWait, []string{"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}, CodeSchema},
		{QueueURL, []string{"Play", "Say", "Pause", "Redirect"}, CodeSchema},
		{Whisper, []string{"Play", "Say", "Gather", "Hangup", "Pause", "Redirect"}, CodeSchema},
		{ConferenceWait, []string{"Play", "Say", "Pause", "Redirect"}, CodeConfWaitVerb},
	}
	for _, tt := range tests {
		for _, verb := range verbs {
			t.Run(tt.ctx.String()+"/"+verb, func(t *testing.T) {
				r, _ := mustParse(t, []byte("<Response>\n<Say>hi</Say>\n"+elementSnippets[verb]+"\n</Response>"))
				err := r.Allowed(tt.ctx)
				if contains(tt.allowed, verb) {
					if err != nil {
						t.Errorf("Allowed = %v, want nil", err)
					}
					return
				}
				want := tt.code
				if tt.ctx == Whisper && verb == "Dial" {
					want = CodeDialFromDial
				}
				e, ok := err.(*Error)
				if !ok || e.Code != want || e.Line != 3 || e.Verb != verb {
					t.Errorf("Allowed = %v, want code %d on line 3 for <%s>", err, want, verb)
				}
			})
		}
	}
}

func TestAllowedEnqueueWaitGatherInput(t *testing.T) {
	tests := []struct {
		input string
		ok    bool
	}{
		{"dtmf", true}, {"speech", true}, {"dtmf speech", false},
	}
	for _, tt := range tests {
		r, _ := mustParse(t, doc(`<Gather input="`+tt.input+`"><Say>Press 1 to leave a message</Say></Gather>`))
		err := r.Allowed(EnqueueWait)
		if (err == nil) != tt.ok {
			t.Errorf("input %q: Allowed = %v, want ok %t", tt.input, err, tt.ok)
		}
		if err := r.Allowed(Whisper); err != nil {
			t.Errorf("input %q in Whisper: %v", tt.input, err)
		}
	}
}

func TestAllowedWhisperDialMessage(t *testing.T) {
	r, _ := mustParse(t, doc(`<Dial>+15550001111</Dial>`))
	err := r.Allowed(Whisper)
	if got, want := err.Error(), "line 1: <Dial>: 13201 Dial: Cannot Dial out from a Dial Call Segment"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAllowedEmptyAndUnknownContext(t *testing.T) {
	r, _ := mustParse(t, doc(""))
	for _, ctx := range []Context{Main, EnqueueWait, QueueURL, Whisper, ConferenceWait} {
		if err := r.Allowed(ctx); err != nil {
			t.Errorf("%s: empty document: %v", ctx, err)
		}
	}
	if err := r.Allowed(Context(99)); err == nil {
		t.Error("unknown context accepted")
	}
	if s := Context(99).String(); s != "Context(99)" {
		t.Errorf("String = %q", s)
	}
}
