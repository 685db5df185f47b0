package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/voxgate/voxgate/twiml"
)

// TestDocuments checks every document the bench app serves is TwiML the
// gateway accepts without warnings, and the audio is served as WAV.
func TestDocuments(t *testing.T) {
	srv := httptest.NewServer(newHandler([]byte("RIFF-fake-wav")))
	defer srv.Close()
	paths := []string{"/ivr-done", "/conference", "/dial?to=sip:bridge@127.0.0.1:5070"}
	for p := range documents {
		paths = append(paths, p)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+p, url.Values{"Digits": {"1"}, "CallSid": {"CA1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			doc, warnings, err := twiml.Parse(body)
			if err != nil || len(warnings) > 0 || doc == nil || len(doc.Verbs) == 0 {
				t.Errorf("TwiML %s: err %v, warnings %v", body, err, warnings)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/ivr-done?Digits=%3C%26")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "You pressed &lt;&amp;.") {
		t.Errorf("/ivr-done does not escape the digits: %s", body)
	}
	resp, err = http.Get(srv.URL + "/audio.wav")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "audio/wav" || string(body) != "RIFF-fake-wav" {
		t.Errorf("/audio.wav: %q %q", resp.Header.Get("Content-Type"), body)
	}
}

// TestRunRefusesNonLoopback checks the app only listens on loopback.
func TestRunRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8090", "192.0.2.1:8090", ":8090", "nonsense"} {
		if err := run(addr, "x.wav"); err == nil || !strings.Contains(err.Error(), "listen") {
			t.Errorf("run(%q) = %v, want a refusal", addr, err)
		}
	}
}

// TestConferenceRoom checks callers 1..K share a room and K+1 starts the next.
func TestConferenceRoom(t *testing.T) {
	for _, c := range []struct{ size, from, want string }{
		{"3", "conf1", "size-3-0"},
		{"3", "conf3", "size-3-0"},
		{"3", "conf4", "size-3-1"},
		{"250", "conf251", "size-250-1"},
		{"", "conf7", "size-3-2"},
		{"999", "sip-12", "size-3-3"},
		{"50", "anonymous", "size-50-0"},
	} {
		if got := conferenceRoom(c.size, c.from); got != c.want {
			t.Errorf("conferenceRoom(%q, %q) = %q, want %q", c.size, c.from, got, c.want)
		}
	}
}
