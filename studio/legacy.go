package studio

import (
	"encoding/json"
	"strings"
	"unicode"
)

// legacyTypes maps the widget types of pre-2019 exports to today's
// (studio-flows-and-queues.md §1.2). Types not listed are converted from
// CamelCase ("SetVariables" → "set-variables") when that names a known
// widget.
var legacyTypes = map[string]string{
	"InitialState":  "trigger",
	"SayPlay":       "say-play",
	"Gather":        "gather-input-on-call",
	"Branch":        "split-based-on",
	"Record":        "record-voicemail",
	"Message":       "send-message",
	"ConnectCaller": "connect-call-to",
	"Pay":           "capture-payments",
	"Function":      "run-function",
	"HttpRequest":   "make-http-request",
	"TwimlRedirect": "add-twiml-redirect",
	"Subflow":       "run-subflow",
}

// looksLegacy reports whether states are in the legacy format: a state
// with a sid, or a legacy CamelCase type.
func looksLegacy(states []json.RawMessage) bool {
	for _, rs := range states {
		var probe struct {
			Sid  any    `json:"sid"`
			Type string `json:"type"`
		}
		if json.Unmarshal(rs, &probe) != nil {
			continue
		}
		if probe.Sid != nil {
			return true
		}
		if _, ok := legacyTypes[probe.Type]; ok {
			return true
		}
	}
	return false
}

// legacyType maps a legacy widget type; unknown types are kept as they are
// (Validate reports them).
func legacyType(t string) string {
	if m, ok := legacyTypes[t]; ok {
		return m
	}
	if k := kebab(t); k != t {
		if _, ok := widgetSpecs[k]; ok {
			return k
		}
	}
	return t
}

// kebab turns CamelCase into kebab-case ("SendToFlex" → "send-to-flex").
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// convertLegacy resolves transition targets given as state sids into
// names, drops null properties, and sets initial_state to the trigger.
func convertLegacy(f *Flow, sids map[string]string) {
	f.Legacy = true
	for i := range f.States {
		st := &f.States[i]
		for j := range st.Transitions {
			if name, ok := sids[st.Transitions[j].Next]; ok {
				st.Transitions[j].Next = name
			}
		}
		for k := range st.Properties {
			if !st.Properties.Has(k) {
				delete(st.Properties, k)
			}
		}
		if st.Type == "trigger" && f.InitialState == "" {
			f.InitialState = st.Name
		}
	}
	if f.InitialState == "" && len(f.States) > 0 {
		f.InitialState = f.States[0].Name
	}
}
