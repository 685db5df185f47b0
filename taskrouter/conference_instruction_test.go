package taskrouter

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestConferenceInstructionParams checks a reservation update with
// Instruction=conference carries the room settings Flex sends, and refuses
// values Twilio refuses.
func TestConferenceInstructionParams(t *testing.T) {
	parse := func(form url.Values) (ReservationParams, error) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := req.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return reservationParams(req)
	}
	p, err := parse(url.Values{"Instruction": {"conference"}, "To": {"client:alice"}, "From": {"+15550001000"}, "Timeout": {"12"}})
	if err != nil || p.Instruction.Instruction != "conference" || p.Instruction.To != "client:alice" || p.Instruction.Timeout != 12 {
		t.Fatalf("plain conference instruction: %+v, %v", p.Instruction, err)
	}
	if p.Instruction.Conference != nil {
		t.Errorf("no room settings given, got %+v", *p.Instruction.Conference)
	}

	p, err = parse(url.Values{
		"Instruction":                             {"conference"},
		"ConferenceStatusCallback":                {"https://app.example/conf"},
		"ConferenceStatusCallbackMethod":          {"get"},
		"ConferenceStatusCallbackEvent":           {"start", "end", "join leave", "join"},
		"ConferenceRecord":                        {"record-from-start"},
		"ConferenceRecordingStatusCallback":       {"https://app.example/rec"},
		"ConferenceRecordingStatusCallbackMethod": {"POST"},
		"EndConferenceOnExit":                     {"true"},
		"EndConferenceOnCustomerExit":             {"false"},
		"BeepOnCustomerEntrance":                  {"true"},
		"Beep":                                    {"onExit"},
		"Muted":                                   {"false"},
		"MaxParticipants":                         {"10"},
		"ConferenceTrim":                          {"trim-silence"},
		"RecordingChannels":                       {"dual"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := ConferenceOptions{
		StatusCallback: "https://app.example/conf", StatusCallbackMethod: "GET",
		StatusCallbackEvents: []string{"start", "end", "join", "leave"},
		Record:               true, RecordingStatusCallback: "https://app.example/rec", RecordingStatusCallbackMethod: "POST",
		EndConferenceOnExit: true, BeepOnCustomerEntrance: true, Beep: "onExit", MaxParticipants: 10,
		Ignored: []string{"EndConferenceOnCustomerExit=false", "ConferenceTrim", "RecordingChannels"},
	}
	if got := p.Instruction.Conference; got == nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("room settings\n got %+v\nwant %+v", got, want)
	}

	p, err = parse(url.Values{"Instruction": {"conference"}, "ConferenceRecord": {"false"}})
	if err != nil || p.Instruction.Conference == nil || p.Instruction.Conference.Record {
		t.Errorf("ConferenceRecord=false: %+v, %v", p.Instruction.Conference, err)
	}

	for _, bad := range []url.Values{
		{"ConferenceStatusCallbackMethod": {"PUT"}},
		{"ConferenceStatusCallbackEvent": {"start ringing"}},
		{"ConferenceRecord": {"yes"}},
		{"EndConferenceOnExit": {"1"}},
		{"BeepOnCustomerEntrance": {"maybe"}},
		{"Beep": {"loud"}},
		{"MaxParticipants": {"1"}},
		{"MaxParticipants": {"251"}},
	} {
		bad.Set("Instruction", "conference")
		if _, err := parse(bad); err == nil {
			t.Errorf("%v: accepted, want a refusal", bad)
		}
	}
	// Other instructions do not read the conference parameters.
	p, err = parse(url.Values{"Instruction": {"dequeue"}, "DequeueTo": {"client:bob"}, "ConferenceRecord": {"yes"}})
	if err != nil || p.Instruction.Conference != nil {
		t.Errorf("dequeue with a conference parameter: %+v, %v", p.Instruction, err)
	}
}

// TestConferenceInstructionJSON checks an assignment callback's JSON
// conference instruction carries the same settings (snake_case keys,
// booleans, numbers and lists) into the reservation update.
func TestConferenceInstructionJSON(t *testing.T) {
	body := []byte(`{"instruction":"conference","to":"client:alice","timeout":20,
		"conference_status_callback":"https://app.example/conf","conference_status_callback_event":["start","end"],
		"conference_record":"true","end_conference_on_exit":true,"beep_on_customer_entrance":false,
		"max_participants":6,"conference_trim":"trim-silence"}`)
	o, err := conferenceOptionsJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	want := ConferenceOptions{StatusCallback: "https://app.example/conf", StatusCallbackEvents: []string{"start", "end"},
		Record: true, EndConferenceOnExit: true, MaxParticipants: 6, Ignored: []string{"ConferenceTrim"}}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("settings\n got %+v\nwant %+v", *o, want)
	}
	p := instructionParams(instruction{Instruction: "conference", To: "client:alice", Conference: o})
	if p.Instruction.Conference != o || p.Instruction.To != "client:alice" {
		t.Errorf("reservation update %+v", p.Instruction)
	}
	if _, err := conferenceOptionsJSON([]byte(`{"instruction":"conference","end_conference_on_exit":"sometimes"}`)); err == nil {
		t.Error("a bad end_conference_on_exit was accepted")
	}
	if got := camelName("conference_recording_status_callback_method"); got != "ConferenceRecordingStatusCallbackMethod" {
		t.Errorf("camelName = %q", got)
	}
}
