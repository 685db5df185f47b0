package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/store"
	"github.com/voxgate/voxgate/twiml"
)

// recConfEnv is confEnv whose rooms record into the env's recordings
// directory and store, as the gateway wires them.
func recConfEnv(t *testing.T) (*env, *conference.Room) {
	t.Helper()
	var m *conference.Manager
	e := newEnv(t, func(o *Options) {
		st := o.Store
		m = conference.NewManager(conference.Options{
			RecordingsDir: o.RecordingsDir,
			RecordingSaved: func(ctx context.Context, r conference.Recording) {
				_, _ = st.PutRecording(ctx, store.Recording{SID: r.SID, AccountSID: r.AccountSID, CallSID: r.CallSID,
					ConferenceSID: r.ConferenceSID, Status: store.RecordingStatus(r.Status), Source: r.Source, Channels: r.Channels,
					Duration: int(r.Duration / time.Second), StartTime: r.Start, Path: r.Path})
			},
		})
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

// waitRecording polls the store until the recording has status.
func waitRecording(t *testing.T, e *env, recSID string, status store.RecordingStatus) store.Recording {
	t.Helper()
	var rec store.Recording
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if rec, err = e.store.GetRecording(context.Background(), recSID); err == nil && rec.Status == status {
			return rec
		}
	}
	t.Fatalf("recording %s never %s (last %+v)", recSID, status, rec)
	return rec
}

// TestConferenceRecordings: start a dual recording of a live conference,
// pause, resume and stop it through Twilio's conference recording
// resource, list and fetch it (also from the account's Recordings), and
// delete it.
func TestConferenceRecordings(t *testing.T) {
	e, room := recConfEnv(t)
	path := "Conferences/" + room.SID() + "/Recordings"
	customer := "CA" + strings.Repeat("0", 25) + "c123456"
	var rec recordingJSON
	decode(t, e.do(http.MethodPost, path+".json", url.Values{"RecordingChannels": {"dual"}, "RecordingChannelOne": {"customer"}}), 201, &rec)
	if rec.Status != "in-progress" || rec.Channels != 2 || rec.ConferenceSID == nil || *rec.ConferenceSID != room.SID() ||
		rec.CallSID == nil || *rec.CallSID != customer || rec.Source == nil || *rec.Source != conference.SourceAPI ||
		rec.Duration != "-1" || rec.URI != base+"/"+path+"/"+rec.SID+".json" {
		t.Errorf("started recording %+v", rec)
	}
	expectError(t, e.do(http.MethodPost, path+".json", nil), 400, codeConflict)
	expectError(t, e.do(http.MethodPost, path+".json", url.Values{"RecordingChannels": {"stereo"}}), 400, codeCallsResource)
	waitRecording(t, e, rec.SID, store.RecordingInProgress)

	var list struct {
		Recordings []recordingJSON `json:"recordings"`
	}
	decode(t, e.do(http.MethodGet, path+".json", nil), 200, &list)
	if len(list.Recordings) != 1 || list.Recordings[0].SID != rec.SID || list.Recordings[0].Status != "in-progress" ||
		list.Recordings[0].URI != rec.URI {
		t.Errorf("listed %+v", list.Recordings)
	}
	var got recordingJSON
	decode(t, e.do(http.MethodPost, path+"/Twilio.CURRENT.json", url.Values{"Status": {"paused"}, "PauseBehavior": {"skip"}}), 200, &got)
	if got.Status != "paused" || got.SID != rec.SID {
		t.Errorf("paused %+v", got)
	}
	decode(t, e.do(http.MethodGet, path+"/"+rec.SID+".json", nil), 200, &got)
	if got.Status != "paused" {
		t.Errorf("fetched while paused: %+v", got)
	}
	expectError(t, e.do(http.MethodPost, path+"/"+rec.SID+".json", url.Values{"Status": {"done"}}), 400, codeUnsupportedParam)
	expectError(t, e.do(http.MethodPost, path+"/"+rec.SID+".json", url.Values{"Status": {"paused"}, "PauseBehavior": {"x"}}), 400, codeUnsupportedParam)
	expectError(t, e.do(http.MethodDelete, path+"/"+rec.SID+".json", nil), 400, codeNotInProgress) // stop it first
	decode(t, e.do(http.MethodPost, path+"/"+rec.SID+".json", url.Values{"Status": {"in-progress"}}), 200, &got)
	if got.Status != "in-progress" {
		t.Errorf("resumed %+v", got)
	}
	time.Sleep(100 * time.Millisecond) // a few frames
	decode(t, e.do(http.MethodPost, path+"/"+rec.SID+".json", url.Values{"Status": {"stopped"}}), 200, &got)
	if got.Status != "stopped" || got.Duration == "-1" {
		t.Errorf("stopped %+v", got)
	}
	done := waitRecording(t, e, rec.SID, store.RecordingCompleted)
	if done.Channels != 2 || done.Path == "" {
		t.Errorf("stored %+v", done)
	}
	expectError(t, e.do(http.MethodPost, path+"/"+rec.SID+".json", url.Values{"Status": {"paused"}}), 400, codeNotInProgress)
	expectError(t, e.do(http.MethodPost, path+"/Twilio.CURRENT.json", url.Values{"Status": {"paused"}}), 404, 20404)

	// Fetched here and in the account's Recordings, with its conference.
	decode(t, e.do(http.MethodGet, path+"/"+rec.SID+".json", nil), 200, &got)
	if got.Status != "completed" || got.Channels != 2 || *got.ConferenceSID != room.SID() {
		t.Errorf("fetched %+v", got)
	}
	decode(t, e.do(http.MethodGet, "Recordings.json", url.Values{"ConferenceSid": {room.SID()}}), 200, &list)
	if len(list.Recordings) != 1 || *list.Recordings[0].ConferenceSID != room.SID() {
		t.Errorf("account recordings %+v", list.Recordings)
	}
	expectError(t, e.do(http.MethodGet, "Conferences/CF"+strings.Repeat("0", 32)+"/Recordings/"+rec.SID+".json", nil), 404, 20404)
	res := e.do(http.MethodGet, "Recordings/"+rec.SID+".wav", nil)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("media: %d", res.StatusCode)
	}

	// A new recording after the stop; it ends with the room.
	decode(t, e.do(http.MethodPost, path+".json", url.Values{"Trim": {"trim-silence"}}), 201, &rec)
	if rec.Channels != 1 || *rec.CallSID == customer {
		t.Errorf("second recording %+v", rec)
	}
	time.Sleep(100 * time.Millisecond) // a few frames
	decode(t, e.do(http.MethodPost, "Conferences/"+room.SID()+".json", url.Values{"Status": {"completed"}}), 200, nil)
	waitRecording(t, e, rec.SID, store.RecordingCompleted) // all silence, kept whole
	expectError(t, e.do(http.MethodPost, path+".json", nil), 400, codeNotInProgress)

	res = e.do(http.MethodDelete, path+"/"+done.SID+".json", nil)
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	expectError(t, e.do(http.MethodGet, path+"/"+done.SID+".json", nil), 404, 20404)
}

// TestParticipantConferenceRecord: the Participants API's
// ConferenceRecord, ConferenceTrim, ConferenceRecordingStatusCallback…
// and ConferenceRecordingChannels become the participant's <Conference>
// attributes; Record and RecordingChannels record its own call.
func TestParticipantConferenceRecord(t *testing.T) {
	e, room := confEnv(t)
	form := url.Values{"To": {"sip:bob@127.0.0.1"}, "From": {"+15550001111"}, "ConferenceRecord": {"true"},
		"ConferenceTrim": {"do-not-trim"}, "ConferenceRecordingStatusCallback": {"http://app/rec"},
		"ConferenceRecordingStatusCallbackMethod": {"GET"}, "ConferenceRecordingStatusCallbackEvent": {"in-progress completed"},
		"ConferenceRecordingChannels": {"dual"}, "Record": {"true"}, "RecordingChannels": {"dual"}}
	decode(t, e.do(http.MethodPost, "Conferences/"+room.SID()+"/Participants.json", form), 201, nil)
	created := e.calls.created[len(e.calls.created)-1]
	doc, _, err := twiml.Parse([]byte(created.TwiML))
	if err != nil {
		t.Fatal(err)
	}
	cf := doc.Verbs[0].(*twiml.Dial).Nouns[0].(*twiml.Conference)
	if cf.Record != "record-from-start" || cf.Trim != twiml.DoNotTrim || cf.RecordingChannels != "dual" ||
		cf.RecordingStatusCallback != "http://app/rec" || cf.RecordingStatusCallbackMethod != "GET" ||
		strings.Join(cf.RecordingStatusCallbackEvents, " ") != "in-progress completed" {
		t.Errorf("the participant's TwiML: %s", created.TwiML)
	}
	if !created.Record || created.Recording.Channels != 2 {
		t.Errorf("the participant's call is not recorded dual: %+v", created)
	}
	for _, bad := range []url.Values{{"ConferenceRecord": {"yes"}}, {"ConferenceRecordingChannels": {"3"}}, {"ConferenceTrim": {"x"}}} {
		bad.Set("To", "sip:x@h")
		bad.Set("From", "+1")
		expectError(t, e.do(http.MethodPost, "Conferences/"+room.SID()+"/Participants.json", bad), 400, codeUnsupportedParam)
	}
}
