package twiml

import (
	"strings"
	"testing"
)

func TestSSMLEscaping(t *testing.T) {
	v, _ := only(t, `<Say>A &amp; B &lt; C &gt; D<break time="1s"/><sub alias="&quot;Q&quot;&#10;">q</sub></Say>`)
	s := v.(*Say)
	want := `<speak>A &amp; B &lt; C &gt; D<break time="1s"/><sub alias="&quot;Q&quot;&#10;">q</sub></speak>`
	if s.SSML != want {
		t.Errorf("SSML = %q, want %q", s.SSML, want)
	}
	if s.Text != `A & B < C > D "Q"` {
		t.Errorf("Text = %q", s.Text)
	}
	// The SSML must itself be well-formed XML.
	if p := Check([]byte(s.SSML)); len(p) != 1 || p[0].Code != CodeRootNotResponse {
		t.Errorf("SSML does not parse as XML: %v", p)
	}
}

func TestPlainSayHasNoSSML(t *testing.T) {
	v, _ := only(t, `<Say>plain &amp; simple</Say>`)
	if s := v.(*Say); s.SSML != "" {
		t.Errorf("SSML = %q, want empty", s.SSML)
	}
}

func TestElementAndNounAccessors(t *testing.T) {
	r, _ := mustParse(t, doc(`<Connect><Room participantIdentity="alice">r</Room></Connect>`+
		`<Enqueue><Task>{}</Task></Enqueue><Refer><Sip>sip:a@b</Sip></Refer><Pay><Prompt for="x"/></Pay>`))
	el := r.Verbs[0].(*Connect).Target.(*Element)
	if v, ok := el.Attr("participantIdentity"); !ok || v != "alice" || el.Name() != "Room" {
		t.Errorf("Attr = %q %t, Name %q", v, ok, el.Name())
	}
	if _, ok := el.Attr("missing"); ok {
		t.Error("missing attribute found")
	}
	names := []string{r.Verbs[1].(*Enqueue).Task.Name(), r.Verbs[2].(*Refer).Target.Name(), r.Verbs[3].(*Pay).Prompts[0].Name()}
	wantEqual(t, names, []string{"Task", "Sip", "Prompt"})
}

func TestSeverityString(t *testing.T) {
	for s, want := range map[Severity]string{SeverityError: "error", SeverityWarning: "warning", 7: "Severity(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
}

func TestConferenceTrimBooleans(t *testing.T) {
	for trim, want := range map[string]string{"true": TrimSilence, "false": DoNotTrim, "do-not-trim": DoNotTrim} {
		v, w := only(t, `<Dial><Conference trim="`+trim+`">r</Conference></Dial>`)
		wantCodes(t, w)
		if got := v.(*Dial).Nouns[0].(*Conference).Trim; got != want {
			t.Errorf("trim=%q: got %q, want %q", trim, got, want)
		}
	}
}

func TestSipURIChecks(t *testing.T) {
	for _, tt := range []struct {
		uri  string
		warn bool
	}{
		{"sip:a@b", false}, {"SIPS:a@b", false}, {"", true}, {"tel:+1555", true},
		{"sip:" + strings.Repeat("a", 260) + "@b", true},
	} {
		_, w := only(t, `<Dial><Sip>`+tt.uri+`</Sip></Dial>`)
		if (len(w) == 1) != tt.warn {
			t.Errorf("%q: warnings %v, want warning %t", tt.uri, w, tt.warn)
		}
	}
}

func TestDeclaredEncoding(t *testing.T) {
	tests := map[string]string{
		`<?xml version="1.0"?>`:                     "",
		`<?xml version="1.0" encoding='latin1'?>`:   "latin1",
		`<?xml version="1.0" encoding = "UTF-8" ?>`: "UTF-8",
		`<?xml version="1.0" encoding=UTF-8?>`:      "",
		`<?xml version="1.0" encoding="UTF-8`:       "",
		`<Response/>`:                               "",
	}
	for in, want := range tests {
		if got := declaredEncoding([]byte(in)); got != want {
			t.Errorf("declaredEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}
