package studio

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxgate/voxgate/twiml"
)

// fakeRecorder records what record-call asks for.
type fakeRecorder struct {
	mu      sync.Mutex
	started []string // call sids
	opts    []RecordingOptions
	stopped []string
	fail    error
}

func (f *fakeRecorder) StartCallRecording(ctx context.Context, callSid string, o RecordingOptions) (CallRecordingInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return CallRecordingInfo{}, f.fail
	}
	f.started = append(f.started, callSid)
	f.opts = append(f.opts, o)
	return CallRecordingInfo{AccountSid: "AC1", Sid: "RE1", CallSid: callSid, Status: "in-progress", Source: "StartCallRecordingAPI",
		Channels: o.Channels, StartTime: time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC), Uri: "/2010-04-01/Accounts/AC1/Calls/" + callSid + "/Recordings/RE1.json"}, nil
}

func (f *fakeRecorder) StopCallRecording(ctx context.Context, callSid string) (CallRecordingInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return CallRecordingInfo{}, f.fail
	}
	f.stopped = append(f.stopped, callSid)
	return CallRecordingInfo{Sid: "RE1", CallSid: callSid, Status: "stopped", Channels: 2, Duration: 4 * time.Second}, nil
}

const recordCallFlow = `{"initial_state": "Trigger", "states": [
  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "rec"}], "properties": {}},
  {"name": "rec", "type": "record-call", "transitions": [{"event": "success", "next": "hello"}, {"event": "failed", "next": "sorry"}],
   "properties": {"record_call": true, "recording_channels": "dual", "trim": "trim-silence",
     "recording_status_callback": "https://app.example/rs?from={{trigger.call.From}}", "recording_status_callback_method": "GET",
     "recording_status_callback_events": "in-progress completed"}},
  {"name": "hello", "type": "say-play", "transitions": [{"event": "audioComplete", "next": "stop"}],
   "properties": {"say": "recording {{widgets.rec.Sid}} {{widgets.rec.Status}} {{widgets.rec.Channels}}"}},
  {"name": "stop", "type": "record-call", "transitions": [{"event": "success", "next": "bye"}, {"event": "failed", "next": "sorry"}],
   "properties": {"record_call": "false"}},
  {"name": "bye", "type": "say-play", "transitions": [], "properties": {"say": "stopped {{widgets.stop.Status}} after {{widgets.stop.Duration}}"}},
  {"name": "sorry", "type": "say-play", "transitions": [], "properties": {"say": "no recording: {{widgets.rec.ErrorMessage}}{{widgets.stop.ErrorMessage}}"}}
]}`

// TestRecordCallWidget: record-call true starts the call's recording with
// the widget's settings, false stops it; both take success and store the
// recording's fields for Liquid.
func TestRecordCallWidget(t *testing.T) {
	rec := &fakeRecorder{}
	h := newHarness(t, Options{Recordings: rec})
	h.loadJSON(ivrSid, recordCallFlow, nil)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	if say := verbOf[*twiml.Say](t, r).Text; say != "recording RE1 in-progress 2" {
		t.Fatalf("first answer %s", r.body)
	}
	want := RecordingOptions{Channels: 2, Trim: true, StatusCallback: "https://app.example/rs?from=+15551230001",
		StatusCallbackMethod: "GET", StatusCallbackEvents: []string{"in-progress", "completed"}}
	if len(rec.started) != 1 || rec.started[0] != c.sid || !reflect.DeepEqual(rec.opts[0], want) {
		t.Errorf("started %v with %+v, want %+v", rec.started, rec.opts, want)
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if say := verbOf[*twiml.Say](t, r).Text; say != "stopped stopped after 4" {
		t.Fatalf("second answer %s", r.body)
	}
	if len(rec.stopped) != 1 || rec.stopped[0] != c.sid {
		t.Errorf("stopped %v", rec.stopped)
	}
	ex := h.execution(c.sid)
	w := ex.Context["widgets"].(map[string]any)["rec"].(map[string]any)
	if w["Sid"] != "RE1" || w["CallSid"] != c.sid || w["Source"] != "StartCallRecordingAPI" || w["Duration"] != "-1" ||
		w["StartTime"] != "Wed, 01 Apr 2026 10:00:00 +0000" || !strings.HasSuffix(w["Uri"].(string), "/Recordings/RE1.json") {
		t.Errorf("widgets.rec %v", w)
	}
	if got := h.path(ex); !reflect.DeepEqual(got[:3], []string{"Trigger -incomingCall-> rec", "rec -success-> hello", "hello -audioComplete-> stop"}) {
		t.Errorf("path %v", got)
	}
}

// TestRecordCallWidgetFails: a recorder error, or no recorder at all,
// takes failed with the reason in ErrorMessage.
func TestRecordCallWidgetFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  CallRecorder
		want string
	}{
		{"refused", &fakeRecorder{fail: errors.New("call is not in progress")}, "no recording: call is not in progress"},
		{"no recorder", nil, "no recording: this gateway has no call recorder configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{Recordings: tc.rec})
			h.loadJSON(ivrSid, recordCallFlow, nil)
			r := h.newCall("+15551230001").start(ivrSid)
			if say := verbOf[*twiml.Say](t, r).Text; say != tc.want {
				t.Errorf("answer %s, want %q", r.body, tc.want)
			}
		})
	}
}
