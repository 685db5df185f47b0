package taskrouter

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ConferenceOptions are the settings of a "conference" instruction's room
// that Voxgate's agent rooms carry out: the Flex reservation update's
// parameters of the same meaning (Twilio's names in the comments). The
// zero value is the desktop's defaults (no callbacks, no recording, no
// beeps, the caller's leaving ends the room).
type ConferenceOptions struct {
	// The room's status callbacks: ConferenceStatusCallback,
	// ConferenceStatusCallbackMethod, ConferenceStatusCallbackEvent
	// (start end join leave mute hold modify speaker; none = Twilio's
	// default for a room, which sends none).
	StatusCallback, StatusCallbackMethod string
	StatusCallbackEvents                 []string
	// Record records the room from its start (ConferenceRecord true or
	// record-from-start); its recording's callback is
	// ConferenceRecordingStatusCallback and …Method.
	Record                                                 bool
	RecordingStatusCallback, RecordingStatusCallbackMethod string
	// EndConferenceOnExit: the worker's leaving ends the room for
	// everyone (the caller's call then goes on after its <Enqueue>).
	EndConferenceOnExit bool
	// BeepOnCustomerEntrance: the room beeps as the caller joins.
	BeepOnCustomerEntrance bool
	// Beep is the worker's beep (true, false, onEnter, onExit; "" =
	// none, the desktop's default).
	Beep string
	// Muted: the worker joins listening only.
	Muted bool
	// MaxParticipants caps the room (0: the conference default).
	MaxParticipants int
	// Ignored lists the parameters given that Voxgate does not carry out
	// (for a log line): ConferenceTrim, RecordingChannels,
	// RecordingStatusCallback (a worker call recording),
	// EndConferenceOnCustomerExit=false (the caller's leaving always ends
	// the room), WaitUrl, EarlyMedia, Region, …
	Ignored []string
}

// conferenceEvents are the ConferenceStatusCallbackEvent values.
var conferenceEvents = []string{"start", "end", "join", "leave", "mute", "hold", "modify", "speaker"}

// conferenceIgnored are conference instruction parameters that are
// accepted and not carried out.
var conferenceIgnored = []string{"ConferenceTrim", "RecordingChannels", "RecordingStatusCallback",
	"RecordingStatusCallbackMethod", "Record", "WaitUrl", "WaitMethod", "EarlyMedia", "Region",
	"ConferenceRecordingStatusCallbackEvent", "SipAuthUsername", "SipAuthPassword",
	"DistributeOriginalCallerTo", "StartConferenceOnEnter", "StatusCallback", "StatusCallbackMethod",
	"StatusCallbackEvent", "Supervisor", "SupervisorMode"}

// conferenceOptions reads a conference instruction's room settings from
// a reservation update's form. It returns nil when none is given, and an
// error for a value Twilio would refuse.
func conferenceOptions(f url.Values) (*ConferenceOptions, error) {
	var o ConferenceOptions
	given := false
	str := func(name string, dst *string) {
		if v := f.Get(name); v != "" {
			*dst, given = v, true
		}
	}
	str("ConferenceStatusCallback", &o.StatusCallback)
	str("ConferenceRecordingStatusCallback", &o.RecordingStatusCallback)
	for _, m := range []struct {
		name string
		dst  *string
	}{
		{"ConferenceStatusCallbackMethod", &o.StatusCallbackMethod},
		{"ConferenceRecordingStatusCallbackMethod", &o.RecordingStatusCallbackMethod},
	} {
		name, dst := m.name, m.dst
		switch v := strings.ToUpper(f.Get(name)); v {
		case "":
		case "GET", "POST":
			*dst, given = v, true
		default:
			return nil, errInvalid("%s must be GET or POST, not %q", name, f.Get(name))
		}
	}
	for _, v := range f["ConferenceStatusCallbackEvent"] {
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
			if !slices.Contains(conferenceEvents, e) {
				return nil, errInvalid("ConferenceStatusCallbackEvent %q is not one of %s", e, strings.Join(conferenceEvents, " "))
			}
			if !slices.Contains(o.StatusCallbackEvents, e) {
				o.StatusCallbackEvents = append(o.StatusCallbackEvents, e)
			}
			given = true
		}
	}
	switch v := f.Get("ConferenceRecord"); v {
	case "":
	case "true", "record-from-start":
		o.Record, given = true, true
	case "false", "do-not-record":
		given = true
	default:
		return nil, errInvalid("ConferenceRecord %q is not true, false, record-from-start or do-not-record", v)
	}
	boolean := func(name string, dst *bool) error {
		v := f.Get(name)
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			return errInvalid("%s must be true or false, not %q", name, v)
		}
		*dst, given = b, true
		return nil
	}
	if err := boolean("EndConferenceOnExit", &o.EndConferenceOnExit); err != nil {
		return nil, err
	}
	if err := boolean("BeepOnCustomerEntrance", &o.BeepOnCustomerEntrance); err != nil {
		return nil, err
	}
	if err := boolean("Muted", &o.Muted); err != nil {
		return nil, err
	}
	endOnCustomerExit := true
	if err := boolean("EndConferenceOnCustomerExit", &endOnCustomerExit); err != nil {
		return nil, err
	}
	if !endOnCustomerExit {
		o.Ignored = append(o.Ignored, "EndConferenceOnCustomerExit=false")
	}
	switch v := f.Get("Beep"); v {
	case "":
	case "true", "false", "onEnter", "onExit":
		o.Beep, given = v, true
	default:
		return nil, errInvalid("Beep %q is not true, false, onEnter or onExit", v)
	}
	if v := f.Get("MaxParticipants"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 250 {
			return nil, errInvalid("MaxParticipants must be 2-250, not %q", v)
		}
		o.MaxParticipants, given = n, true
	}
	for _, name := range conferenceIgnored {
		if f.Get(name) != "" {
			o.Ignored = append(o.Ignored, name)
		}
	}
	if !given && len(o.Ignored) == 0 {
		return nil, nil
	}
	return &o, nil
}

// conferenceOptionsJSON reads the same settings from an assignment
// callback's JSON conference instruction, whose keys are snake_case
// (conference_status_callback, end_conference_on_exit, …) and whose
// values may be strings, booleans, numbers or lists of strings.
func conferenceOptionsJSON(body []byte) (*ConferenceOptions, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("the answer is not an instruction JSON object: %w", err)
	}
	f := url.Values{}
	for k, v := range m {
		name := camelName(k)
		switch v := v.(type) {
		case string:
			f.Add(name, v)
		case bool:
			f.Add(name, strconv.FormatBool(v))
		case float64:
			f.Add(name, strconv.FormatFloat(v, 'f', -1, 64))
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					f.Add(name, s)
				}
			}
		}
	}
	return conferenceOptions(f)
}

// camelName turns a snake_case JSON key into the form parameter's name:
// conference_status_callback → ConferenceStatusCallback.
func camelName(k string) string {
	var b strings.Builder
	for _, part := range strings.Split(k, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
