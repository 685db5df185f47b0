package twiml

import (
	"errors"
	"testing"
)

func TestParseMessaging(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response><Message>Thanks, we got it.</Message>
  <Message to="+15550009999" action="/sms/status" method="get"><Body>New lead</Body><Media>https://example.test/c.png</Media></Message>
  <Say>nope</Say>
  <Redirect method="POST">/sms/next-step</Redirect></Response>`
	r, warns, err := ParseMessaging([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Verbs) != 3 {
		t.Fatalf("%d verbs", len(r.Verbs))
	}
	m1 := r.Verbs[0].(*Message)
	m2 := r.Verbs[1].(*Message)
	rd := r.Verbs[2].(*MessageRedirect)
	if m1.Body != "Thanks, we got it." || m1.Method != "POST" {
		t.Errorf("m1 %+v", m1)
	}
	if m2.To != "+15550009999" || m2.Action != "/sms/status" || m2.Method != "GET" || m2.Body != "New lead" ||
		len(m2.Media) != 1 || m2.Media[0] != "https://example.test/c.png" || m2.Line() != 3 {
		t.Errorf("m2 %+v", m2)
	}
	if rd.URL != "/sms/next-step" || rd.Method != "POST" {
		t.Errorf("redirect %+v", rd)
	}
	if len(warns) != 1 || warns[0].Code != CodeMessageInvalidVerb || warns[0].Line != 4 {
		t.Errorf("warnings %v", warns)
	}
}

func TestParseMessagingErrors(t *testing.T) {
	for doc, code := range map[string]int{
		"":                          CodeParseFailure,
		"OK":                        CodeParseFailure,
		"<Response><Message>":       CodeParseFailure,
		"<Reply><Message/></Reply>": CodeRootNotResponse,
	} {
		_, _, err := ParseMessaging([]byte(doc))
		var te *Error
		if !errors.As(err, &te) || te.Code != code {
			t.Errorf("%q: %v, want code %d", doc, err, code)
		}
	}
	r, warns, err := ParseMessaging([]byte(`<Response/>`))
	if err != nil || len(r.Verbs) != 0 || len(warns) != 0 {
		t.Errorf("empty response: %v %v %v", r, warns, err)
	}
	_, warns, _ = ParseMessaging([]byte(`<Response><Message bogus="1" method="PUT">x<Foo/></Message></Response>`))
	if len(warns) != 3 {
		t.Errorf("warnings %v", warns)
	}
}
