package twiml

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseDocumentErrors(t *testing.T) {
	bom := "\xEF\xBB\xBF"
	tests := []struct {
		name     string
		doc      string
		wantCode int
		wantLine int
	}{
		{"empty body", "", CodeParseFailure, 1},
		{"blank body", " \n\t\n", CodeParseFailure, 3},
		{"space before declaration", ` <?xml version="1.0"?><Response/>`, CodeParseFailure, 1},
		{"newline before declaration", "\n<?xml version=\"1.0\"?>\n<Response/>", CodeParseFailure, 2},
		{"BOM before declaration", bom + `<?xml version="1.0" encoding="UTF-8"?><Response/>`, CodeParseFailure, 1},
		{"BOM and space before declaration", bom + ` <?xml version="1.0"?><Response/>`, CodeParseFailure, 1},
		{"unclosed root", "<Response>\n<Say>hi</Say>\n", CodeParseFailure, 3},
		{"unclosed verb", "<Response>\n<Say>hi\n</Response>", CodeParseFailure, 3},
		{"unescaped ampersand", "<Response>\n<Say>Tom & Jerry</Say></Response>", CodeParseFailure, 2},
		{"HTML entity", "<Response><Say>a&nbsp;b</Say></Response>", CodeParseFailure, 1},
		{"mismatched end tag", "<Response><Say>x</Play></Response>", CodeParseFailure, 1},
		{"stray end tag", "<Response/></Say>", CodeParseFailure, 1},
		{"two roots", "<Response/>\n<Response/>", CodeParseFailure, 2},
		{"text after root", "<Response/>\nhello", CodeParseFailure, 1},
		{"text before root", "hello<Response/>", CodeParseFailure, 1},
		{"repeated attribute", "<Response><Say voice=\"man\" voice=\"woman\">x</Say></Response>", CodeParseFailure, 1},
		{"unquoted attribute", "<Response><Say voice=man>x</Say></Response>", CodeParseFailure, 1},
		{"unsupported encoding", `<?xml version="1.0" encoding="UTF-16"?><Response/>`, CodeParseFailure, 1},
		{"bad XML version", `<?xml version="2.0"?><Response/>`, CodeParseFailure, 1},
		{"DOCTYPE inside root", "<Response>\n<!DOCTYPE x>\n</Response>", CodeParseFailure, 2},
		{"control character", "<Response><Say>a\x01b</Say></Response>", CodeParseFailure, 1},
		{"invalid UTF-8", "<Response><Say>a\xffb</Say></Response>", CodeParseFailure, 1},
		{"root lowercase", "<response><Say>x</Say></response>", CodeRootNotResponse, 1},
		{"root other", "<?xml version=\"1.0\"?>\n<Document/>", CodeRootNotResponse, 2},
		{"TwiML messaging root", "<Message>hi</Message>", CodeRootNotResponse, 1},
		{"too large", "<Response><Say>" + strings.Repeat("a", MaxBodySize) + "</Say></Response>", CodeBodyTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseError(t, []byte(tt.doc))
			if e.Code != tt.wantCode || e.Line != tt.wantLine {
				t.Errorf("got code %d line %d (%v), want code %d line %d", e.Code, e.Line, e, tt.wantCode, tt.wantLine)
			}
			problems := Check([]byte(tt.doc))
			if len(problems) != 1 || problems[0].Code != tt.wantCode || problems[0].Severity != SeverityError {
				t.Errorf("Check = %v, want one error %d", problems, tt.wantCode)
			}
		})
	}
}

