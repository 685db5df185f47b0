package studio

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Properties are a widget's properties exactly as read: values keep their
// JSON form (a number stays a number, a string stays a string), so a flow
// round-trips untouched. The accessors accept either form where Studio
// exports are inconsistent (string "10" or number 10, "true" or true).
type Properties map[string]json.RawMessage

// MarshalJSON writes the properties, {} when there are none.
func (p Properties) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]json.RawMessage(p))
}

// Has reports whether name is present and not null.
func (p Properties) Has(name string) bool {
	v, ok := p[name]
	return ok && strings.TrimSpace(string(v)) != "null"
}

// Text returns the property as text: a string's value, or the literal of
// a number or boolean. It is "" when absent, null, an object or an array.
func (p Properties) Text(name string) string {
	v, ok := p[name]
	if !ok {
		return ""
	}
	s, _ := scalarText(v)
	return s
}

// KeyValue is one {key, value} item of a list property (parameters,
// variables).
type KeyValue struct {
	Key   string
	Value string
	// ParseAsJSON is set-variables' per-item parse_as_json.
	ParseAsJSON bool
}

// KeyValues reads a list of {key, value} objects. Values may be strings,
// numbers or booleans.
func (p Properties) KeyValues(name string) ([]KeyValue, error) {
	if !p.Has(name) {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(p[name], &items); err != nil {
		return nil, fmt.Errorf("want a list of {key, value} objects, got %s", describeJSON(p[name]))
	}
	out := make([]KeyValue, 0, len(items))
	for i, item := range items {
		key, ok := scalarText(item["key"])
		if !ok {
			return nil, fmt.Errorf("item %d: key: want a string, got %s", i, describeJSON(item["key"]))
		}
		val, ok := scalarText(item["value"])
		if !ok {
			// An object or array value is kept as its JSON text.
			val = string(item["value"])
		}
		kv := KeyValue{Key: key, Value: val}
		if raw, ok := item["parse_as_json"]; ok {
			b, _, err := parseBoolJSON(raw)
			if err != nil {
				return nil, fmt.Errorf("item %d: parse_as_json: %w", i, err)
			}
			kv.ParseAsJSON = b
		}
		out = append(out, kv)
	}
	return out, nil
}

// Offset is a widget's position on the Studio canvas (pixels). It has no
// runtime meaning.
type Offset struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Offset returns the widget's canvas position, if it has one.
func (p Properties) Offset() (Offset, bool) {
	var o Offset
	if !p.Has("offset") || json.Unmarshal(p["offset"], &o) != nil {
		return Offset{}, false
	}
	return o, true
}
