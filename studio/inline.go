package studio

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// outcome is how an in-process widget finished.
type outcome struct {
	event string
	next  string
}

func finished(st *State, event string) outcome { return outcome{event: event, next: st.Next(event)} }

// inline runs a widget that does not touch the call.
func (r *runner) inline(st *State) (outcome, error) {
	switch st.Type {
	case "split-based-on":
		return r.split(st), nil
	case "set-variables":
		return r.setVariables(st)
	case "make-http-request":
		return r.httpRequest(st)
	case "run-function":
		return r.runFunction(st)
	case "record-call":
		return r.recordCall(st)
	}
	return outcome{}, fmt.Errorf("state %q (%s): not an in-process widget", st.Name, st.Type)
}

// split runs split-based-on: the first match transition whose conditions
// all hold wins; otherwise noMatch.
func (r *runner) split(st *State) outcome {
	b := r.bindings()
	input := r.text(st, "input", b)
	for i, t := range st.Transitions {
		if t.Event != "match" || len(t.Conditions) == 0 {
			continue
		}
		all := true
		for _, c := range t.Conditions {
			in := input
			if !st.Properties.Has("input") && len(c.Arguments) > 0 {
				in = r.render(st, "arguments", c.Arguments[0].Value, b)
			}
			value := r.render(st, "condition value", c.Value.Value, b)
			ok, err := matchCondition(c.Type, in, value)
			if err != nil {
				r.log.Warn("studio: split condition cannot be tested; no match", "widget", st.Name, "condition", c.FriendlyName, "error", err)
			}
			if !ok {
				all = false
				break
			}
		}
		if all {
			r.log.Info("studio: split matched", "widget", st.Name, "input", input, "transition", i, "condition", t.Conditions[0].FriendlyName, "next", t.Next)
			return outcome{event: "match", next: t.Next}
		}
	}
	r.log.Info("studio: split matched nothing", "widget", st.Name, "input", input)
	return finished(st, "noMatch")
}

// jsonNumber is a JSON number literal (no leading zeros, no sign "+").
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// setVariables runs set-variables: every value is rendered with the
// context as it stood before the widget, then stored under
// flow.variables.<key> and widgets.<name>.<key>. Number literals are
// stored as numbers; parse_as_json stores parsed JSON.
func (r *runner) setVariables(st *State) (outcome, error) {
	b := r.bindings()
	kvs, err := r.keyValues(st, "variables", b)
	if err != nil {
		return outcome{}, err
	}
	asJSON := r.boolProp(st, "parse_as_json", false, b)
	_, cx := r.top()
	vars := sub(sub(cx, "flow"), "variables")
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		var v any = kv.Value
		switch {
		case kv.ParseAsJSON || asJSON:
			var parsed any
			if err := decodeJSON([]byte(kv.Value), &parsed); err != nil {
				r.log.Warn("studio: parse_as_json: not JSON; stored as text", "widget", st.Name, "key", kv.Key, "error", err)
			} else {
				v = parsed
			}
		case jsonNumber.MatchString(kv.Value):
			v = json.Number(kv.Value)
		}
		vars[kv.Key] = v
		out[kv.Key] = v
	}
	setWidget(cx, st.Name, out)
	return finished(st, "next"), nil
}
