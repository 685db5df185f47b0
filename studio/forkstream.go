package studio

import (
	"fmt"
	"strings"
)

// forkStream: fork-stream starts (<Start><Stream>) or stops
// (<Stop><Stream>) a one-way media stream of the call over a WebSocket,
// then goes back to the flow with next. SIPREC (stream_transport_type
// siprec) is not run: the widget is skipped.
func (r *runner) forkStream(st *State, b map[string]any) (callResult, error) {
	if strings.EqualFold(r.text(st, "stream_transport_type", b), "siprec") {
		return callResult{event: "next"}, nil
	}
	name := strings.TrimSpace(r.text(st, "stream_name", b))
	stream := elem("Stream").attr("name", name)
	var verb *element
	switch action := r.text(st, "stream_action", b); action {
	case "start":
		params, err := r.keyValues(st, "stream_parameters", b)
		if err != nil {
			return callResult{}, err
		}
		stream.attr("url", strings.TrimSpace(r.text(st, "stream_url", b))).attr("track", r.text(st, "stream_track", b))
		for _, kv := range params {
			stream.add(elem("Parameter").attrAlways("name", kv.Key).attrAlways("value", kv.Value))
		}
		verb = elem("Start").add(stream)
	case "stop":
		verb = elem("Stop").add(stream)
	default:
		return callResult{}, fmt.Errorf("state %q (fork-stream): stream_action %q: want start or stop", st.Name, action)
	}
	return callResult{doc: twimlDocument(verb, r.back(st, "next"))}, nil
}
