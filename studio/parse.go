package studio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotAFlow is wrapped by Parse's error for JSON that is not a Studio
// flow definition (no "states" list).
var ErrNotAFlow = errors.New("not a Studio flow definition")

// SyntaxError is a JSON syntax error with its position.
type SyntaxError struct {
	Line, Column int
	Offset       int64
	Err          error
}

// Error describes the error with its line and column.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the *json.SyntaxError.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Parse reads a flow definition: the current format, or the legacy
// (pre-2019) one, which it converts (see the Legacy field). It checks the
// shape of the JSON only; Validate checks the flow.
func Parse(data []byte) (*Flow, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(data, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: the JSON is null", ErrNotAFlow)
	}
	if _, ok := top["states"]; !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotAFlow, guessWhat(top))
	}
	var raw struct {
		Schema       *FlexString       `json:"$schema"`
		Description  *FlexString       `json:"description"`
		InitialState *FlexString       `json:"initial_state"`
		Flags        *Flags            `json:"flags"`
		States       []json.RawMessage `json:"states"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	f := &Flow{Flags: raw.Flags}
	if raw.Schema != nil {
		f.Schema = raw.Schema.Value
	}
	if raw.Description != nil {
		f.Description = raw.Description.Value
	}
	if raw.InitialState != nil {
		f.InitialState = raw.InitialState.Value
	}
	legacy := raw.InitialState == nil && looksLegacy(raw.States)
	sids := map[string]string{} // legacy state sid → name
	for i, rs := range raw.States {
		st, sid, err := parseState(rs)
		if err != nil {
			return nil, fmt.Errorf("states[%d]: %w", i, err)
		}
		if legacy {
			st.Type = legacyType(st.Type)
			if sid != "" {
				sids[sid] = st.Name
			}
		}
		f.States = append(f.States, st)
	}
	if legacy {
		convertLegacy(f, sids)
	}
	return f, nil
}

// parseState reads one state and its legacy sid, if any.
func parseState(data json.RawMessage) (State, string, error) {
	var raw struct {
		Name        *FlexString                `json:"name"`
		Type        *FlexString                `json:"type"`
		Sid         *FlexString                `json:"sid"`
		Transitions []Transition               `json:"transitions"`
		Properties  map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return State{}, "", err
	}
	st := State{Transitions: raw.Transitions, Properties: raw.Properties}
	if raw.Name != nil {
		st.Name = raw.Name.Value
	}
	if raw.Type != nil {
		st.Type = raw.Type.Value
	}
	var sid string
	if raw.Sid != nil {
		sid = raw.Sid.Value
	}
	return st, sid, nil
}

// guessWhat explains what JSON without "states" seems to be.
func guessWhat(top map[string]json.RawMessage) string {
	switch {
	case top["task_routing"] != nil:
		return `it has no "states" (this looks like a TaskRouter workflow configuration)`
	case top["type"] != nil && top["transitions"] != nil:
		var t string
		_ = json.Unmarshal(top["type"], &t)
		return fmt.Sprintf(`it has no "states" (this looks like a single %q widget, not a whole flow)`, t)
	case top["definition"] != nil:
		return `it has no "states" (this looks like a Flow resource: its "definition" holds the flow)`
	}
	return `it has no "states"`
}

// jsonError turns a decoding error into a SyntaxError with a position, or
// a plain error for a top-level value that is not an object.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return &SyntaxError{Line: line, Column: col, Offset: se.Offset, Err: err}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: the JSON is %s, not an object", ErrNotAFlow, te.Value)
	}
	return fmt.Errorf("flow: %w", err)
}

// position is the 1-based line and column of byte offset off.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
