package api

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// putRecording stores a completed recording of callSID whose audio is a
// file in the recordings directory, and returns it.
func (e *env) putRecording(callSID string, created time.Time) store.Recording {
	e.t.Helper()
	recSID := sid.New(sid.Recording)
	path := filepath.Join(e.recDir, recSID+".wav")
	if err := os.WriteFile(path, []byte("RIFF-fake-"+recSID), 0o600); err != nil {
		e.t.Fatal(err)
	}
	rec, err := e.store.PutRecording(context.Background(), store.Recording{
		SID: recSID, AccountSID: testAccount, CallSID: callSID, Status: store.RecordingCompleted,
		Source: "RecordVerb", Duration: 7, StartTime: created, Path: path, DateCreated: created,
	})
	if err != nil {
		e.t.Fatalf("PutRecording: %v", err)
	}
	return rec
}

// recordingList is the Recordings.json page.
type recordingList struct {
	Recordings  []recordingJSON `json:"recordings"`
	NextPageURI *string         `json:"next_page_uri"`
}

func sids(recs []recordingJSON) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.SID)
	}
	return out
}

func TestRecordingsListAndFetch(t *testing.T) {
	e := newEnv(t)
	callA, callB := sid.New(sid.Call), sid.New(sid.Call)
	d1 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	d2 := time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)
	a1 := e.putRecording(callA, d1)
	a2 := e.putRecording(callA, d2)
	b1 := e.putRecording(callB, d2.Add(time.Hour))

	cases := []struct {
		path string
		want []string // newest first
	}{
		{"Recordings.json", []string{b1.SID, a2.SID, a1.SID}},
		{"Recordings.json?CallSid=" + callA, []string{a2.SID, a1.SID}},
		{"Calls/" + callA + "/Recordings.json", []string{a2.SID, a1.SID}},
		{"Calls/" + callB + "/Recordings.json", []string{b1.SID}},
		{"Recordings.json?DateCreated=2025-03-01", []string{a1.SID}},
		{"Recordings.json?DateCreated%3E=2025-03-02", []string{b1.SID, a2.SID}},
		{"Recordings.json?DateCreated%3C=2025-03-01", []string{a1.SID}},
		{"Recordings.json?CallSid=" + callA + "&DateCreated>=2025-03-02", []string{a2.SID}},
	}
	for _, c := range cases {
		var l recordingList
		decode(t, e.do(http.MethodGet, c.path, nil), http.StatusOK, &l)
		if got := sids(l.Recordings); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
	}
	expectError(t, e.do(http.MethodGet, "Calls/CAnope/Recordings.json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Calls/"+callA+"/Recordings.json?CallSid="+callB, nil), 400, 20001)

	var got recordingJSON
	decode(t, e.do(http.MethodGet, "Recordings/"+a1.SID+".json", nil), http.StatusOK, &got)
	want := recordingJSON{
		SID: a1.SID, AccountSID: testAccount, CallSID: &callA, APIVersion: "2010-04-01",
		DateCreated: rfc2822(d1), DateUpdated: got.DateUpdated, StartTime: rfc2822(d1),
		Duration: "7", Channels: 1, Status: "completed", Source: nullable("RecordVerb"), PriceUnit: "USD",
		MediaURL: testPublic + base + "/Recordings/" + a1.SID, URI: base + "/Recordings/" + a1.SID + ".json",
		SubresourceURIs: map[string]string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recording JSON\n%+v\nwant\n%+v", got, want)
	}
	expectError(t, e.do(http.MethodGet, "Recordings/RE"+a1.SID[2:10]+".json", nil), 404, 20404)
	expectError(t, e.do(http.MethodGet, "Recordings/"+sid.New(sid.Recording)+".json", nil), 404, 20404)
}

func TestRecordingMediaURLFromRequestHost(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PublicURL = "" })
	rec := e.putRecording(sid.New(sid.Call), time.Now())
	var got recordingJSON
	decode(t, e.do(http.MethodGet, "Recordings/"+rec.SID+".json", nil), http.StatusOK, &got)
	if got.MediaURL != e.srv.URL+base+"/Recordings/"+rec.SID {
		t.Errorf("media_url %q", got.MediaURL)
	}
}

