package studio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flowWith is a flow whose trigger leads to the given states (JSON).
func flowWith(states ...string) string {
	return `{"initial_state": "Trigger", "states": [
	  {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "a"}], "properties": {}},` +
		strings.Join(states, ",") + `]}`
}

func TestValidateReports(t *testing.T) {
	say := func(name string) string {
		return `{"name": "` + name + `", "type": "say-play", "transitions": [], "properties": {"say": "x"}}`
	}
	for _, tc := range []struct {
		name, flow string
		want       string // String() of the expected problem
		path       string
		warning    bool
	}{
		{"missing next", flowWith(`{"name": "a", "type": "gather-input-on-call", "transitions": [{"event": "keypress", "next": "sales"}], "properties": {}}`),
			`state "a" (gather-input-on-call): transition "keypress": next "sales" does not exist`, "#/states/1/transitions/0/next", false},
		{"unknown type", flowWith(`{"name": "a", "type": "say-hello", "transitions": [], "properties": {}}`),
			`state "a" (say-hello): type: unknown widget type "say-hello"`, "#/states/1/type", false},
		{"unknown event", flowWith(`{"name": "a", "type": "say-play", "transitions": [{"event": "done"}], "properties": {"say": "x"}}`),
			`state "a" (say-play): transition "done": not an event of say-play (want one of audioComplete)`, "#/states/1/transitions/0/event", false},
		{"bad number", flowWith(`{"name": "a", "type": "gather-input-on-call", "transitions": [], "properties": {"timeout": "five"}}`),
			`state "a" (gather-input-on-call): property "timeout": want a whole number, got "five"`, "#/states/1/properties/timeout", false},
		{"number with Liquid", flowWith(`{"name": "a", "type": "gather-input-on-call", "transitions": [], "properties": {"timeout": "{{flow.variables.t}}", "bogus": 1}}`),
			`state "a" (gather-input-on-call): property "bogus": not a property of gather-input-on-call; ignored`, "#/states/1/properties/bogus", true},
		{"bad bool", flowWith(`{"name": "a", "type": "record-voicemail", "transitions": [], "properties": {"play_beep": "yes"}}`),
			`state "a" (record-voicemail): property "play_beep": want true or false, got "yes"`, "#/states/1/properties/play_beep", false},
		{"required", flowWith(`{"name": "a", "type": "make-http-request", "transitions": [], "properties": {"method": "GET", "content_type": "application/json"}}`),
			`state "a" (make-http-request): property "url": required but missing`, "#/states/1/properties/url", false},
		{"Liquid syntax", flowWith(`{"name": "a", "type": "say-play", "transitions": [], "properties": {"say": "{% if x %}open"}}`),
			`state "a" (say-play): property "say": Liquid:`, "#/states/1/properties/say", false},
		{"split operator", flowWith(`{"name": "a", "type": "split-based-on", "transitions": [{"event": "match", "conditions": [{"friendly_name": "c", "arguments": [], "type": "roughly", "value": "1"}]}], "properties": {"input": "x"}}`),
			`state "a" (split-based-on): transition "match": condition "c": unknown condition type "roughly"`, "#/states/1/transitions/0/conditions/0/type", false},
		{"split regex", flowWith(`{"name": "a", "type": "split-based-on", "transitions": [{"event": "match", "conditions": [{"friendly_name": "c", "arguments": [], "type": "regex", "value": "("}]}], "properties": {"input": "x"}}`),
			`state "a" (split-based-on): transition "match": condition "c": regex "(":`, "#/states/1/transitions/0/conditions/0/value", false},
		{"split date", flowWith(`{"name": "a", "type": "split-based-on", "transitions": [{"event": "match", "conditions": [{"friendly_name": "c", "arguments": [], "type": "is_before_date", "value": "01/02/2024"}]}], "properties": {"input": "x"}}`),
			`want a date YYYY-MM-DD`, "#/states/1/transitions/0/conditions/0/value", false},
		{"duplicate name", flowWith(say("a"), say("a")),
			`state "a" (say-play): name: duplicate: states[1] has the same name`, "#/states/2/name", false},
		{"duplicate event", flowWith(`{"name": "a", "type": "say-play", "transitions": [{"event": "audioComplete"}, {"event": "audioComplete"}], "properties": {"say": "x"}}`),
			`state "a" (say-play): transition "audioComplete": duplicate: transitions[0] is for the same event`, "#/states/1/transitions/1/event", false},
		{"enqueue target", flowWith(`{"name": "a", "type": "enqueue-call", "transitions": [], "properties": {}}`),
			`an enqueue-call needs queue_name or workflow_sid`, "#/states/1/properties", false},
		{"task attributes", flowWith(`{"name": "a", "type": "send-to-flex", "transitions": [], "properties": {"workflow": "WW1", "channel": "TC1", "attributes": "{name: 1}"}}`),
			`property "attributes": want a JSON object`, "#/states/1/properties/attributes", false},
		{"noun", flowWith(`{"name": "a", "type": "connect-call-to", "transitions": [], "properties": {"noun": "pigeon", "caller_id": "x"}}`),
			`unknown noun "pigeon"`, "#/states/1/properties/noun", false},
		{"missing to", flowWith(`{"name": "a", "type": "connect-call-to", "transitions": [], "properties": {"noun": "number", "caller_id": "x"}}`),
			`property "to": required for noun "number"`, "#/states/1/properties/to", false},
		{"initial state", `{"initial_state": "Start", "states": [` + say("a") + `]}`,
			`initial_state: state "Start" does not exist`, "#/initial_state", false},
		{"initial not trigger", `{"initial_state": "a", "states": [` + say("a") + `]}`,
			`initial_state: state "a" is a say-play widget, not the trigger`, "#/initial_state", false},
		{"no states", `{"initial_state": "a", "states": []}`, `states: the flow has no states`, "#/states", false},
		{"unreachable", flowWith(say("a"), say("lonely")),
			`state "lonely" (say-play): no transition leads here: the widget never runs`, "#/states/2", true},
		{"name charset", flowWith(`{"name": "a", "type": "say-play", "transitions": [{"event": "audioComplete", "next": "my-widget"}], "properties": {"say": "x"}}`, say("my-widget")),
			`state "my-widget" (say-play): name: has characters other than letters, digits and "_"`, "#/states/2/name", true},
		{"messaging", flowWith(`{"name": "a", "type": "send-message", "transitions": [], "properties": {}}`),
			`state "a" (send-message): messaging-only widget: not run on voice calls (a call reaching it takes its "failed" transition)`, "#/states/1", true},
		{"subflow revision", flowWith(`{"name": "a", "type": "run-subflow", "transitions": [], "properties": {"flow_sid": "FW1", "flow_revision": "Newest"}}`),
			`property "flow_revision": "Newest": want LatestPublished, LatestDraft or a revision number`, "#/states/1/properties/flow_revision", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.flow))
			if err != nil {
				t.Fatal(err)
			}
			problems := Validate(f)
			for _, p := range problems {
				if strings.Contains(p.String(), tc.want) {
					if p.Path != tc.path {
						t.Errorf("path %q, want %q", p.Path, tc.path)
					}
					if (p.Severity == SeverityWarning) != tc.warning {
						t.Errorf("severity %s", p.Severity)
					}
					return
				}
			}
			t.Errorf("no problem containing %q in:\n%v", tc.want, problems)
		})
	}
}

func TestValidateFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(flowWith(`{"name": "a", "type": "say-play", "transitions": [], "properties": {"say": "x"}}`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if problems, err := ValidateFile(good); err != nil || len(problems) != 0 {
		t.Errorf("good flow: %v %v", problems, err)
	}
	if problems, err := ValidateFile("testdata/ivr_flow.json"); err != nil || HasErrors(problems) {
		t.Errorf("ivr flow: %v %v", problems, err)
	}
	if _, err := ValidateFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file must be an error")
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"task_routing": {}}`), 0o600)
	if _, err := ValidateFile(bad); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "TaskRouter") {
		t.Errorf("not a flow: %v", err)
	}
}
