package api

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// TestStartCallRecording: POST Calls/{CA}/Recordings.json starts a
// recording of the live call (201, in-progress, duration -1) and passes
// the parameters with the live-call defaults (do-not-trim); the call's
// recording list shows it.
func TestStartCallRecording(t *testing.T) {
	e := newEnv(t)
	c := e.putCall(store.Call{})
	form := url.Values{"RecordingChannels": {"dual"}, "RecordingStatusCallback": {"https://app.example/rs"},
		"RecordingStatusCallbackEvent": {"in-progress completed"}}
	var got recordingJSON
	decode(t, e.do(http.MethodPost, "Calls/"+c.SID+"/Recordings.json", form), http.StatusCreated, &got)
	if !sid.Valid(sid.Recording, got.SID) || got.Status != "in-progress" || got.Duration != "-1" || got.Channels != 2 ||
		got.CallSID == nil || *got.CallSID != c.SID || got.Source == nil || *got.Source != "StartCallRecordingAPI" ||
		got.URI != base+"/Recordings/"+got.SID+".json" || got.MediaURL != testPublic+base+"/Recordings/"+got.SID {
		t.Errorf("recording JSON %+v", got)
	}
	want := RecordingParams{Channels: 2, Track: "both", Trim: false, StatusCallback: "https://app.example/rs",
		StatusCallbackMethod: "POST", StatusCallbackEvents: []string{"in-progress", "completed"}}
	if len(e.calls.recParams) != 1 || !reflect.DeepEqual(e.calls.recParams[0], want) {
		t.Errorf("controller got %+v, want %+v", e.calls.recParams, want)
	}
	var list struct {
		Recordings []recordingJSON `json:"recordings"`
	}
	decode(t, e.do(http.MethodGet, "Calls/"+c.SID+"/Recordings.json", nil), http.StatusOK, &list)
	if len(list.Recordings) != 1 || list.Recordings[0].SID != got.SID || list.Recordings[0].Status != "in-progress" {
		t.Errorf("call recordings %+v", list.Recordings)
	}
	var fetched recordingJSON
	decode(t, e.do(http.MethodGet, "Calls/"+c.SID+"/Recordings/"+got.SID+".json", nil), http.StatusOK, &fetched)
	if fetched.SID != got.SID {
		t.Errorf("fetched %+v", fetched)
	}
	// An in-progress recording cannot be deleted.
	expectError(t, e.do(http.MethodDelete, "Recordings/"+got.SID+".json", nil), http.StatusBadRequest, 21220)
}

// TestStartCallRecordingErrors: unknown calls are 404, calls not in
// progress 21220 (as the controller's ErrNotLive), bad values 400.
func TestStartCallRecordingErrors(t *testing.T) {
	e := newEnv(t)
	live := e.putCall(store.Call{})
	ended := e.putCall(store.Call{Status: store.CallCompleted})
	ringing := e.putCall(store.Call{Status: store.CallRinging})
	expectError(t, e.do(http.MethodPost, "Calls/CA00000000000000000000000000000000/Recordings.json", nil), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, "Calls/nope/Recordings.json", nil), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, "Calls/"+ended.SID+"/Recordings.json", nil), http.StatusBadRequest, 21220)
	expectError(t, e.do(http.MethodPost, "Calls/"+ringing.SID+"/Recordings.json", nil), http.StatusBadRequest, 21220)
	for _, bad := range []url.Values{
		{"RecordingChannels": {"3"}},
		{"RecordingTrack": {"up"}},
		{"RecordingStatusCallbackEvent": {"stopped"}},
		{"Trim": {"maybe"}},
	} {
		expectError(t, e.do(http.MethodPost, "Calls/"+live.SID+"/Recordings.json", bad), http.StatusBadRequest, 21200)
	}
	expectError(t, e.do(http.MethodPost, "Calls/"+live.SID+"/Recordings.json", url.Values{"RecordingStatusCallback": {"/x"}}), http.StatusBadRequest, 21205)
	e.calls.notLive = true
	expectError(t, e.do(http.MethodPost, "Calls/"+live.SID+"/Recordings.json", nil), http.StatusBadRequest, 21220)
	if len(e.calls.recParams) != 0 {
		t.Errorf("controller called: %+v", e.calls.recParams)
	}
	noCalls := newEnv(t, func(o *Options) { o.Calls = nil })
	c := noCalls.putCall(store.Call{})
	expectError(t, noCalls.do(http.MethodPost, "Calls/"+c.SID+"/Recordings.json", nil), http.StatusNotImplemented, 20503)
}

