package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/twiml"
)

// stillLeg is a leg with no audio that lasts until its context ends.
type stillLeg struct{}

func (stillLeg) Play(ctx context.Context, _ media.Source) error { <-ctx.Done(); return nil }
func (stillLeg) Record(ctx context.Context, _ media.Sink) error { <-ctx.Done(); return nil }
func (stillLeg) DTMF() <-chan media.Digit                       { return nil }
func (stillLeg) SendDTMF(context.Context, string) error         { return nil }
func (stillLeg) Done() <-chan struct{}                          { return nil }
func (stillLeg) Close(string) error                             { return nil }

// confEnv is an env with a conference manager whose rooms are saved in
// the env's store, and one room "sales" with an agent and a customer.
func confEnv(t *testing.T) (*env, *conference.Room) {
	t.Helper()
	var m *conference.Manager
	e := newEnv(t, func(o *Options) {
		st := o.Store
		m = conference.NewManager(conference.Options{Saved: func(ctx context.Context, c conference.Info) {
			_, _ = st.PutConference(ctx, store.Conference{SID: c.SID, AccountSID: c.AccountSID, FriendlyName: c.FriendlyName,
				Status: c.Status, ReasonEnded: c.ReasonEnded, CallSIDEnding: c.CallSIDEnding, DateCreated: c.Created, DateUpdated: c.Updated})
		}})
		o.Conferences = m
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); m.Close() })
	var room *conference.Room
	for _, who := range []string{"agent", "customer"} {
		p, err := m.Join(testAccount, "sales", conference.JoinOptions{Leg: stillLeg{}, CallSID: "CA" + strings.Repeat("0", 25) + who[:1] + "123456", Label: who, StartConferenceOnEnter: true})
		if err != nil {
			t.Fatal(err)
		}
		room = p.Room()
		go p.Run(ctx)
	}
	return e, room
}

func TestConferencesAndParticipants(t *testing.T) {
	e, room := confEnv(t)
	path := "Conferences/" + room.SID()
	var c conferenceJSON
	decode(t, e.do(http.MethodGet, path+".json", nil), 200, &c)
	if c.FriendlyName != "sales" || c.Status != "in-progress" || c.SubresourceURIs["participants"] == "" {
		t.Errorf("conference %+v", c)
	}
	var list struct {
		Participants []participantJSON `json:"participants"`
	}
	decode(t, e.do(http.MethodGet, path+"/Participants.json", nil), 200, &list)
	if len(list.Participants) != 2 {
		t.Fatalf("%d participants", len(list.Participants))
	}
	var p participantJSON
	decode(t, e.do(http.MethodPost, path+"/Participants/customer.json", url.Values{"Muted": {"true"}}), 200, &p)
	if !p.Muted || p.Label == nil || *p.Label != "customer" {
		t.Errorf("muted participant %+v", p)
	}
	decode(t, e.do(http.MethodGet, path+"/Participants.json", url.Values{"Muted": {"true"}}), 200, &list)
	if len(list.Participants) != 1 {
		t.Errorf("Muted=true lists %d", len(list.Participants))
	}
	expectError(t, e.do(http.MethodPost, path+"/Participants/customer.json", url.Values{"Hold": {"maybe"}}), 400, codeUnsupportedParam)
	expectError(t, e.do(http.MethodGet, path+"/Participants/nobody.json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Conferences/CF00000000000000000000000000000000.json", nil), 404, 20404)

	// Create: an outbound call whose TwiML joins the room.
	form := url.Values{"To": {"sip:bob@127.0.0.1"}, "From": {"+15550001111"}, "Label": {`a "b" & c`}, "Muted": {"true"}, "Beep": {"onEnter"}}
	decode(t, e.do(http.MethodPost, path+"/Participants.json", form), 201, &p)
	if p.Status != "queued" || !strings.HasPrefix(p.CallSID, "CA") || p.ConferenceSID != room.SID() {
		t.Errorf("created participant %+v", p)
	}
	doc, _, err := twiml.Parse([]byte(e.calls.created[len(e.calls.created)-1].TwiML))
	if err != nil {
		t.Fatal(err)
	}
	cf := doc.Verbs[0].(*twiml.Dial).Nouns[0].(*twiml.Conference)
	if cf.Room != "sales" || cf.ParticipantLabel != `a "b" & c` || !cf.Muted || cf.Beep != "onEnter" {
		t.Errorf("the participant's TwiML joins %+v", cf)
	}
	expectError(t, e.do(http.MethodPost, path+"/Participants.json", url.Values{"To": {"sip:x@h"}, "From": {"+1"}, "Beep": {"loud"}}), 400, codeUnsupportedParam)

	// Its recordings: those with its ConferenceSid.
	if _, err := e.store.PutRecording(context.Background(), store.Recording{SID: "RE" + strings.Repeat("1", 32), AccountSID: testAccount,
		ConferenceSID: room.SID(), Status: store.RecordingCompleted, Source: "Conference", Channels: 1}); err != nil {
		t.Fatal(err)
	}
	var recs struct {
		Recordings []struct {
			ConferenceSID string `json:"conference_sid"`
		} `json:"recordings"`
	}
	decode(t, e.do(http.MethodGet, path+"/Recordings.json", nil), 200, &recs)
	if len(recs.Recordings) != 1 || recs.Recordings[0].ConferenceSID != room.SID() {
		t.Errorf("conference recordings %+v", recs)
	}

	// End it: completed, listed from the store.
	decode(t, e.do(http.MethodPost, path+".json", url.Values{"Status": {"completed"}}), 200, &c)
	if c.Status != "completed" || c.ReasonConferenceEnded == nil {
		t.Errorf("ended conference %+v", c)
	}
	var cl struct {
		Conferences []conferenceJSON `json:"conferences"`
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		decode(t, e.do(http.MethodGet, "Conferences.json", url.Values{"Status": {"completed"}, "FriendlyName": {"sales"}}), 200, &cl)
		if len(cl.Conferences) == 1 {
			break
		}
	}
	if len(cl.Conferences) != 1 || cl.Conferences[0].SID != room.SID() {
		t.Errorf("completed conferences %+v", cl.Conferences)
	}
}

// FuzzParticipantTwiML: whatever the name and label, the participant's
// document parses and names the room and label unchanged.
func FuzzParticipantTwiML(f *testing.F) {
	for _, s := range []string{"sales", `a "b" & <c>`, "x\\y", "é ü 中文", "]]>", "\x00\x01"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, label string) {
		doc, _, err := twiml.Parse([]byte(participantTwiML(name, url.Values{"Label": {label}})))
		if err != nil {
			t.Fatalf("name %q label %q: %v", name, label, err)
		}
		cf := doc.Verbs[0].(*twiml.Dial).Nouns[0].(*twiml.Conference)
		if plain(name) && cf.Room != name {
			t.Errorf("room %q, want %q", cf.Room, name)
		}
		if plain(label) && cf.ParticipantLabel != label {
			t.Errorf("label %q, want %q", cf.ParticipantLabel, label)
		}
	})
}

// plain is a string XML keeps as it is: valid UTF-8, printable, no edge
// spaces.
func plain(s string) bool {
	if s == "" || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}