func TestParseAcceptedDocuments(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		verbs int
	}{
		{"empty response", "<Response/>", 0},
		{"empty response with end tag", "<Response></Response>", 0},
		{"declaration", `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`, 1},
		{"declaration lowercase utf-8", `<?xml version="1.0" encoding="utf-8"?><Response><Hangup/></Response>`, 1},
		{"declaration utf8", `<?xml version="1.0" encoding="utf8"?><Response><Hangup/></Response>`, 1},
		{"standalone", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Response/>`, 0},
		{"BOM without declaration", "\xEF\xBB\xBF<Response><Hangup/></Response>", 1},
		{"legacy version attribute", `<Response version="2008-08-01"><Hangup/></Response>`, 1},
		{"namespace declaration", `<Response xmlns="http://www.twilio.com/twiml"><Hangup/></Response>`, 1},
		{"comments everywhere", "<!-- a --><Response><!-- b --><Say>x<!-- c -->y</Say><!-- d --></Response><!-- e -->", 1},
		{"DOCTYPE before root", "<?xml version=\"1.0\"?>\n<!DOCTYPE Response>\n<Response/>", 0},
		{"whitespace after root", "<Response/>\n\n  \n", 0},
		{"CRLF line endings", "<?xml version=\"1.0\"?>\r\n<Response>\r\n<Hangup/>\r\n</Response>\r\n", 1},
		{"processing instruction", "<Response><?php echo 1 ?><Hangup/></Response>", 1},
		{"limit exactly", "<Response><Say>" + strings.Repeat("a", MaxBodySize-len("<Response><Say></Say></Response>")) + "</Say></Response>", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := mustParse(t, []byte(tt.doc))
			if len(r.Verbs) != tt.verbs {
				t.Errorf("got %d verbs, want %d", len(r.Verbs), tt.verbs)
			}
			if tt.name != "limit exactly" {
				wantCodes(t, w)
			}
		})
	}
}

func TestParseSingleByteCharsets(t *testing.T) {
	tests := []struct {
		encoding string
		body     []byte
		want     string
	}{
		{"ISO-8859-1", []byte("Caf\xe9 cr\xe8me"), "Café crème"},
		{"latin1", []byte("\xc0 bient\xf4t"), "À bientôt"},
		{"windows-1252", []byte("\x93quoted\x94 \x80"), "“quoted” €"},
		{"US-ASCII", []byte("plain"), "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.encoding, func(t *testing.T) {
			var b bytes.Buffer
			b.WriteString(`<?xml version="1.0" encoding="` + tt.encoding + `"?>` + "\n<Response>\n<Say>")
			b.Write(tt.body)
			b.WriteString("</Say>\n</Response>")
			r, _ := mustParse(t, b.Bytes())
			s := r.Verbs[0].(*Say)
			if s.Text != tt.want || s.Line() != 3 {
				t.Errorf("got %q on line %d, want %q on line 3", s.Text, s.Line(), tt.want)
			}
		})
	}
}

func TestLineNumbers(t *testing.T) {
	src := `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment
     spanning lines -->
<Response>
  <Say
     voice="alice">Hello</Say><Pause/>
  <Gather numDigits="1"
          action="/menu">
    <Say><![CDATA[multi
line]]></Say>

    <Play>http://x/y.wav</Play>
  </Gather>
  <Dial>
    <Number>+15550001111</Number><Client>bob</Client>
    <Sip>
      sip:a@b
    </Sip>
  </Dial>
  <Redirect>/next</Redirect>
</Response>
`
	r, w := mustParse(t, []byte(src))
	wantCodes(t, w)
	got := []int{}
	for _, v := range r.Verbs {
		got = append(got, v.Line())
	}
	wantEqual(t, got, []int{5, 6, 7, 14, 20})
	g := r.Verbs[2].(*Gather)
	wantEqual(t, []int{g.Children[0].Line(), g.Children[1].Line()}, []int{9, 12})
	if s := g.Children[0].(*Say); s.Text != "multi line" {
		t.Errorf("CDATA text = %q", s.Text)
	}
	d := r.Verbs[3].(*Dial)
	wantEqual(t, []int{d.Nouns[0].Line(), d.Nouns[1].Line(), d.Nouns[2].Line()}, []int{15, 15, 16})
	if uri := d.Nouns[2].(*Sip).URI; uri != "sip:a@b" {
		t.Errorf("Sip URI = %q, want trimmed", uri)
	}
}

func TestProblemLines(t *testing.T) {
	src := "<Response>\n" + // 1
		"  <Say loop=\"x\">hi</Say>\n" + // 2: 13510
		"  <Gather>\n" + // 3
		"    <Say>press</Say>\n" + // 4
		"    <Dial>123</Dial>\n" + // 5: 13320
		"  </Gather>\n" + // 6
		"  <Pause length=\"0\"/>\n" + // 7: 13910
		"  <Hangup bogus=\"1\"/>\n" + // 8: 12200 warning
		"  <Sms>hi</Sms>\n" + // 9: 12200 error
		"</Response>\n"
	want := []Problem{
		{SeverityWarning, CodeSayLoop, 2, "Say", ""},
		{SeverityError, CodeGatherNested, 5, "Gather", ""},
		{SeverityWarning, CodePauseLength, 7, "Pause", ""},
		{SeverityWarning, CodeSchema, 8, "Hangup", ""},
		{SeverityError, CodeSchema, 9, "Response", ""},
	}
	got := Check([]byte(src))
	if len(got) != len(want) {
		t.Fatalf("Check returned %d problems, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		g.Message = ""
		if g != want[i] {
			t.Errorf("problem %d = %+v, want %+v (%s)", i, got[i], want[i], got[i].Message)
		}
	}

	_, warnings, err := Parse([]byte(src))
	e, ok := err.(*Error)
	if !ok || e.Code != CodeGatherNested || e.Line != 5 || e.Verb != "Gather" {
		t.Fatalf("Parse error = %v, want the first error (13320 on line 5)", err)
	}
	wantCodes(t, warnings, CodeSayLoop, CodePauseLength, CodeSchema)
}

func TestErrorStrings(t *testing.T) {
	e := parseError(t, []byte("<Response>\n\n<Gather>\n<Dial>1</Dial></Gather></Response>"))
	if got, want := e.Error(), "line 4: <Gather>: 13320 Gather: Invalid nested verb <Dial>"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	big := parseError(t, bytes.Repeat([]byte(" "), MaxBodySize+1))
	if got := big.Error(); !strings.HasPrefix(got, "11750 ") {
		t.Errorf("Error() = %q, want it to start with the code", got)
	}
	p := Check([]byte("<Response><Pause length=\"x\"/></Response>"))[0]
	if got := p.String(); !strings.HasPrefix(got, "warning line 1: <Pause>: 13910 Pause: Invalid length value") {
		t.Errorf("Problem.String() = %q", got)
	}
	if got := p.asWarning().String(); !strings.HasPrefix(got, "line 1: <Pause>: 13910 ") {
		t.Errorf("Warning.String() = %q", got)
	}
}

func TestUnknownVerbsAreErrors(t *testing.T) {
	tests := []struct {
		name     string
		verbs    string
		wantCode int
		wantMsg  string
	}{
		{"lowercase say", "<say>x</say>", CodeSchema, "did you mean <Say>?"},
		{"uppercase DIAL", "<DIAL>1</DIAL>", CodeSchema, "did you mean <Dial>?"},
		{"invented verb", "<Speak>x</Speak>", CodeSchema, "unknown element <Speak>"},
		{"noun as verb", "<Number>+1555</Number>", CodeSchema, "is a noun"},
		{"sms", "<Sms>hi</Sms>", CodeSchema, "legacy verb"},
		{"prompt outside pay", "<Prompt><Say>x</Say></Prompt>", CodeSchema, "only allowed inside <Pay>"},
		{"namespaced", "<x:Say xmlns:x=\"urn:x\">x</x:Say>", CodeSchema, "unknown element <x:Say>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseError(t, doc("<Say>before</Say>"+tt.verbs+"<Hangup/>"))
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got %v, want code %d containing %q", e, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestUnknownAttributesWarn(t *testing.T) {
	v, w := only(t, `<Gather numdigits="1" foo="bar" xmlns:x="urn:x"><Say>x</Say></Gather>`)
	g := v.(*Gather)
	if g.NumDigits != 0 {
		t.Errorf("misspelt numdigits applied: %d", g.NumDigits)
	}
	wantCodes(t, w, CodeSchema, CodeSchema)
	if !strings.Contains(w[0].Message, "did you mean numDigits?") || w[0].Verb != "Gather" || w[0].Line != 1 {
		t.Errorf("warning = %+v, want a case hint", w[0])
	}
	if !strings.Contains(w[1].Message, `"foo"`) {
		t.Errorf("warning = %+v, want it to name foo", w[1])
	}
}

func TestStrayTextWarns(t *testing.T) {
	r, w := mustParse(t, doc("hello<Hangup>bye</Hangup><Gather>press<Say>x</Say></Gather>"))
	if len(r.Verbs) != 2 {
		t.Fatalf("got %d verbs", len(r.Verbs))
	}
	wantCodes(t, w, CodeSchema, CodeSchema, CodeSchema)
}

func TestCheckValidDocumentHasNoProblems(t *testing.T) {
	if p := Check(doc("<Say>Hello</Say><Hangup/>")); len(p) != 0 {
		t.Errorf("Check = %v, want none", p)
	}
}

func TestParseAgreesWithCheck(t *testing.T) {
	for _, src := range []string{
		"<Response><Say>x</Say></Response>",
		"<Response><Gather><Dial/></Gather></Response>",
		"<Response><Pause length=\"x\"/></Response>",
		"<Response>",
	} {
		_, warnings, err := Parse([]byte(src))
		var errs, warns int
		for _, p := range Check([]byte(src)) {
			if p.Severity == SeverityError {
				errs++
			} else {
				warns++
			}
		}
		if (err != nil) != (errs > 0) || warns != len(warnings) {
			t.Errorf("%s: Parse err=%v warnings=%d, Check errors=%d warnings=%d", src, err, len(warnings), errs, warns)
		}
	}
}
