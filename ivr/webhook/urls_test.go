package webhook

import (
	"testing"
	"time"
)

func TestResolveURL(t *testing.T) {
	const doc = "https://app.example.com/ivr/menu.xml?lang=en#ct=1000"
	tests := []struct {
		base, ref, want string
		code            int
	}{
		{doc, "handle-key", "https://app.example.com/ivr/handle-key", 0},
		{doc, "/root", "https://app.example.com/root", 0},
		{doc, "../up?x=1", "https://app.example.com/up?x=1", 0},
		{doc, "?page=2", "https://app.example.com/ivr/menu.xml?page=2", 0},
		{doc, "//other.example.net/a", "https://other.example.net/a", 0},
		{doc, "  next  ", "https://app.example.com/ivr/next", 0},
		{doc, "next#rt=2000", "https://app.example.com/ivr/next#rt=2000", 0},
		{doc, "", "https://app.example.com/ivr/menu.xml?lang=en", 0},
		{doc, "http://abs.example.org/x?y=1", "http://abs.example.org/x?y=1", 0},
		{"", "http://abs.example.org/x", "http://abs.example.org/x", 0},
		{"", "relative", "", CodeInvalidURL},
		{"", "/absolute-path", "", CodeInvalidURL},
		{doc, "ftp://example.com/x", "", CodeInvalidURL},
		{doc, "mailto:someone@example.com", "", CodeInvalidURL},
		{doc, "http://[::1", "", CodeInvalidURL},
		{"not a url", "x", "", CodeInvalidURL},
		{"ftp://example.com/dir/", "x", "", CodeInvalidURL},
	}
	for _, tt := range tests {
		got, err := ResolveURL(tt.base, tt.ref)
		if tt.code != 0 {
			if err == nil {
				t.Errorf("ResolveURL(%q, %q) = %q, want error %d", tt.base, tt.ref, got, tt.code)
				continue
			}
			wantCode(t, err, tt.code)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	def := defaultOverrides(15 * time.Second)
	tests := []struct {
		fragment string
		want     overrides
		problems int
	}{
		{"", def, 0},
		{"section-2", def, 0},
		{"ct=1000&rt=2000&tt=3000&rc=2&rp=4xx,5xx", overrides{time.Second, 2 * time.Second, 3 * time.Second, 2, retry4xx | retry5xx}, 0},
		{"tt=3000", overrides{5 * time.Second, 3 * time.Second, 3 * time.Second, 1, retryConnect}, 0},
		{"rt=20000&tt=3000", overrides{5 * time.Second, 3 * time.Second, 3 * time.Second, 1, retryConnect}, 0},
		{"rc=0&rp=all", overrides{5 * time.Second, 15 * time.Second, 15 * time.Second, 0, retryAll}, 0},
		{"rc=99", overrides{5 * time.Second, 15 * time.Second, 15 * time.Second, maxRetries, retryConnect}, 0},
		{"ct=abc&rt=-5&rc=x&rp=sometimes", def, 4},
		{"e=ashburn&sni=n", def, 0},
	}
	for _, tt := range tests {
		got, problems := parseOverrides(tt.fragment, def)
		if got != tt.want || len(problems) != tt.problems {
			t.Errorf("parseOverrides(%q) = %+v, %q; want %+v with %d problems", tt.fragment, got, problems, tt.want, tt.problems)
		}
	}
}

func TestSniffKind(t *testing.T) {
	tests := []struct {
		body string
		want Kind
	}{
		{"<Response/>", TwiML},
		{"\n\t <Response/>", TwiML},
		{"\xef\xbb\xbf<Response/>", TwiML},
		{`<?xml version="1.0"?><Response/>`, TwiML},
		{"<?xml version=\"1.0\"?>\r\n<!-- c --><Response/>", TwiML},
		{`<?xml version="1.0"?>`, 0},
		{`<?xml version="1.0"`, 0},
		{"Hello", 0},
		{"RIFF....WAVE", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := sniffKind([]byte(tt.body)); got != tt.want {
			t.Errorf("sniffKind(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
