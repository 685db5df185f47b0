package mediastream

import (
	"encoding/json"
	"testing"
)

// FuzzParseInbound feeds arbitrary server messages to the parser: it must
// never panic, and what it accepts must be one of the three events, for
// this stream, with media audio of the decoded length.
func FuzzParseInbound(f *testing.F) {
	const sid = "MZ0123456789abcdef0123456789abcdef"
	for _, seed := range []string{
		`{"event":"media","streamSid":"` + sid + `","media":{"payload":"f39/fw=="}}`,
		`{"event":"mark","streamSid":"` + sid + `","mark":{"name":"x"}}`,
		`{"event":"clear","streamSid":"` + sid + `"}`,
		`{"event":"media","streamSid":"` + sid + `","media":{"payload":"!!"}}`,
		`{"event":"mark","streamSid":"MZother","mark":{"name":"x"}}`,
		`{"event":"dance"}`, `not json`, `{}`, `[]`, `{"event":"clear","streamSid":"` + sid + `"} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, audio, err := parseInbound(data, sid)
		if err != nil {
			return
		}
		if m.StreamSID != sid || !json.Valid(data) {
			t.Fatalf("accepted %q", data)
		}
		switch m.Event {
		case "media":
			if m.Media == nil || len(audio) > len(m.Media.Payload) {
				t.Fatalf("media %q gave %d bytes", data, len(audio))
			}
		case "mark":
			if m.Mark == nil {
				t.Fatalf("mark without a mark: %q", data)
			}
		case "clear":
		default:
			t.Fatalf("accepted event %q", m.Event)
		}
	})
}