// TestUpdateCallRecording: pause (default PauseBehavior silence), resume
// and stop by SID or Twilio.CURRENT; a stopped recording answers
// "stopped" and cannot change again; unknown recordings are 404.
func TestUpdateCallRecording(t *testing.T) {
	e := newEnv(t)
	c := e.putCall(store.Call{})
	var rec recordingJSON
	decode(t, e.do(http.MethodPost, "Calls/"+c.SID+"/Recordings.json", nil), http.StatusCreated, &rec)
	path := "Calls/" + c.SID + "/Recordings/"
	var got recordingJSON
	decode(t, e.do(http.MethodPost, path+"Twilio.CURRENT.json", url.Values{"Status": {"paused"}}), http.StatusOK, &got)
	if got.Status != "paused" || got.SID != rec.SID || got.Duration != "-1" {
		t.Errorf("paused: %+v", got)
	}
	decode(t, e.do(http.MethodPost, path+rec.SID+".json", url.Values{"Status": {"in-progress"}, "PauseBehavior": {"skip"}}), http.StatusOK, &got)
	if got.Status != "in-progress" {
		t.Errorf("resumed: %+v", got)
	}
	decode(t, e.do(http.MethodPost, path+"Twilio.CURRENT.json", url.Values{"Status": {"stopped"}}), http.StatusOK, &got)
	if got.Status != "stopped" || got.Duration != "3" {
		t.Errorf("stopped: %+v", got)
	}
	if want := []string{"Twilio.CURRENT paused silence", rec.SID + " in-progress skip", "Twilio.CURRENT stopped silence"}; !reflect.DeepEqual(e.calls.recUpdates, want) {
		t.Errorf("controller got %q, want %q", e.calls.recUpdates, want)
	}
	var fetched recordingJSON
	decode(t, e.do(http.MethodGet, "Recordings/"+rec.SID+".json", nil), http.StatusOK, &fetched)
	if fetched.Status != "completed" || fetched.Duration != "3" {
		t.Errorf("after stop the recording is %+v", fetched)
	}
	expectError(t, e.do(http.MethodPost, path+rec.SID+".json", url.Values{"Status": {"paused"}}), http.StatusBadRequest, 21220)
	expectError(t, e.do(http.MethodPost, path+"Twilio.CURRENT.json", url.Values{"Status": {"paused"}}), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, path+"RE00000000000000000000000000000000.json", url.Values{"Status": {"paused"}}), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, path+"bogus.json", url.Values{"Status": {"paused"}}), http.StatusNotFound, 20404)
	expectError(t, e.do(http.MethodPost, path+rec.SID+".json", url.Values{"Status": {"completed"}}), http.StatusBadRequest, 20001)
	expectError(t, e.do(http.MethodPost, path+rec.SID+".json", nil), http.StatusBadRequest, 20001)
	expectError(t, e.do(http.MethodPost, path+rec.SID+".json", url.Values{"Status": {"paused"}, "PauseBehavior": {"loud"}}), http.StatusBadRequest, 20001)
	// Another call's recording is not found under this call.
	other := e.putCall(store.Call{})
	expectError(t, e.do(http.MethodGet, "Calls/"+other.SID+"/Recordings/"+rec.SID+".json", nil), http.StatusNotFound, 20404)
	// The finished recording can be deleted through its call.
	if resp := e.do(http.MethodDelete, path+rec.SID+".json", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	ended := e.putCall(store.Call{Status: store.CallCompleted})
	expectError(t, e.do(http.MethodPost, "Calls/"+ended.SID+"/Recordings/Twilio.CURRENT.json", url.Values{"Status": {"stopped"}}), http.StatusBadRequest, 21220)
}
