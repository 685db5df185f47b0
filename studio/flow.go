package studio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Flow is a Studio flow definition.
type Flow struct {
	// Schema is the optional "$schema" key, kept as read.
	Schema       string  `json:"$schema,omitempty"`
	Description  string  `json:"description"`
	States       []State `json:"states"`
	InitialState string  `json:"initial_state"`
	Flags        *Flags  `json:"flags,omitempty"`

	// Sid and Revision identify the stored flow this definition came from
	// (FW…, revision number). A FlowSource sets them; Parse leaves them
	// empty. They are not part of the JSON.
	Sid      string `json:"-"`
	Revision int    `json:"-"`
	// Legacy reports that Parse converted a pre-2019 definition.
	Legacy bool `json:"-"`
}

// Flags are the flow's flags.
type Flags struct {
	// AllowConcurrentCalls is nil when absent (calls are then allowed).
	AllowConcurrentCalls *FlexBool `json:"allow_concurrent_calls,omitempty"`
}

// ConcurrentCallsAllowed reports whether a caller with an active execution
// may start another one: true unless the flag is explicitly false.
func (f *Flow) ConcurrentCallsAllowed() bool {
	if f.Flags == nil || f.Flags.AllowConcurrentCalls == nil {
		return true
	}
	return f.Flags.AllowConcurrentCalls.Value
}

// State returns the state called name, or nil.
func (f *Flow) State(name string) *State {
	for i := range f.States {
		if f.States[i].Name == name {
			return &f.States[i]
		}
	}
	return nil
}

// State is one widget of a flow.
type State struct {
	Name        string       `json:"name"`
	Type        string       `json:"type"`
	Transitions []Transition `json:"transitions"`
	Properties  Properties   `json:"properties"`
}

// MarshalJSON writes the state with [] and {} for missing transitions
// and properties, as Studio does.
func (s State) MarshalJSON() ([]byte, error) {
	type plain State
	out := plain(s)
	if out.Transitions == nil {
		out.Transitions = []Transition{}
	}
	return json.Marshal(out)
}

// Next returns the state the first transition for event leads to; "" means
// the end of the branch (also when the event has no transition).
func (s *State) Next(event string) string {
	for _, t := range s.Transitions {
		if t.Event == event {
			return t.Next
		}
	}
	return ""
}

// Transition leads from a state to the next on an event. An empty Next
// ends the branch.
type Transition struct {
	Event      string      `json:"event"`
	Next       string      `json:"next,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// UnmarshalJSON reads a transition; "next": null means no next state.
func (t *Transition) UnmarshalJSON(data []byte) error {
	var raw struct {
		Event      *FlexString `json:"event"`
		Next       *FlexString `json:"next"`
		Conditions []Condition `json:"conditions"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*t = Transition{Conditions: raw.Conditions}
	if raw.Event != nil {
		t.Event = raw.Event.Value
	}
	if raw.Next != nil {
		t.Next = raw.Next.Value
	}
	return nil
}

// Condition is one test of a split-based-on "match" transition.
type Condition struct {
	FriendlyName string       `json:"friendly_name"`
	Arguments    []FlexString `json:"arguments"`
	Type         string       `json:"type"`
	Value        FlexString   `json:"value"`
}

// FlexString is a JSON string that may also be written as a number or a
// boolean; it marshals back in the form it was read.
type FlexString struct {
	Value string
	raw   json.RawMessage // non-string form as read, if any
}

// UnmarshalJSON accepts a string, number, boolean or null.
func (s *FlexString) UnmarshalJSON(data []byte) error {
	v, ok := scalarText(data)
	if !ok {
		return fmt.Errorf("want a string, got %s", describeJSON(data))
	}
	s.Value, s.raw = v, nil
	if len(data) > 0 && data[0] != '"' && string(data) != "null" {
		s.raw = append(json.RawMessage(nil), data...)
	}
	return nil
}

// MarshalJSON writes the value in the form it was read (a string by default).
func (s FlexString) MarshalJSON() ([]byte, error) {
	if s.raw != nil {
		return s.raw, nil
	}
	return json.Marshal(s.Value)
}

// String returns the value.
func (s FlexString) String() string { return s.Value }

// FlexBool is a JSON boolean that may also be written as a string
// ("true"/"false"); it marshals back in the form it was read.
type FlexBool struct {
	Value    bool
	asString bool
}

// UnmarshalJSON accepts true/false or "true"/"false".
func (b *FlexBool) UnmarshalJSON(data []byte) error {
	v, ok, err := parseBoolJSON(data)
	if err != nil {
		return err
	}
	b.Value, b.asString = ok && v, len(data) > 0 && data[0] == '"'
	return nil
}

// MarshalJSON writes the value in the form it was read.
func (b FlexBool) MarshalJSON() ([]byte, error) {
	if b.asString {
		return json.Marshal(strconv.FormatBool(b.Value))
	}
	return json.Marshal(b.Value)
}

// parseBoolJSON reads a boolean written as a JSON bool or string. ok is
// false for null.
func parseBoolJSON(data []byte) (v, ok bool, err error) {
	switch s := strings.TrimSpace(string(data)); s {
	case "null", "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	var str string
	if json.Unmarshal(data, &str) == nil {
		if b, err := strconv.ParseBool(strings.TrimSpace(str)); err == nil {
			return b, true, nil
		}
	}
	return false, false, fmt.Errorf("want true or false, got %s", describeJSON(data))
}

// scalarText is the text of a JSON string, number or boolean ("" for
// null); ok is false for objects and arrays.
func scalarText(data []byte) (string, bool) {
	s := strings.TrimSpace(string(data))
	switch {
	case s == "null" || s == "":
		return "", true
	case s[0] == '"':
		var v string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return "", false
		}
		return v, true
	case s == "true" || s == "false":
		return s, true
	case s[0] == '{' || s[0] == '[':
		return "", false
	}
	var n json.Number
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return "", false
	}
	return n.String(), true
}

// describeJSON names a JSON value for error messages, quoting short ones.
func describeJSON(data []byte) string {
	s := strings.TrimSpace(string(data))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '{':
		return "an object"
	case s[0] == '[':
		return "an array"
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
