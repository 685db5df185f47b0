package studio

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", "{\n  \"states\": [\n  oops", "invalid JSON at line 3, column 3"},
		{"array", `[1, 2]`, "the JSON is array, not an object"},
		{"null", `null`, "the JSON is null"},
		{"no states", `{"description": "x"}`, `it has no "states"`},
		{"single widget", `{"name": "SayPlay", "type": "say-play", "transitions": [], "properties": {}}`, `a single "say-play" widget`},
		{"flow resource", `{"sid": "FW1", "definition": {"states": []}}`, `its "definition" holds the flow`},
		{"states not a list", `{"states": {}}`, "cannot unmarshal"},
		{"transitions not a list", `{"states": [{"name": "a", "type": "trigger", "transitions": {}}]}`, "states[0]"},
		{"event an object", `{"states": [{"name": "a", "type": "trigger", "transitions": [{"event": {}}]}]}`, "want a string, got an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v; want it to contain %q", err, tc.want)
			}
		})
	}
	var se *SyntaxError
	if _, err := Parse([]byte("{\n\n  x")); !errors.As(err, &se) || se.Line != 3 {
		t.Errorf("syntax error position: %v", err)
	}
	if _, err := Parse([]byte(`"flow"`)); !errors.Is(err, ErrNotAFlow) {
		t.Errorf("a string is not a flow: %v", err)
	}
}

func TestValuesRoundTripInTheFormRead(t *testing.T) {
	in := `{"description":"d","states":[{"name":"Trigger","type":"trigger","transitions":[{"event":"incomingCall","next":"a"}],"properties":{"offset":{"x":-12.5,"y":40}}},` +
		`{"name":"a","type":"split-based-on","transitions":[{"event":"noMatch"},{"event":"match","next":"Trigger","conditions":[{"friendly_name":"n","arguments":["{{x}}"],"type":"equal_to","value":5}]}],` +
		`"properties":{"input":"{{x}}","timeout":"10","loop":2,"flag":"true","strict":false,"list":[{"key":"k","value":1}]}}],` +
		`"initial_state":"Trigger","flags":{"allow_concurrent_calls":"false"}}`
	f, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if f.ConcurrentCallsAllowed() {
		t.Error(`allow_concurrent_calls "false" read as true`)
	}
	p := f.States[1].Properties
	if p.Text("timeout") != "10" || p.Text("loop") != "2" || p.Text("strict") != "false" || p.Text("list") != "" || p.Text("missing") != "" {
		t.Errorf("Text: %q %q %q", p.Text("timeout"), p.Text("loop"), p.Text("strict"))
	}
	if kv, err := p.KeyValues("list"); err != nil || kv[0] != (KeyValue{Key: "k", Value: "1"}) {
		t.Errorf("KeyValues %v %v", kv, err)
	}
	if c := f.States[1].Transitions[1].Conditions[0]; c.Value.Value != "5" {
		t.Errorf("numeric condition value read as %q", c.Value.Value)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(in), &a)
	_ = json.Unmarshal(out, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("round trip:\n in %s\nout %s", ja, jb)
	}
}

func TestLegacyTypeMapping(t *testing.T) {
	for legacy, want := range map[string]string{
		"InitialState": "trigger", "SayPlay": "say-play", "Gather": "gather-input-on-call", "Branch": "split-based-on",
		"Record": "record-voicemail", "Message": "send-message", "ConnectCaller": "connect-call-to", "Pay": "capture-payments",
		"Function": "run-function", "EnqueueCall": "enqueue-call", "SetVariables": "set-variables", "SendToFlex": "send-to-flex",
		"Mystery": "Mystery",
	} {
		if got := legacyType(legacy); got != want {
			t.Errorf("legacyType(%s) = %s, want %s", legacy, got, want)
		}
	}
}
