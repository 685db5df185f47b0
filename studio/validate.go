package studio

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// MaxStates is the most widgets a flow may hold (Studio's limit).
const MaxStates = 2000

// ValidateFile reads and validates a flow file for `voxgate flow validate`.
// A file that cannot be read or is not a flow definition is an error;
// otherwise the problems are returned (none for a clean flow).
func ValidateFile(path string) ([]Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flow validate: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("flow validate %s: %w", path, err)
	}
	return Validate(f), nil
}

// Validate checks a flow: the envelope, every state's type, transitions
// and properties, split conditions and Liquid syntax. Errors mean the flow
// must not run; warnings point at widgets that will not behave as on
// Twilio (messaging-only widgets, features this gateway lacks) or at
// dubious values. Problems come in state order.
func Validate(f *Flow) []Problem {
	v := &validator{f: f, liquid: newLiquid()}
	v.envelope()
	for i := range f.States {
		v.state(i)
	}
	v.reachability()
	return v.problems
}

type validator struct {
	f        *Flow
	liquid   *liquidRenderer
	problems []Problem
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (v *validator) add(sev Severity, st *State, property, path, format string, args ...any) {
	p := Problem{Severity: sev, Property: property, Path: path, Message: fmt.Sprintf(format, args...)}
	if st != nil {
		p.State, p.Type = st.Name, st.Type
	}
	v.problems = append(v.problems, p)
}

func (v *validator) envelope() {
	f := v.f
	if len(f.States) == 0 {
		v.add(SeverityError, nil, "states", "#/states", "the flow has no states")
	}
	if len(f.States) > MaxStates {
		v.add(SeverityError, nil, "states", "#/states", "%d states: a flow may hold at most %d", len(f.States), MaxStates)
	}
	triggers := 0
	for _, st := range f.States {
		if st.Type == "trigger" {
			triggers++
		}
	}
	if triggers > 1 {
		v.add(SeverityError, nil, "states", "#/states", "%d trigger states: a flow has exactly one", triggers)
	}
	switch init := f.State(f.InitialState); {
	case f.InitialState == "":
		v.add(SeverityError, nil, "initial_state", "#/initial_state", "missing: it must name the trigger state")
	case init == nil:
		v.add(SeverityError, nil, "initial_state", "#/initial_state", "state %q does not exist", f.InitialState)
	case init.Type != "trigger":
		v.add(SeverityError, nil, "initial_state", "#/initial_state", "state %q is a %s widget, not the trigger", f.InitialState, init.Type)
	}
}

func (v *validator) state(i int) {
	st := &v.f.States[i]
	base := fmt.Sprintf("#/states/%d", i)
	switch {
	case st.Name == "":
		v.add(SeverityError, st, "name", base+"/name", "missing")
	case !namePattern.MatchString(st.Name):
		v.add(SeverityWarning, st, "name", base+"/name",
			`has characters other than letters, digits and "_": Liquid must write widgets["%s"]`, st.Name)
	}
	for j := 0; j < i; j++ {
		if st.Name != "" && v.f.States[j].Name == st.Name {
			v.add(SeverityError, st, "name", base+"/name", "duplicate: states[%d] has the same name", j)
			break
		}
	}
	spec, known := widgetSpecs[st.Type]
	switch {
	case st.Type == "":
		v.add(SeverityError, st, "type", base+"/type", "missing")
		return
	case !known:
		v.add(SeverityError, st, "type", base+"/type", "unknown widget type %q", st.Type)
		return
	case spec.kind == KindMessaging:
		v.add(SeverityWarning, st, "", base, "messaging-only widget: not run on voice calls (a call reaching it %s)", failureText(spec))
	case spec.kind == KindUnsupported:
		v.add(SeverityWarning, st, "", base, "not supported by this gateway: %s (a call reaching it %s)", spec.note, failureText(spec))
	}
	v.transitions(st, spec, base)
	if spec.kind != KindMessaging {
		v.properties(st, spec, base)
		v.widgetRules(st, base)
	}
}

// failureText says what a call does at a widget that is not run.
func failureText(spec widgetSpec) string {
	if spec.failEvent == "" {
		return "ends the execution"
	}
	return fmt.Sprintf("takes its %q transition", spec.failEvent)
}

func (v *validator) transitions(st *State, spec widgetSpec, base string) {
	seen := map[string]int{}
	for j, t := range st.Transitions {
		path := fmt.Sprintf("%s/transitions/%d", base, j)
		prop := fmt.Sprintf("transition %q", t.Event)
		switch {
		case t.Event == "":
			v.add(SeverityError, st, fmt.Sprintf("transitions[%d]", j), path+"/event", "event is missing")
			continue
		case !hasEvent(spec.events, t.Event):
			v.add(SeverityError, st, prop, path+"/event", "not an event of %s (want one of %s)", st.Type, strings.Join(spec.events, ", "))
			continue
		}
		if prev, dup := seen[t.Event]; dup && t.Event != "match" {
			v.add(SeverityError, st, prop, path+"/event", "duplicate: transitions[%d] is for the same event", prev)
		}
		seen[t.Event] = j
		if t.Next != "" && v.f.State(t.Next) == nil {
			v.add(SeverityError, st, prop, path+"/next", "next %q does not exist", t.Next)
		}
		if t.Event != "match" {
			if len(t.Conditions) > 0 {
				v.add(SeverityWarning, st, prop, path+"/conditions", "conditions are only used on split-based-on match transitions; ignored")
			}
			continue
		}
		if len(t.Conditions) == 0 {
			v.add(SeverityWarning, st, prop, path+"/conditions", "a match transition without conditions never matches")
		}
		for k, c := range t.Conditions {
			v.condition(st, c, prop, fmt.Sprintf("%s/conditions/%d", path, k))
		}
	}
}

func (v *validator) condition(st *State, c Condition, prop, path string) {
	name := fmt.Sprintf("%s: condition %q", prop, c.FriendlyName)
	if !splitOperators[c.Type] {
		ops := make([]string, 0, len(splitOperators))
		for op := range splitOperators {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		v.add(SeverityError, st, name, path+"/type", "unknown condition type %q (want one of %s)", c.Type, strings.Join(ops, ", "))
		return
	}
	for k, a := range c.Arguments {
		v.liquidSyntax(st, name, fmt.Sprintf("%s/arguments/%d", path, k), a.Value)
	}
	v.liquidSyntax(st, name, path+"/value", c.Value.Value)
	if hasLiquid(c.Value.Value) || c.Type == "is_blank" || c.Type == "is_not_blank" {
		return
	}
	// Check the value with an input that parses, so only the value can fail.
	probe := map[string]string{"less_than": "0", "greater_than": "0", "is_before_date": "2000-01-01",
		"is_after_date": "2000-01-01", "is_before_time": "00:00", "is_after_time": "00:00"}[c.Type]
	if _, err := matchCondition(c.Type, probe, c.Value.Value); err != nil {
		v.add(SeverityError, st, name, path+"/value", "%v", err)
	}
}

func (v *validator) properties(st *State, spec widgetSpec, base string) {
	known := map[string]bool{"offset": true}
	for _, ps := range spec.props {
		known[ps.name] = true
		path := base + "/properties/" + ps.name
		prop := fmt.Sprintf("property %q", ps.name)
		if !st.Properties.Has(ps.name) {
			if ps.required {
				v.add(SeverityError, st, prop, path, "required but missing")
			}
			continue
		}
		raw := st.Properties[ps.name]
		if err := checkKind(ps.kind, raw); err != nil {
			v.add(SeverityError, st, prop, path, "%v", err)
			continue
		}
		if ps.required && ps.kind == pString && strings.TrimSpace(st.Properties.Text(ps.name)) == "" {
			v.add(SeverityError, st, prop, path, "required but empty")
		}
		switch ps.kind {
		case pString, pInt, pBool:
			v.liquidSyntax(st, prop, path, st.Properties.Text(ps.name))
		case pKeyValues:
			kvs, _ := st.Properties.KeyValues(ps.name)
			for k, kv := range kvs {
				v.liquidSyntax(st, fmt.Sprintf("%s: %q", prop, kv.Key), fmt.Sprintf("%s/%d/value", path, k), kv.Value)
			}
		}
	}
	if st.Properties.Has("offset") {
		if _, ok := st.Properties.Offset(); !ok {
			v.add(SeverityWarning, st, `property "offset"`, base+"/properties/offset", "want {\"x\": number, \"y\": number}")
		}
	}
	if spec.open {
		return
	}
	var unknown []string
	for name := range st.Properties {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		v.add(SeverityWarning, st, fmt.Sprintf("property %q", name), base+"/properties/"+name, "not a property of %s; ignored", st.Type)
	}
}

// checkKind checks a property's JSON form.
func checkKind(kind propKind, raw json.RawMessage) error {
	s := strings.TrimSpace(string(raw))
	switch kind {
	case pString:
		if _, ok := scalarText(raw); !ok {
			return fmt.Errorf("want a string, got %s", describeJSON(raw))
		}
	case pInt:
		text, ok := scalarText(raw)
		if !ok {
			return fmt.Errorf("want a whole number, got %s", describeJSON(raw))
		}
		if hasLiquid(text) {
			return nil
		}
		if _, err := strconv.Atoi(strings.TrimSpace(text)); err != nil {
			if f, ferr := strconv.ParseFloat(text, 64); ferr != nil || f != float64(int(f)) {
				return fmt.Errorf("want a whole number, got %s", describeJSON(raw))
			}
		}
	case pBool:
		if text, ok := scalarText(raw); ok && hasLiquid(text) {
			return nil
		}
		if _, _, err := parseBoolJSON(raw); err != nil {
			return err
		}
	case pKeyValues:
		if _, err := (Properties{"p": raw}).KeyValues("p"); err != nil {
			return err
		}
	case pArray:
		if !strings.HasPrefix(s, "[") {
			return fmt.Errorf("want an array, got %s", describeJSON(raw))
		}
	case pObject:
		if !strings.HasPrefix(s, "{") {
			return fmt.Errorf("want an object, got %s", describeJSON(raw))
		}
	}
	return nil
}

// liquidSyntax reports a template that does not parse.
func (v *validator) liquidSyntax(st *State, prop, path, text string) {
	if err := v.liquid.check(text); err != nil {
		v.add(SeverityError, st, prop, path, "Liquid: %v", err)
	}
}

// widgetRules checks what is specific to one widget type.
func (v *validator) widgetRules(st *State, base string) {
	p := st.Properties
	prop := func(name string) (string, string) {
		return fmt.Sprintf("property %q", name), base + "/properties/" + name
	}
	literal := func(name string) (string, bool) {
		s := p.Text(name)
		return s, p.Has(name) && !hasLiquid(s)
	}
	switch st.Type {
	case "say-play":
		if !p.Has("say") && !p.Has("play") && !p.Has("digits") {
			v.add(SeverityWarning, st, "", base+"/properties", "has no say, play or digits: it plays nothing")
		}
	case "fork-stream":
		if strings.EqualFold(p.Text("stream_transport_type"), "siprec") {
			v.add(SeverityWarning, st, "stream_transport_type", base+"/properties/stream_transport_type",
				"SIPREC streams are not supported by this gateway: the widget is skipped")
		} else if p.Text("stream_action") == "start" && strings.TrimSpace(p.Text("stream_url")) == "" {
			v.add(SeverityError, st, "stream_url", base+"/properties/stream_url", "is required to start a stream")
		}
	case "connect-call-to":
		noun := p.Text("noun")
		switch noun {
		case "number", "number-multi", "client":
			if strings.TrimSpace(p.Text("to")) == "" {
				n, path := prop("to")
				v.add(SeverityError, st, n, path, "required for noun %q", noun)
			}
		case "sip":
			if strings.TrimSpace(p.Text("sip_endpoint")) == "" {
				n, path := prop("sip_endpoint")
				v.add(SeverityError, st, n, path, "required for noun \"sip\"")
			}
		case "conference", "sim":
			n, path := prop("noun")
			v.add(SeverityWarning, st, n, path, "connecting to a %s is not supported by this gateway yet: a call reaching it ends with an error message", noun)
		case "":
		default:
			n, path := prop("noun")
			v.add(SeverityError, st, n, path, "unknown noun %q (want number, number-multi, client, sip, conference or sim)", noun)
		}
	case "enqueue-call":
		if strings.TrimSpace(p.Text("queue_name")) == "" && strings.TrimSpace(p.Text("workflow_sid")) == "" {
			v.add(SeverityError, st, `property "queue_name"`, base+"/properties", "an enqueue-call needs queue_name or workflow_sid")
		}
		if s, ok := literal("queue_name"); ok && len(s) > 64 {
			n, path := prop("queue_name")
			v.add(SeverityError, st, n, path, "%d characters: at most 64", len(s))
		}
		v.jsonObject(st, "task_attributes", base)
		v.method(st, "wait_url_method", base)
	case "send-to-flex":
		v.jsonObject(st, "attributes", base)
		v.method(st, "waitUrlMethod", base)
	case "make-http-request":
		v.method(st, "method", base)
		if s, ok := literal("content_type"); ok && !strings.HasPrefix(s, "application/x-www-form-urlencoded") && !strings.HasPrefix(s, "application/json") {
			n, path := prop("content_type")
			v.add(SeverityWarning, st, n, path, "%q: Studio sends application/x-www-form-urlencoded or application/json", s)
		}
	case "run-subflow":
		if s, ok := literal("flow_revision"); ok && s != "LatestPublished" && s != "LatestDraft" {
			if n, err := strconv.Atoi(s); err != nil || n < 1 {
				n, path := prop("flow_revision")
				v.add(SeverityError, st, n, path, "%q: want LatestPublished, LatestDraft or a revision number", s)
			}
		}
	case "add-twiml-redirect":
		v.method(st, "method", base)
		if s, ok := literal("timeout"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && (n < 0 || n > 14400) {
				n2, path := prop("timeout")
				v.add(SeverityError, st, n2, path, "%d: want 0 to 14400 seconds", n)
			}
		}
	case "record-voicemail":
		if s, ok := literal("max_length"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && (n < 1 || n > 14400) {
				n2, path := prop("max_length")
				v.add(SeverityError, st, n2, path, "%d: want 1 to 14400 seconds", n)
			}
		}
		if s, ok := literal("trim"); ok && s != "trim-silence" && s != "do-not-trim" {
			n, path := prop("trim")
			v.add(SeverityError, st, n, path, "%q: want trim-silence or do-not-trim", s)
		}
	}
}

// jsonObject checks a property that must hold a JSON object once rendered
// (checked only when it has no Liquid).
func (v *validator) jsonObject(st *State, name, base string) {
	s := strings.TrimSpace(st.Properties.Text(name))
	if s == "" || hasLiquid(s) {
		return
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		v.add(SeverityError, st, fmt.Sprintf("property %q", name), base+"/properties/"+name, "want a JSON object: %v", err)
	}
}

// method checks an HTTP method property (GET or POST).
func (v *validator) method(st *State, name, base string) {
	s := st.Properties.Text(name)
	if s == "" || hasLiquid(s) {
		return
	}
	if m := strings.ToUpper(s); m != "GET" && m != "POST" {
		v.add(SeverityError, st, fmt.Sprintf("property %q", name), base+"/properties/"+name, "%q: want GET or POST", s)
	}
}

// reachability warns about states no transition leads to.
func (v *validator) reachability() {
	if v.f.State(v.f.InitialState) == nil {
		return
	}
	seen := map[string]bool{v.f.InitialState: true}
	queue := []string{v.f.InitialState}
	for len(queue) > 0 {
		st := v.f.State(queue[0])
		queue = queue[1:]
		if st == nil {
			continue
		}
		for _, t := range st.Transitions {
			if t.Next != "" && !seen[t.Next] {
				seen[t.Next] = true
				queue = append(queue, t.Next)
			}
		}
	}
	for i := range v.f.States {
		st := &v.f.States[i]
		if st.Name != "" && !seen[st.Name] {
			v.add(SeverityWarning, st, "", fmt.Sprintf("#/states/%d", i), "no transition leads here: the widget never runs")
		}
	}
}
