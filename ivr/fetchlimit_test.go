package ivr

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// A <Redirect> loop stops after maxQuietDocuments documents: the fallback
// URL gets ErrorCode 14106 once; when it loops too, the caller hears the
// application-error message and the call is hung up.
func TestRedirectLoopIsCapped(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/loop", `<Response><Redirect>/loop</Redirect></Response>`)
	h.app.set("/fallback", `<Response><Redirect>/loop</Redirect></Response>`)
	h.start(App{VoiceURL: h.app.url("/loop"), FallbackURL: h.app.url("/fallback")})
	h.wait(t)
	loops := len(h.app.requests("/loop"))
	if loops < maxQuietDocuments || loops > 2*maxQuietDocuments {
		t.Errorf("/loop fetched %d times, want between %d and %d", loops, maxQuietDocuments, 2*maxQuietDocuments)
	}
	fb := h.app.requests("/fallback")
	if len(fb) != 1 || fb[0].form.Get("ErrorCode") != "14106" {
		t.Fatalf("fallback requests %v, want one with ErrorCode 14106", fb)
	}
	if got := h.call.history(); !slices.Equal(got, []string{"ringing", "answer", "hangup"}) {
		t.Errorf("call events %v", got)
	}
	if got := h.call.leg.Plays(); len(got) != 1 || got[0] != 80*len(DefaultErrorMessage) {
		t.Errorf("played %v, want the application-error message", got)
	}
}

// Documents that keep the caller for a while are never capped, however
// many there are; quick ones in a row are.
func TestFetchLimitCountsOnlyQuietDocuments(t *testing.T) {
	var l fetchLimit
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * maxQuietDocuments {
		if err := l.next(now); err != nil {
			t.Fatalf("document %d, each a second after the last: %v", i, err)
		}
		l.arrived(now)
		now = now.Add(time.Second)
	}
	var err error
	n := 0
	for ; err == nil && n <= 2*maxQuietDocuments; n++ {
		if err = l.next(now); err == nil {
			l.arrived(now)
			now = now.Add(time.Millisecond)
		}
	}
	var ve *verbError
	if !errors.As(err, &ve) || ve.code != 14106 || n != maxQuietDocuments+1 {
		t.Errorf("quick documents: error %v after %d fetches, want 14106 at fetch %d", err, n, maxQuietDocuments+1)
	}
	if err := l.next(now); err != nil {
		t.Errorf("the fetch after the limit (the fallback): %v", err)
	}
	l.arrived(now)
	for range maxQuietDocuments - 2 {
		now = now.Add(time.Millisecond)
		if err := l.next(now); err != nil {
			t.Fatalf("quick documents after the fallback: %v before the limit", err)
		}
		l.arrived(now)
	}
	for i := range 3 {
		if err := l.next(now); !errors.As(err, &ve) {
			t.Errorf("fetch %d past the second limit: %v, want 14106", i, err)
		}
	}
	if err := l.next(now.Add(time.Second)); err != nil {
		t.Errorf("after a document that kept the caller: %v", err)
	}
}
