package ivr

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conference"
)

func TestConferenceAudioRendersTwiML(t *testing.T) {
	h := newHarness(t, nil)
	h.app.set("/hold", `<Response><Play loop="2">/m.wav</Play><Say>hi</Say><Pause length="1"/></Response>`)
	pcm, err := h.eng.ConferenceAudio(context.Background(), h.app.url("/hold"), "POST")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*8000 + 80*2 + 8000; len(pcm) != want { // fakeAudio: 1 s; fakeSpeaker: 10 ms a character
		t.Errorf("%d samples, want %d", len(pcm), want)
	}
	h.app.set("/bad", `<Response><Dial>+15550001111</Dial></Response>`)
	var ve *verbError
	if _, err := h.eng.ConferenceAudio(context.Background(), h.app.url("/bad"), "POST"); !errors.As(err, &ve) || ve.code != 13238 {
		t.Errorf("a <Dial> in a hold document: %v, want 13238", err)
	}
	pcm, err = h.eng.ConferenceAudio(context.Background(), "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical", "POST")
	if err != nil || len(pcm) != len(holdMusic()) {
		t.Errorf("Twilio's default hold music: %d samples, %v", len(pcm), err)
	}
}

// TestDialConferenceJoinsAndActs: the call joins the room; when the room
// ends the Dial's action gets DialCallStatus=answered and the
// ConferenceSid.
func TestDialConferenceJoinsAndActs(t *testing.T) {
	h := newHarness(t, nil)
	rooms := conference.NewManager(conference.Options{})
	defer rooms.Close()
	h.eng.cfg.Services = []any{rooms}
	h.app.set("/voice", `<Response><Dial action="/after"><Conference beep="false" participantLabel="me">support</Conference></Dial></Response>`)
	h.app.set("/after", `<Response><Hangup/></Response>`)
	h.start(App{VoiceURL: h.app.url("/voice")})
	var room *conference.Room
	for deadline := time.Now().Add(5 * time.Second); room == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		room, _ = rooms.LiveRoom(h.eng.cfg.AccountSID, "support")
	}
	if room == nil {
		t.Fatal("the call never joined the room")
	}
	if _, err := room.Participant("me"); err != nil {
		t.Fatalf("participant by label: %v", err)
	}
	if err := room.End("test", ""); err != nil {
		t.Fatal(err)
	}
	h.wait(t)
	after := h.app.requests("/after")
	if len(after) != 1 || after[0].form.Get("DialCallStatus") != "answered" || after[0].form.Get("ConferenceSid") != room.SID() {
		t.Fatalf("action requests %+v", after)
	}
}
