package studio

import (
	"testing"

	"github.com/voxgate/voxgate/twiml"
)

// TestForkStreamWidget: fork-stream start renders <Start><Stream> with its
// name, URL, track and parameters (Liquid rendered), then returns to the
// flow with next; stop renders <Stop><Stream name>.
func TestForkStreamWidget(t *testing.T) {
	const flow = `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "fork"}], "properties": {}},
	  {"name": "fork", "type": "fork-stream", "transitions": [{"event": "next", "next": "stop"}], "properties": {
	    "stream_action": "start", "stream_name": "bot", "stream_transport_type": "websocket", "stream_url": "wss://app.test/media",
	    "stream_track": "both_tracks", "stream_parameters": [{"key": "caller", "value": "{{trigger.call.From}}"}]}},
	  {"name": "stop", "type": "fork-stream", "transitions": [{"event": "next", "next": "bye"}], "properties": {"stream_action": "stop", "stream_name": "bot"}},
	  {"name": "bye", "type": "say-play", "transitions": [], "properties": {"say": "bye"}}]}`
	h := newHarness(t, Options{})
	h.loadJSON(ivrSid, flow, nil)
	c := h.newCall("+15551230001")
	r := c.start(ivrSid)
	if got := r.verbs(); got != "Start Redirect" {
		t.Fatalf("verbs %q: %s", got, r.body)
	}
	st := verbOf[*twiml.Start](t, r).Features[0].(*twiml.Stream)
	if st.StreamName != "bot" || st.URL != "wss://app.test/media" || st.Track != twiml.TrackBoth ||
		len(st.Parameters) != 1 || st.Parameters[0] != (twiml.Parameter{Name: "caller", Value: "+15551230001"}) {
		t.Errorf("stream %+v", st)
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if got := r.verbs(); got != "Stop Redirect" {
		t.Fatalf("after start: verbs %q: %s", got, r.body)
	}
	if stop := verbOf[*twiml.Stop](t, r).Features[0].(*twiml.Stream); stop.StreamName != "bot" {
		t.Errorf("stop %+v", stop)
	}
	r = c.post(verbOf[*twiml.Redirect](t, r).URL, nil)
	if say := verbOf[*twiml.Say](t, r).Text; say != "bye" {
		t.Errorf("after stop: %s", r.body)
	}
}
