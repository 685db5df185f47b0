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
