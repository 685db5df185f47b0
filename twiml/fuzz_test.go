package twiml

import (
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	"",
	"<Response/>",
	ivrDocument,
	`<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>caf` + "\xe9" + `</Say></Response>`,
	"\xEF\xBB\xBF<Response><Hangup/></Response>",
	`<Response><Say voice="Polly.Amy">Hi <break time="1s"/><sub alias="x">y</sub><p>z</p></Say></Response>`,
	`<Response><Gather finishOnKey="" numDigits="0" input="speech,dtmf" speechTimeout="auto"><Play digits="1"/><Dial/></Gather></Response>`,
	`<Response><Dial record="true"><Number sendDigits="ww1">+1</Number><Client><Identity>a</Identity><Parameter name="a" value="b"/></Client><Sip><Uri>sip:a@b</Uri><Headers><Header name="X" value="1"/></Headers></Sip><Conference waitUrl="">r</Conference></Dial></Response>`,
	`<Response><Enqueue waitUrl=""><Task priority="x">{}</Task></Enqueue><Leave/><Refer><Sip>sip:a@b</Sip></Refer></Response>`,
	`<Response><Connect><ConversationRelay url="wss://x"><Language code="en"/></ConversationRelay></Connect><Start><Stream url="wss://x"><Parameter name="a" value="b"/></Stream><Recording/></Start><Stop><Stream name="x"/></Stop></Response>`,
	`<Response><Pay><Prompt for="x"><Say>a</Say></Prompt><Parameter name="a" value="b"/></Pay><Echo/><Sms>x</Sms></Response>`,
	"<Response>\n<Say>a & b</Say>\n</Response>",
	"<Response><!DOCTYPE x></Response>",
	`<Response><Record maxLength="99999999999999999999" timeout="-0" transcribe="TRUE"/></Response>`,
	`<Response><x:y xmlns:x="u" x:a="1"/></Response>`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, warnings, err := Parse(data)
		problems := Check(data)
		errs := 0
		for _, p := range problems {
			if p.Severity == SeverityError {
				errs++
			}
			if p.Code == 0 || p.Line < 0 || p.Message == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == 0 {
				t.Fatalf("error %v is not a coded *Error", err)
			}
			if resp != nil {
				t.Fatalf("Response alongside error %v", err)
			}
			if errs == 0 {
				t.Fatalf("Parse failed (%v) but Check found no error", err)
			}
			return
		}
		if errs != 0 || len(problems) != len(warnings) {
			t.Fatalf("Parse ok with %d warnings, Check: %v", len(warnings), problems)
		}
		if resp == nil {
			t.Fatal("nil Response without error")
		}
		for _, v := range resp.Verbs {
			checkLines(t, v)
		}
		for _, ctx := range []Context{Main, EnqueueWait, QueueURL, Whisper, ConferenceWait} {
			_ = resp.Allowed(ctx)
		}
	})
}

// checkLines fails unless v and everything nested in it has a line >= 1.
func checkLines(t *testing.T, v Noun) {
	t.Helper()
	if v == nil {
		return
	}
	if v.Line() < 1 {
		t.Fatalf("<%s> has line %d", v.Name(), v.Line())
	}
	switch x := v.(type) {
	case *Gather:
		for _, k := range x.Children {
			checkLines(t, k)
		}
	case *Dial:
		for _, k := range x.Nouns {
			checkLines(t, k)
		}
	case *Enqueue:
		if x.Task != nil {
			checkLines(t, x.Task)
		}
	case *Refer:
		if x.Target != nil {
			checkLines(t, x.Target)
		}
	case *Connect:
		checkLines(t, x.Target)
	case *Start:
		for _, k := range x.Features {
			checkLines(t, k)
		}
	case *Stop:
		for _, k := range x.Features {
			checkLines(t, k)
		}
	case *Pay:
		for _, p := range x.Prompts {
			checkLines(t, p)
			for _, k := range p.Children {
				checkLines(t, k)
			}
		}
	case *Element:
		for _, k := range x.Children {
			checkLines(t, k)
		}
	}
}