func TestDeleteRecording(t *testing.T) {
	e := newEnv(t)
	callSID := sid.New(sid.Call)
	rec := e.putRecording(callSID, time.Now())
	keep := e.putRecording(callSID, time.Now())
	resp := e.do(http.MethodDelete, "Recordings/"+rec.SID+".json", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: status %d", resp.StatusCode)
	}
	if _, err := os.Stat(rec.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("audio file still there: %v", err)
	}
	if _, err := os.Stat(keep.Path); err != nil {
		t.Errorf("other recording's file: %v", err)
	}
	// Twilio: a deleted recording is 404, its metadata only on request.
	e.putCall(store.Call{SID: callSID, AccountSID: testAccount, Status: store.CallCompleted})
	var live recordingJSON
	decode(t, e.do(http.MethodGet, "Calls/"+callSID+"/Recordings/"+keep.SID+".json", nil), http.StatusOK, &live)
	for _, path := range []string{"Recordings/" + rec.SID + ".json", "Calls/" + callSID + "/Recordings/" + rec.SID + ".json"} {
		var apiErr struct {
			Code   int `json:"code"`
			Status int `json:"status"`
		}
		decode(t, e.do(http.MethodGet, path, nil), http.StatusNotFound, &apiErr)
		if apiErr.Code != 20404 || apiErr.Status != 404 {
			t.Errorf("GET %s of a deleted recording: %+v, want 20404", path, apiErr)
		}
	}
	var got recordingJSON
	decode(t, e.do(http.MethodGet, "Recordings/"+rec.SID+".json?IncludeSoftDeleted=true", nil), http.StatusOK, &got)
	if got.Status != "deleted" {
		t.Errorf("deleted recording status %q", got.Status)
	}
	var l recordingList
	decode(t, e.do(http.MethodGet, "Recordings.json", nil), http.StatusOK, &l)
	if got := sids(l.Recordings); !reflect.DeepEqual(got, []string{keep.SID}) {
		t.Errorf("list after delete %v", got)
	}
	decode(t, e.do(http.MethodGet, "Recordings.json?IncludeSoftDeleted=true", nil), http.StatusOK, &l)
	if len(l.Recordings) != 2 {
		t.Errorf("IncludeSoftDeleted list has %d recordings, want 2", len(l.Recordings))
	}
	expectError(t, e.do(http.MethodDelete, "Recordings/"+rec.SID+".json", nil), 404, 20404)
	expectError(t, e.request(http.MethodGet, "Recordings/"+rec.SID, nil, false), 404, 20404)
}

func TestRecordingMedia(t *testing.T) {
	e := newEnv(t)
	rec := e.putRecording(sid.New(sid.Call), time.Now())
	// A recording the store does not know, found in RecordingsDir.
	loose := sid.New(sid.Recording)
	if err := os.WriteFile(filepath.Join(e.recDir, loose+".wav"), []byte("loose"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, body string }{
		{"Recordings/" + rec.SID, "RIFF-fake-" + rec.SID},
		{"Recordings/" + rec.SID + ".wav", "RIFF-fake-" + rec.SID},
		{"Recordings/" + loose + ".wav", "loose"},
	} {
		resp := e.request(http.MethodGet, c.path, nil, false)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != c.body || resp.Header.Get("Content-Type") != "audio/x-wav" {
			t.Errorf("%s: %d %q %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp := e.request(http.MethodHead, "Recordings/"+rec.SID+".wav", nil, false); resp.StatusCode != 200 {
		t.Errorf("HEAD media: %d", resp.StatusCode)
	}
	expectError(t, e.request(http.MethodGet, "Recordings/"+rec.SID+".mp3", nil, false), 404, 20404)
	expectError(t, e.request(http.MethodGet, "Recordings/"+rec.SID+".ogg", nil, false), 404, 20404)
	expectError(t, e.request(http.MethodGet, "Recordings/"+sid.New(sid.Recording), nil, false), 404, 20404)
	expectError(t, e.request(http.MethodGet, "/2010-04-01/Accounts/"+otherAcct+"/Recordings/"+rec.SID, nil, false), 404, 20404)
	expectError(t, e.request(http.MethodDelete, "Recordings/"+rec.SID, nil, false), 405, 20004)

	locked := newEnv(t, func(o *Options) { o.RecordingsRequireAuth = true })
	rec = locked.putRecording(sid.New(sid.Call), time.Now())
	expectError(t, locked.request(http.MethodGet, "Recordings/"+rec.SID+".wav", nil, false), 401, 20003)
	if resp := locked.do(http.MethodGet, "Recordings/"+rec.SID+".wav", nil); resp.StatusCode != 200 {
		t.Errorf("authenticated media: %d", resp.StatusCode)
	}
}

func TestRecordingsPaging(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		e.putRecording(sid.New(sid.Call), t0.Add(time.Duration(i)*time.Second))
	}
	seen := 0
	next := base + "/Recordings.json?" + url.Values{"PageSize": {"2"}}.Encode()
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		var l recordingList
		decode(t, e.do(http.MethodGet, next, nil), 200, &l)
		seen += len(l.Recordings)
		next = ""
		if l.NextPageURI != nil {
			next = *l.NextPageURI
		}
	}
	if seen != 5 {
		t.Errorf("walked %d recordings, want 5", seen)
	}
}
