package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"testing"
)

// The test vector of the spec (§3.8), taken from Twilio's documentation.
func TestSignatureTwilioVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
}

// hmacOf computes the signature of an already concatenated string.
func hmacOf(token, s string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestSignatureConcatenation(t *testing.T) {
	const u = "https://example.com/voice?x=1"
	tests := []struct {
		name   string
		params url.Values
		signed string
	}{
		{"GET (no params)", nil, u},
		{"empty params", url.Values{}, u},
		{"sorted by name, byte-wise", url.Values{"b": {"2"}, "B": {"3"}, "a": {"1"}}, u + "B3a1b2"},
		{"repeated name: values sorted", url.Values{"Event": {"ringing", "answered", "completed"}}, u + "EventansweredEventcompletedEventringing"},
		{"repeated name: duplicates once", url.Values{"k": {"v", "v", "a"}}, u + "kakv"},
		{"empty value", url.Values{"Digits": {""}, "To": {"+1"}}, u + "DigitsTo+1"},
		{"UTF-8", url.Values{"SpeechResult": {"café"}}, u + "SpeechResultcafé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := Signature("tok", u, tt.params), hmacOf("tok", tt.signed); got != want {
				t.Fatalf("Signature = %q, want HMAC of %q = %q", got, tt.signed, want)
			}
		})
	}
}

func TestSignatureDoesNotReorderCallerValues(t *testing.T) {
	params := url.Values{"k": {"b", "a"}}
	Signature("tok", "http://h/", params)
	if params["k"][0] != "b" || params["k"][1] != "a" {
		t.Fatalf("Signature modified the caller's params: %v", params)
	}
}

func BenchmarkSignature(b *testing.B) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}, "CallStatus": {"in-progress"},
	}
	b.ReportAllocs()
	for b.Loop() {
		Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	}
}
